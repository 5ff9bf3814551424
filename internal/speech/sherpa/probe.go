package sherpa

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/visio-meet/visio/internal/speech/models"
)

// Probe runs exe with args, a check of the model named by the last
// argument (see CheckArgs), and turns a crash, a non-zero exit or a hang
// into an error naming that model. Without a deadline in ctx the check gets
// two minutes.
func Probe(ctx context.Context, exe string, args []string) error {
	return probe(ctx, exe, args, defaultProbeTimeout)
}

func probe(ctx context.Context, exe string, args []string, timeout time.Duration) error {
	target, name := "model", "NAME"
	if len(args) > 0 {
		path := args[len(args)-1]
		target = "model " + path
		if strings.HasSuffix(path, ".onnx") {
			path = filepath.Dir(path)
		}
		name = filepath.Base(path)
	}
	if timeout <= 0 {
		timeout = defaultProbeTimeout
	}
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(tctx, exe, args...)
	out := &output{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("check of %s: %w", target, ctx.Err())
	}
	message, crash := out.summary()
	var how string
	var exit *exec.ExitError
	switch {
	case tctx.Err() != nil:
		how = fmt.Sprintf("it took longer than %v", timeout)
	case crash != "":
		how = "it crashed with " + crash
	case errors.As(err, &exit):
		how = "it ended with " + exit.ProcessState.String()
	default:
		return fmt.Errorf("cannot check %s: the check program %s did not start: %w", target, exe, err)
	}
	if message != "" {
		message = ": " + message
	}
	return fmt.Errorf("%w: %s failed its check in a separate process (%s)%s; it is damaged or not a model of the kind configured: install it again with `visio models pull %s`, or configure another model",
		ErrModelRejected, target, how, message, name)
}

// output keeps what a child printed: the start, where the native library
// says what went wrong, and the end.
type output struct {
	head, tail []byte
}

const outputKept = 8 << 10

func (o *output) Write(p []byte) (int, error) {
	n := len(p)
	if room := outputKept - len(o.head); room > 0 {
		take := min(room, len(p))
		o.head = append(o.head, p[:take]...)
		p = p[take:]
	}
	o.tail = append(o.tail, p...)
	if len(o.tail) > outputKept {
		o.tail = o.tail[len(o.tail)-outputKept:]
	}
	return n, nil
}

// summary returns the last lines the child printed before it crashed, and
// the signal of the crash when the Go runtime reported one (it turns a
// native abort into a stack dump and exit status 2).
func (o *output) summary() (message, crash string) {
	text := string(o.head)
	if len(o.tail) > 0 {
		text += "\n" + string(o.tail)
	}
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if sig, _, ok := strings.Cut(l, ": "); ok && strings.HasPrefix(sig, "SIG") && !strings.ContainsRune(sig, ' ') {
			crash = sig
			break
		}
		if strings.HasPrefix(l, "fatal error:") || strings.HasPrefix(l, "goroutine ") {
			break
		}
		if l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > 3 {
		lines = lines[len(lines)-3:]
	}
	message = strings.Join(lines, " / ")
	if len(message) > 600 {
		message = message[len(message)-600:]
	}
	return message, crash
}

// vetter makes sure a model can be loaded in this process.
type vetter struct {
	probe Prober
	log   *slog.Logger
}

func newVetter(p Prober, log *slog.Logger) vetter {
	if p == nil {
		p = ExecProber("")
	}
	return vetter{probe: p, log: logger(log)}
}

// vet checks the model's files against its manifest, then loads it in a
// child process unless files with the same hashes passed before.
func (v vetter) vet(ctx context.Context, f modelFiles, target string) error {
	hashes, err := fileHashes(f)
	if err != nil {
		return err
	}
	fp := fingerprint(f, hashes)
	cache := filepath.Join(f.Dir, probeCacheName)
	if slices.Contains(readProbeCache(cache), fp) {
		v.log.Debug("speech model passed its check before", "model", target)
		return nil
	}
	start := time.Now()
	if err := v.probe(ctx, string(f.Kind), target); err != nil {
		return err
	}
	v.log.Info("speech model checked in a separate process", "model", target, "kind", f.Kind, "took", time.Since(start).Round(time.Millisecond))
	if err := rememberProbe(cache, fp); err != nil {
		// A read-only model directory only costs a check at each start.
		v.log.Debug("cannot remember the model check", "model", target, "err", err)
	}
	return nil
}

// fileHashes returns the SHA-256 of each loaded file, checking them against
// the model's manifest when it has one.
func fileHashes(f modelFiles) (map[string]string, error) {
	man, err := models.Verify(f.Dir)
	switch {
	case err == nil, errors.Is(err, models.ErrNoManifest):
	default:
		return nil, fmt.Errorf("%w: %w", ErrModelRejected, err)
	}
	out := map[string]string{}
	for _, p := range f.paths() {
		rel, rerr := filepath.Rel(f.Dir, p)
		if h := man.Hash(filepath.ToSlash(rel)); rerr == nil && h != "" {
			out[p] = h
			continue
		}
		h, err := models.HashFile(p)
		if err != nil {
			return nil, fmt.Errorf("%w: read the model: %v", ErrModelRejected, err)
		}
		out[p] = h.SHA256
	}
	return out, nil
}

// fingerprint names what a probe checked: the library, the kind and the
// content of each file in its role.
func fingerprint(f modelFiles, hashes map[string]string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n", Library, f.Kind)
	for _, role := range [][2]string{{"vad", f.VAD}, {"encoder", f.Encoder}, {"decoder", f.Decoder}, {"joiner", f.Joiner}, {"tokens", f.Tokens}} {
		if role[1] != "" {
			fmt.Fprintf(h, "%s %s\n", role[0], hashes[role[1]])
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// probeCacheName is the file, in a model's directory, that lists the
// fingerprints of passed probes. Its ".visio-" prefix keeps it out of
// manifests.
const probeCacheName = ".visio-probe.json"

// maxRemembered bounds the probe cache: a few library upgrades.
const maxRemembered = 8

type probeCache struct {
	Passed []string `json:"passed"`
}

func readProbeCache(name string) []string {
	data, err := os.ReadFile(name)
	if err != nil || len(data) > 64<<10 {
		return nil
	}
	var c probeCache
	if json.Unmarshal(data, &c) != nil {
		return nil
	}
	return c.Passed
}

func rememberProbe(name, fp string) error {
	passed := append(readProbeCache(name), fp)
	if len(passed) > maxRemembered {
		passed = passed[len(passed)-maxRemembered:]
	}
	data, err := json.Marshal(probeCache{Passed: passed})
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), ".visio-probe-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}
