//go:build sherpa

package sherpa

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	sherpa "github.com/k2-fsa/sherpa-onnx-go/sherpa_onnx"

	"github.com/visio-meet/visio/internal/speech"
	"github.com/visio-meet/visio/internal/speech/models"
)

// NewEngine checks and loads the speech-to-text model of cfg. A Whisper
// model gives an Engine; a streaming model gives a speech.Streamer. Every
// error wraps speech.ErrUnavailable and says what to install or configure.
func NewEngine(cfg Config) (speech.Engine, error) {
	log := logger(cfg.Logger)
	if cfg.ModelDir == "" {
		return nil, fmt.Errorf("%w: no speech model directory is configured: set one, and install a model in it with `visio models pull whisper-base`", speech.ErrUnavailable)
	}
	name, dir := cfg.Model, filepath.Join(cfg.ModelDir, cfg.Model)
	switch {
	case name == "" && isModelDir(cfg.ModelDir):
		name, dir = filepath.Base(cfg.ModelDir), cfg.ModelDir
	case name == "":
		var err error
		if name, err = chooseModel(cfg.ModelDir); err != nil {
			return nil, err
		}
		dir = filepath.Join(cfg.ModelDir, name)
	case strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, "."):
		return nil, fmt.Errorf("%w: the model name %q is not the name of a directory in %s", speech.ErrUnavailable, name, cfg.ModelDir)
	}
	kind, err := modelKind(dir, cfg.Kind)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", speech.ErrUnavailable, err)
	}
	if kind == models.VAD {
		return nil, fmt.Errorf("%w: model %s is a voice activity detector, not speech-to-text: configure another model", speech.ErrUnavailable, name)
	}
	f, err := findFiles(kind, dir)
	if err != nil {
		return nil, err
	}
	if err := newVetter(cfg.Prober, log).vet(context.Background(), f, dir); err != nil {
		return nil, fmt.Errorf("%w: %w", speech.ErrUnavailable, err)
	}
	threads := cfg.Threads
	if threads <= 0 {
		threads = defaultThreads
	}
	language := ""
	if man, err := models.ReadManifest(dir); err == nil {
		language = man.Language
	}
	base := engineBase{name: name, kind: kind, language: language, slot: make(chan struct{}, 1)}
	switch kind {
	case models.Offline:
		c := offlineConfig(f, threads)
		rec := sherpa.NewOfflineRecognizer(&c)
		if rec == nil {
			return nil, fmt.Errorf("%w: sherpa-onnx could not load the model in %s", speech.ErrUnavailable, dir)
		}
		log.Info("speech model loaded", "engine", "sherpa", "model", name, "kind", kind)
		return &offlineEngine{engineBase: base, whisper: f.whisper(), rec: rec}, nil
	default:
		c := onlineConfig(f, threads)
		rec := sherpa.NewOnlineRecognizer(&c)
		if rec == nil {
			return nil, fmt.Errorf("%w: sherpa-onnx could not load the model in %s", speech.ErrUnavailable, dir)
		}
		log.Info("speech model loaded", "engine", "sherpa", "model", name, "kind", kind)
		return &streamingEngine{engineBase: base, rec: rec}, nil
	}
}

// errClosed is returned by an engine used after Close.
var errClosed = errors.New("the sherpa speech engine is closed")

// engineBase is what both engines share. slot lets one decode run at a
// time: whether sherpa-onnx recognizers decode several streams safely at
// once is not documented, and onnxruntime uses the threads it is given for
// each decode anyway.
type engineBase struct {
	name, language string
	kind           models.Kind
	slot           chan struct{}
}

func (e *engineBase) Name() string { return "sherpa" }

