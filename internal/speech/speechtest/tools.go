package speechtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// RequireEnv is the environment variable that turns a skip for a missing
// tool into a failure; CI sets it to 1 so that it cannot pass without audio.
const RequireEnv = "VISIO_REQUIRE_TEST_SERVICES"

// tool is a program the audio is made with, and the Debian package that
// provides it.
type tool struct {
	name, pkg string
}

var (
	espeak  = tool{"espeak-ng", "espeak-ng"}
	sox     = tool{"sox", "sox"}
	opusenc = tool{"opusenc", "opus-tools"}
)

// requireTools skips the test when a tool is missing, or fails it when
// RequireEnv is set.
func requireTools(tb testing.TB, tools ...tool) {
	tb.Helper()
	var missing, pkgs []string
	for _, tl := range tools {
		if _, err := exec.LookPath(tl.name); err != nil {
			missing = append(missing, tl.name)
			pkgs = append(pkgs, tl.pkg)
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := fmt.Sprintf("test audio needs %s: install with `apt-get install %s` (or run scripts/deps.sh)",
		strings.Join(missing, ", "), strings.Join(pkgs, " "))
	if os.Getenv(RequireEnv) == "1" {
		tb.Fatalf("%s; %s=1 makes this a failure", msg, RequireEnv)
	}
	tb.Skip(msg)
}

// run runs a tool and fails the test with its output if it fails.
func run(tb testing.TB, tl tool, args ...string) []byte {
	tb.Helper()
	cmd := exec.CommandContext(tb.Context(), tl.name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("%s %s: %v: %s", tl.name, strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

// cacheKey hashes everything the audio depends on, the tools' versions
// included, so that an upgraded espeak-ng makes new files instead of tests
// silently using old ones.
func cacheKey(tb testing.TB, parts []string, tools ...tool) string {
	tb.Helper()
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s\n", len(p), p)
	}
	for _, tl := range tools {
		h.Write(run(tb, tl, "--version"))
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// cacheDir returns the directory where made audio is kept between runs.
func cacheDir(tb testing.TB) string {
	tb.Helper()
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
		tb.Logf("no user cache directory (%v); keeping test audio in %s", err, base)
	}
	dir := filepath.Join(base, "visio-test-audio")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatalf("test audio cache: %v", err)
	}
	return dir
}

// publish moves a finished file or directory made under a temporary name to
// its cache name. Another test process may have finished first; its result
// is the same, so it is kept and ours is dropped.
func publish(tb testing.TB, tmp, final string) {
	tb.Helper()
	if err := os.Rename(tmp, final); err != nil {
		if _, statErr := os.Stat(final); statErr != nil {
			tb.Fatalf("test audio cache: %v", err)
		}
		os.RemoveAll(tmp)
	}
}
