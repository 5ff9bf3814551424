package pocketsphinx

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/visio-meet/visio/internal/speech"
)

func TestFindModelNamesTheMissingFile(t *testing.T) {
	dir := t.TempDir()
	// Everything but the dictionary.
	if err := os.Mkdir(filepath.Join(dir, "en-us"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"en-us.lm.bin", "en-us/mdef", "en-us/means", "en-us/variances",
		"en-us/transition_matrices", "en-us/noisedict", "en-us/feat.params"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err := findModel(dir)
	if !errors.Is(err, speech.ErrUnavailable) {
		t.Fatalf("findModel = %v, want an error wrapping speech.ErrUnavailable", err)
	}
	for _, want := range []string{filepath.Join(dir, "cmudict-en-us.dict"), "pocketsphinx-en-us"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}

	if err := os.WriteFile(filepath.Join(dir, "cmudict-en-us.dict"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := findModel(dir); err != nil {
		t.Errorf("with every file present: %v", err)
	}
}

func TestFindModelRejectsDirectoryInPlaceOfFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "en-us.lm.bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := findModel(dir)
	if err == nil || !strings.Contains(err.Error(), "en-us.lm.bin is not a regular file") {
		t.Errorf("findModel = %v, want an error saying en-us.lm.bin is not a file", err)
	}
}

func TestConfigDefaults(t *testing.T) {
	cfg, err := Config{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ModelDir != DefaultModelDir || cfg.Decoders != defaultDecoders || cfg.Logger == nil {
		t.Errorf("defaults = %+v", cfg)
	}
	if _, err := (Config{Decoders: -1}).withDefaults(); err == nil {
		t.Error("Decoders -1 accepted")
	}
}