func (e *engineBase) acquire(ctx context.Context) error {
	select {
	case e.slot <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (e *engineBase) release() { <-e.slot }

func (e *engineBase) health(closed bool) speech.Health {
	if closed {
		return speech.Health{State: speech.Down, Detail: "the sherpa engine was closed; restart the server to use it again"}
	}
	detail := fmt.Sprintf("model %s (%s) runs in the server", e.name, e.kind)
	switch e.language {
	case "":
	case "mul":
		detail = fmt.Sprintf("model %s (%s, multilingual) runs in the server", e.name, e.kind)
	default:
		detail = fmt.Sprintf("model %s (%s, language %s) runs in the server", e.name, e.kind, e.language)
	}
	return speech.Health{State: speech.Healthy, Detail: detail}
}

func floats(samples []int16) []float32 {
	out := make([]float32, len(samples))
	for i, s := range samples {
		out[i] = float32(s) / 32768
	}
	return out
}

// offlineEngine transcribes whole utterances with Whisper or an offline
// transducer.
type offlineEngine struct {
	engineBase
	whisper bool
	closed  atomic.Bool               // read by Health without waiting for a decode
	rec     *sherpa.OfflineRecognizer // nil once closed; guarded by slot
}

func (e *offlineEngine) Transcribe(ctx context.Context, a speech.Audio) (speech.Result, error) {
	if len(a.Samples) == 0 {
		return speech.Result{Language: a.Language}, nil
	}
	if err := e.acquire(ctx); err != nil {
		return speech.Result{}, err
	}
	defer e.release()
	if e.rec == nil {
		return speech.Result{}, errClosed
	}
	st := sherpa.NewOfflineStream(e.rec)
	defer sherpa.DeleteOfflineStream(st)
	if e.whisper && a.Language != "" {
		st.SetOption("language", a.Language)
	}
	st.AcceptWaveform(speech.SampleRate, floats(a.Samples))
	e.rec.Decode(st)
	r := st.GetResult()
	lang := strings.Trim(r.Lang, "<|>")
	if lang == "" {
		lang = a.Language
	}
	return speech.Result{Text: strings.TrimSpace(r.Text), Language: lang}, ctx.Err()
}

func (e *offlineEngine) Health(context.Context) speech.Health {
	return e.health(e.closed.Load())
}

func (e *offlineEngine) Close() error {
	e.closed.Store(true)
	_ = e.acquire(context.Background())
	defer e.release()
	if e.rec != nil {
		sherpa.DeleteOfflineRecognizer(e.rec)
		e.rec = nil
	}
	return nil
}

// tailPadding is the silence fed after an utterance so that a transducer
// sees the right context of its last words.
const tailPadding = speech.SampleRate * 3 / 10

// streamingEngine follows utterances with a streaming transducer.
type streamingEngine struct {
	engineBase
	mu     sync.Mutex // guards open and closed
	open   int        // streams not closed yet: the recognizer outlives them
	closed bool
	rec    *sherpa.OnlineRecognizer
}

func (e *streamingEngine) NewStream(string) (speech.Stream, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, errClosed
	}
	e.open++
	return &onlineStream{e: e, st: sherpa.NewOnlineStream(e.rec)}, nil
}

func (e *streamingEngine) Transcribe(ctx context.Context, a speech.Audio) (speech.Result, error) {
	s, err := e.NewStream(a.Language)
	if err != nil {
		return speech.Result{}, err
	}
	defer s.Close()
	if err := e.acquire(ctx); err != nil {
		return speech.Result{}, err
	}
	st := s.(*onlineStream)
	if len(a.Samples) > 0 {
		st.accept(floats(a.Samples))
	}
	text := st.finish()
	e.release()
	return speech.Result{Text: text, Language: e.language}, ctx.Err()
}

func (e *streamingEngine) Health(context.Context) speech.Health {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.health(e.closed)
}

// Close frees the model once the streams still open are closed.
func (e *streamingEngine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	e.freeIfUnused()
	return nil
}

func (e *streamingEngine) freeIfUnused() {
	if e.closed && e.open == 0 && e.rec != nil {
		sherpa.DeleteOnlineRecognizer(e.rec)
		e.rec = nil
	}
}

type onlineStream struct {
	e  *streamingEngine
	st *sherpa.OnlineStream // nil once closed
}

// accept feeds samples and decodes what is ready; the caller holds a slot.
func (s *onlineStream) accept(samples []float32) {
	s.st.AcceptWaveform(speech.SampleRate, samples)
	for s.e.rec.IsReady(s.st) {
		s.e.rec.Decode(s.st)
	}
}

// finish ends the utterance and returns its text; the stream is spent.
func (s *onlineStream) finish() string {
	s.accept(make([]float32, tailPadding))
	s.st.InputFinished()
	for s.e.rec.IsReady(s.st) {
		s.e.rec.Decode(s.st)
	}
	return strings.TrimSpace(s.e.rec.GetResult(s.st).Text)
}

func (s *onlineStream) Write(samples []int16) (string, error) {
	if s.st == nil {
		return "", errClosed
	}
	if err := s.e.acquire(context.Background()); err != nil {
		return "", err
	}
	defer s.e.release()
	if len(samples) > 0 {
		s.accept(floats(samples))
	}
	return strings.TrimSpace(s.e.rec.GetResult(s.st).Text), nil
}

func (s *onlineStream) End() (speech.Result, error) {
	if s.st == nil {
		return speech.Result{}, errClosed
	}
	if err := s.e.acquire(context.Background()); err != nil {
		return speech.Result{}, err
	}
	defer s.e.release()
	text := s.finish()
	// A finished stream takes no more audio: the next utterance gets a
	// fresh one, which is cheap next to the model.
	sherpa.DeleteOnlineStream(s.st)
	s.st = sherpa.NewOnlineStream(s.e.rec)
	return speech.Result{Text: text, Language: s.e.language}, nil
}

func (s *onlineStream) Close() {
	if s.st == nil {
		return
	}
	_ = s.e.acquire(context.Background())
	sherpa.DeleteOnlineStream(s.st)
	s.st = nil
	s.e.release()
	s.e.mu.Lock()
	s.e.open--
	s.e.freeIfUnused()
	s.e.mu.Unlock()
}
