package models

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func run(t *testing.T, c CLI, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	c.Out, c.Err = &out, &errOut
	err := c.Run(context.Background(), args)
	return out.String() + errOut.String(), err
}

func TestCLIPullsAModelTheCatalogLacks(t *testing.T) {
	srv := newServer(t)
	data := testArchive(t)
	url := srv.put("/fr.tgz", data)
	dir := t.TempDir()
	c := CLI{Dir: dir}
	out, err := run(t, c, "pull", "--name", "zipformer-fr", "--kind", "asr-streaming", "--language", "fr",
		"--url", url, "--sha256", strings.ToUpper(sum(data)))
	if err != nil {
		t.Fatalf("pull: %v\n%s", err, out)
	}
	man, err := Verify(filepath.Join(dir, "zipformer-fr"))
	if err != nil || man.Kind != Streaming || man.Language != "fr" {
		t.Fatalf("installed manifest %+v, %v", man, err)
	}

	out, err = run(t, c, "list")
	if err != nil || !regexpLine(out, "zipformer-fr", "asr-streaming", "ok") {
		t.Fatalf("list: %v\n%s", err, out)
	}

	// Damaged, it is named as such, and `pull NAME` fetches it again from
	// the address its manifest keeps.
	os.WriteFile(filepath.Join(dir, "zipformer-fr", "pkg", "model.onnx"), []byte("broken"), 0o644)
	out, err = run(t, c, "verify", "zipformer-fr")
	if err == nil || !strings.Contains(err.Error(), "pkg/model.onnx has changed") {
		t.Fatalf("verify of a damaged model: %v\n%s", err, out)
	}
	out, _ = run(t, c, "list")
	if !regexpLine(out, "zipformer-fr", "corrupt") {
		t.Fatalf("list does not show the damage:\n%s", out)
	}
	if out, err := run(t, c, "pull", "zipformer-fr"); err != nil {
		t.Fatalf("pull again: %v\n%s", err, out)
	}
	if out, err := run(t, c, "verify", "zipformer-fr"); err != nil || !strings.Contains(out, "zipformer-fr: ok") {
		t.Fatalf("verify after pulling again: %v\n%s", err, out)
	}
}

// regexpLine reports whether one line of out holds all the words, in order.
func regexpLine(out string, words ...string) bool {
	for _, line := range strings.Split(out, "\n") {
		rest, ok := line, true
		for _, w := range words {
			i := strings.Index(rest, w)
			if i < 0 {
				ok = false
				break
			}
			rest = rest[i+len(w):]
		}
		if ok {
			return true
		}
	}
	return false
}

func TestCLIRefusesIncompleteCommands(t *testing.T) {
	c := CLI{Dir: t.TempDir()}
	for _, args := range [][]string{
		nil,
		{"frobnicate"},
		{"pull"},
		{"pull", "--url", "https://example.org/m.onnx", "--name", "m"},
		{"verify"},
		{"check", "/some/dir"},
		{"pull", "--nonsense"},
	} {
		if _, err := run(t, c, args...); !errors.Is(err, ErrUsage) {
			t.Errorf("%q: error %v, want a usage error", args, err)
		}
	}
	if _, err := run(t, c, "pull", "no-such-model"); err == nil || !strings.Contains(err.Error(), "visio models known") {
		t.Errorf("pull of an unknown model: %v", err)
	}
}

func TestCLICheckNeedsAnEngine(t *testing.T) {
	c := CLI{Dir: t.TempDir()}
	if _, err := run(t, c, "check", "--kind", "vad", "/x"); err == nil || !strings.Contains(err.Error(), "-tags sherpa") {
		t.Fatalf("check without an engine: %v", err)
	}
	var gotKind, gotDir string
	c.Check = func(kind, dir string) error { gotKind, gotDir = kind, dir; return nil }
	if _, err := run(t, c, "check", "/models/vad", "--kind", "vad"); err != nil || gotKind != "vad" || gotDir != "/models/vad" {
		t.Fatalf("check ran with %q %q: %v", gotKind, gotDir, err)
	}
	if _, err := run(t, c, "check", "--kind", "tts", "/x"); err == nil {
		t.Fatal("check accepted an unknown kind")
	}
}

func TestCLIKnownListsTheCatalog(t *testing.T) {
	out, err := run(t, CLI{Dir: t.TempDir()}, "known")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range Known() {
		if !regexpLine(out, m.Name, string(m.Kind)) {
			t.Errorf("known does not list %s:\n%s", m.Name, out)
		}
	}
}
