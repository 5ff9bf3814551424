//go:build pocketsphinx && cgo

package pocketsphinx

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/visio-meet/visio/internal/speech"
)

// chunkSamples is how much audio Transcribe decodes between looks at its
// context: one second, a few tens of milliseconds of work.
const chunkSamples = speech.SampleRate

// healthyDetail tells hosts what to expect from this engine.
const healthyDetail = "English only, low accuracy: for trying Visio and tests"

// Engine is the pocketsphinx speech.Streamer. It is safe for use by several
// goroutines.
type Engine struct {
	model model
	log   *slog.Logger
	// slots bounds how many Transcribe calls decode at once.
	slots   chan struct{}
	maxIdle int
	closing chan struct{} // closed by Close, to wake waiting callers

	mu      sync.Mutex
	closed  bool
	idle    []*decoder
	live    map[*decoder]struct{} // every decoder not yet freed, idle or in use
	loadErr error                 // why the last decoder could not be made; nil once one is
}

var _ speech.Streamer = (*Engine)(nil)

// New checks the model files and loads a first decoder, so that a broken
// installation is reported now rather than at the first utterance.
func New(cfg Config) (*Engine, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	m, err := findModel(cfg.ModelDir)
	if err != nil {
		return nil, err
	}
	e := &Engine{
		model:   m,
		log:     cfg.Logger.With("engine", "pocketsphinx"),
		slots:   make(chan struct{}, cfg.Decoders),
		maxIdle: cfg.Decoders,
		closing: make(chan struct{}),
		live:    map[*decoder]struct{}{},
	}
	d, err := e.take()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", speech.ErrUnavailable, err)
	}
	e.put(d)
	return e, nil
}

// Name returns "pocketsphinx".
func (e *Engine) Name() string { return "pocketsphinx" }

// Transcribe decodes one utterance. It waits for a free decoder of the pool
// for as long as ctx allows. Every language is heard as English.
func (e *Engine) Transcribe(ctx context.Context, a speech.Audio) (speech.Result, error) {
	e.noteLanguage(a.Language)
	if len(a.Samples) == 0 {
		return speech.Result{Language: "en"}, nil
	}
	select {
	case e.slots <- struct{}{}:
	case <-ctx.Done():
		return speech.Result{}, fmt.Errorf("pocketsphinx: waiting for a free decoder: %w", ctx.Err())
	case <-e.closing:
		return speech.Result{}, errClosed
	}
	defer func() { <-e.slots }()
	d, err := e.take()
	if err != nil {
		return speech.Result{}, err
	}
	defer e.put(d)

	start := time.Now()
	for rest := a.Samples; len(rest) > 0; {
		if err := ctx.Err(); err != nil {
			return speech.Result{}, fmt.Errorf("pocketsphinx: transcription stopped: %w", err)
		}
		n := min(len(rest), chunkSamples)
		if err := d.process(rest[:n]); err != nil {
			return speech.Result{}, err
		}
		rest = rest[n:]
	}
	r, err := d.end()
	if err != nil {
		return speech.Result{}, err
	}
	e.log.Debug("transcribed", "audio", a.Duration(), "took", time.Since(start), "words", len(r.Pieces))
	return r, nil
}

// NewStream starts following one speaker with a decoder of its own.
// Every language is heard as English.
func (e *Engine) NewStream(language string) (speech.Stream, error) {
	e.noteLanguage(language)
	d, err := e.take()
	if err != nil {
		return nil, err
	}
	return &stream{engine: e, dec: d}, nil
}

// Health is Healthy while decoders can be made, and says that the engine is
// English only and inaccurate.
func (e *Engine) Health(context.Context) speech.Health {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case e.closed:
		return speech.Health{State: speech.Down, Detail: "The pocketsphinx engine has been shut down."}
	case e.loadErr != nil:
		return speech.Health{State: speech.Down, Detail: e.loadErr.Error()}
	}
	return speech.Health{State: speech.Healthy, Detail: healthyDetail}
}

// Close frees every decoder, waiting for calls in progress to leave the
// library. Later calls, and streams still open, return errors.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	close(e.closing)
	live := e.live
	e.live, e.idle = nil, nil
	e.mu.Unlock()
	for d := range live {
		d.free()
	}
	return nil
}

// take returns an idle decoder, or loads a new one.
func (e *Engine) take() (*decoder, error) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, errClosed
	}
	if n := len(e.idle); n > 0 {
		d := e.idle[n-1]
		e.idle = e.idle[:n-1]
		e.mu.Unlock()
		return d, nil
	}
	e.mu.Unlock()

	start := time.Now()
	d, err := newDecoder(e.model)
	e.mu.Lock()
	defer e.mu.Unlock()
	if err != nil {
		// Returned to the caller, and shown by Health until a decoder
		// is made.
		e.loadErr = err
		return nil, err
	}
	e.loadErr = nil
	if e.closed {
		d.free()
		return nil, errClosed
	}
	e.live[d] = struct{}{}
	e.log.Debug("decoder loaded", "took", time.Since(start), "decoders", len(e.live))
	return d, nil
}

// put gives a decoder back: it is kept for reuse while fewer than maxIdle
// are, and freed otherwise.
func (e *Engine) put(d *decoder) {
	d.reset()
	e.mu.Lock()
	if !e.closed && len(e.idle) < e.maxIdle {
		e.idle = append(e.idle, d)
		e.mu.Unlock()
		return
	}
	delete(e.live, d)
	e.mu.Unlock()
	d.free()
}

// noteLanguage logs that a language other than English will be heard as
// English; Health tells hosts the same.
func (e *Engine) noteLanguage(language string) {
	if language != "" && language != "en" {
		e.log.Debug("pocketsphinx understands English only; hearing the audio as English", "asked", language)
	}
}
