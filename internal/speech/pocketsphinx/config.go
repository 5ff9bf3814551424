// Package pocketsphinx is a speech.Streamer on CMU pocketsphinx (Debian's
// 0.8+5prealpha, through cgo) with its US-English model. It is English only
// and inaccurate on real meetings; it exists so that Visio's captions can be
// tried, and tested end to end, with nothing but Debian packages.
//
// The cgo code is built only with -tags pocketsphinx; without it, New
// returns an error wrapping speech.ErrUnavailable, so that the server
// builds without cgo.
//
// The library ends the process on some damaged model files (a corrupt
// acoustic model, for one); New checks that the files are there, not that
// they are sound, so use the files of the Debian package.
package pocketsphinx

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/visio-meet/visio/internal/speech"
)

// DefaultModelDir is where Debian's pocketsphinx-en-us installs the model.
const DefaultModelDir = "/usr/share/pocketsphinx/model/en-us"

// defaultDecoders is the default size of the pool used by Transcribe.
// Each decoder holds its own copy of the language model (about 90 MB).
const defaultDecoders = 2

// Config configures an Engine.
type Config struct {
	// ModelDir holds the acoustic model directory en-us, the language
	// model en-us.lm.bin and the dictionary cmudict-en-us.dict; default
	// DefaultModelDir.
	ModelDir string
	// Decoders is how many utterances Transcribe decodes at once, and
	// how many loaded decoders are kept for reuse; default 2.
	Decoders int
	// Logger receives the engine's events; default slog.Default().
	Logger *slog.Logger
}

// model is the resolved paths of the model files.
type model struct {
	dir                                 string
	acoustic, languageModel, dictionary string
}

// withDefaults fills in the defaults and checks the values.
func (c Config) withDefaults() (Config, error) {
	if c.ModelDir == "" {
		c.ModelDir = DefaultModelDir
	}
	switch {
	case c.Decoders == 0:
		c.Decoders = defaultDecoders
	case c.Decoders < 0:
		return c, fmt.Errorf("pocketsphinx: Decoders is %d: set a positive number, or 0 for the default of %d",
			c.Decoders, defaultDecoders)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// findModel checks that the files the decoder loads exist, because the
// library's own message on a missing file is vague and, with its log
// silenced, not seen.
func findModel(dir string) (model, error) {
	m := model{
		dir:           dir,
		acoustic:      filepath.Join(dir, "en-us"),
		languageModel: filepath.Join(dir, "en-us.lm.bin"),
		dictionary:    filepath.Join(dir, "cmudict-en-us.dict"),
	}
	required := []string{m.languageModel, m.dictionary}
	for _, name := range []string{"mdef", "means", "variances", "transition_matrices", "noisedict", "feat.params"} {
		required = append(required, filepath.Join(m.acoustic, name))
	}
	for _, path := range required {
		info, err := os.Stat(path)
		if err == nil && info.Mode().IsRegular() {
			continue
		}
		reason := "is missing"
		switch {
		case err == nil:
			reason = "is not a regular file"
		case !errors.Is(err, os.ErrNotExist):
			reason = "cannot be read (" + err.Error() + ")"
		}
		return m, fmt.Errorf("pocketsphinx: %w: model file %s %s: install the Debian package pocketsphinx-en-us, "+
			"or point ModelDir at a directory with en-us/, en-us.lm.bin and cmudict-en-us.dict",
			speech.ErrUnavailable, path, reason)
	}
	return m, nil
}
