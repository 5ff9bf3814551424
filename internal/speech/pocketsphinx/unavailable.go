//go:build !pocketsphinx || !cgo

package pocketsphinx

import (
	"context"
	"fmt"

	"github.com/visio-meet/visio/internal/speech"
)

// errNotBuilt says how to get a visio that has this engine.
var errNotBuilt = fmt.Errorf("pocketsphinx: %w: this visio was built without pocketsphinx; "+
	"install libpocketsphinx-dev pocketsphinx-en-us and build with `make build` "+
	"(which adds -tags pocketsphinx when pkg-config finds it)", speech.ErrUnavailable)

// Engine stands in for the pocketsphinx engine in builds without it, so
// that code using the package compiles either way. New never returns one.
type Engine struct{}

var _ speech.Streamer = (*Engine)(nil)

// New reports that this build has no pocketsphinx.
func New(cfg Config) (*Engine, error) {
	if _, err := cfg.withDefaults(); err != nil {
		return nil, err
	}
	return nil, errNotBuilt
}

// Name returns "pocketsphinx".
func (*Engine) Name() string { return "pocketsphinx" }

// Transcribe fails: this build has no pocketsphinx.
func (*Engine) Transcribe(context.Context, speech.Audio) (speech.Result, error) {
	return speech.Result{}, errNotBuilt
}

// NewStream fails: this build has no pocketsphinx.
func (*Engine) NewStream(string) (speech.Stream, error) { return nil, errNotBuilt }

// Health is Down, saying how to build with pocketsphinx.
func (*Engine) Health(context.Context) speech.Health {
	return speech.Health{State: speech.Down, Detail: errNotBuilt.Error()}
}

// Close does nothing.
func (*Engine) Close() error { return nil }
