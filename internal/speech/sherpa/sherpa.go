// Package sherpa runs speech models inside the server with sherpa-onnx:
// Silero voice activity detection for each track, and Whisper (whole
// utterances) or streaming transducer (live partials) speech-to-text.
//
// It needs cgo and the build tag "sherpa". Without the tag the package
// still compiles, and its constructors return errors wrapping
// speech.ErrUnavailable that say how to build it.
//
// A model file that exists but is damaged, or is a valid model of another
// kind, makes the native library end the whole process (exit or abort). So
// before a model is first loaded here it is checked twice: its files
// against the manifest written by `visio models pull` (models.Verify), and
// by loading it once in a child process (Probe). A passed probe is
// remembered by the hashes of the files it loaded, so it runs again only
// when they change.
package sherpa

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/visio-meet/visio/internal/speech/models"
)

// Config configures a speech-to-text Engine.
type Config struct {
	// ModelDir is the directory the models are installed in (where
	// `visio models pull` puts them).
	ModelDir string
	// Model is the name of the model's directory in ModelDir. "" picks
	// the only speech-to-text model there, or ModelDir itself when it is
	// a model's directory.
	Model string
	// Kind overrides what the model is; "" reads it from the manifest,
	// or guesses it from the files (a joiner: streaming; none: Whisper).
	Kind    models.Kind
	Threads int // for the neural network; default 2
	Logger  *slog.Logger
	// Prober checks the model in a child process before it is loaded
	// here; nil uses ExecProber(""): the server itself, whose `visio
	// models check` calls Check.
	Prober Prober
}

// DetectorConfig configures voice activity detectors.
type DetectorConfig struct {
	// Model is the Silero VAD model: its directory (as installed by
	// `visio models pull silero-vad-v5`) or the .onnx file itself.
	Model string
	// Threshold is the speech probability above which a window counts
	// as speech; default 0.5.
	Threshold float32
	// MinSpeech is how long speech must last before it is reported;
	// default 64 ms (two Silero windows). MinSilence is how long silence
	// must last before speech ends; default 200 ms. They are kept short
	// because the speech pipeline adds its own onset and hangover.
	MinSpeech, MinSilence time.Duration
	Logger                *slog.Logger
	Prober                Prober // as in Config
}

// Prober checks the model of the given kind at path by loading it in
// another process, where a bad model can only end that process.
type Prober func(ctx context.Context, kind, path string) error

// ExecProber runs exe (os.Executable() when "") with CheckArgs: the server
// as `visio models check`, which calls Check.
func ExecProber(exe string) Prober {
	return func(ctx context.Context, kind, path string) error {
		prog := exe
		if prog == "" {
			var err error
			if prog, err = os.Executable(); err != nil {
				return fmt.Errorf("find the program to check models with: %w", err)
			}
		}
		return Probe(ctx, prog, CheckArgs(models.Kind(kind), path))
	}
}

// Library is the sherpa-onnx build the models are checked against: a passed
// probe is only trusted for the same library.
const Library = "sherpa-onnx-go v1.13.8"

// CheckArgs are the arguments that make the server run Check in a child
// process: `visio models check --kind KIND PATH`.
func CheckArgs(kind models.Kind, path string) []string {
	return []string{"models", "check", "--kind", string(kind), path}
}

// ErrModelRejected is wrapped by the errors of models that failed their
// check: damaged, or not of the kind configured.
var ErrModelRejected = errors.New("speech model rejected")

const (
	defaultThreads      = 2
	defaultProbeTimeout = 2 * time.Minute
)

func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.Default()
	}
	return l
}

// defaultDetectorConfig fills in what cfg leaves out.
func defaultDetectorConfig(cfg DetectorConfig) DetectorConfig {
	if cfg.Threshold <= 0 || cfg.Threshold >= 1 {
		cfg.Threshold = 0.5
	}
	if cfg.MinSpeech <= 0 {
		cfg.MinSpeech = 64 * time.Millisecond
	}
	if cfg.MinSilence <= 0 {
		cfg.MinSilence = 200 * time.Millisecond
	}
	return cfg
}
