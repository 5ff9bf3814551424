package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/visio-meet/visio/internal/config"
	"github.com/visio-meet/visio/internal/meeting"
	"github.com/visio-meet/visio/internal/restapi"
	"github.com/visio-meet/visio/internal/speech"
	"github.com/visio-meet/visio/internal/speech/openai"
	"github.com/visio-meet/visio/internal/speech/pocketsphinx"
	"github.com/visio-meet/visio/internal/speech/sherpa"
	"github.com/visio-meet/visio/internal/speech/speechapi"
	"github.com/visio-meet/visio/internal/store"
	"github.com/visio-meet/visio/internal/summary"
)

// healthInterval is how often the engine's health is asked, for hosts.
const healthInterval = 30 * time.Second

// speechService is the server's speech engine, what meetings need of it,
// and the background work of transcripts: health checks, summaries and
// webhooks. It stops with Close.
type speechService struct {
	engine  speech.Engine // nil when off
	reason  string        // why it is off
	health  atomic.Pointer[speech.Health]
	keeper  *transcriptKeeper
	meeting meeting.Speech
	log     *slog.Logger
	ctx     context.Context // ends with Close
	stop    context.CancelFunc
	wg      sync.WaitGroup
}

// startSpeech makes the engine that speech.engine names. An engine that
// cannot start leaves captions and transcripts off, with the reason shown to
// hosts, rather than stopping the server: meetings matter more.
func startSpeech(cfg *config.Config, st *store.Store, log *slog.Logger) (*speechService, error) {
	log = log.With("component", "speech")
	ctx, cancel := context.WithCancel(context.Background())
	s := &speechService{log: log, ctx: ctx, stop: cancel}
	engine, err := newEngine(cfg, log)
	switch {
	case err != nil:
		s.reason = err.Error()
		log.Warn("captions and transcripts are off", "engine", cfg.Speech.Engine, "err", err)
	case engine == nil:
		s.reason = "no speech engine is configured: an operator must set speech.engine (openai, sherpa or pocketsphinx)"
	default:
		s.engine = engine
		log.Info("speech engine ready", "engine", engine.Name())
	}
	var sum *summary.Client
	if cfg.Summary.URL != "" {
		if sum, err = summary.New(summary.Config{URL: cfg.Summary.URL, APIKey: cfg.Summary.APIKey, Model: cfg.Summary.Model}); err != nil {
			cancel()
			return nil, fmt.Errorf("summary.url: %w", err)
		}
	}
	s.keeper = &transcriptKeeper{store: st, summary: sum, webhookURL: cfg.Transcripts.WebhookURL,
		webhookSecret: cfg.Transcripts.WebhookSecret, log: log, ctx: ctx, client: &http.Client{Timeout: time.Minute}}

	concurrency := cfg.Speech.Concurrency
	if concurrency <= 0 {
		concurrency = runtime.NumCPU()
	}
	s.meeting = meeting.Speech{Unavailable: s.reason, Language: cfg.Speech.Language, Limiter: speech.NewLimiter(concurrency),
		Health: s.Health, Transcripts: s.keeper}
	if s.engine != nil {
		s.meeting.Engine = s.engine
		if cfg.Speech.Sherpa.VAD != "" {
			detectors, err := sherpa.NewDetectors(ctx, sherpa.DetectorConfig{Model: filepath.Join(cfg.Speech.Sherpa.ModelsDir, cfg.Speech.Sherpa.VAD),
				Prober: sherpa.ExecProber(""), Logger: log})
			if err != nil {
				cancel()
				_ = s.engine.Close()
				return nil, fmt.Errorf("speech.sherpa.vad: %w", err)
			}
			s.meeting.Detector = detectors.ForTrack
		}
		s.health.Store(&speech.Health{State: speech.Healthy})
	}
	return s, nil
}

// watch asks the engine's health now and then until Close, and calls
// changed when it changes, so that hosts see it.
func (s *speechService) watch(changed func()) {
	if s.engine != nil {
		s.wg.Go(func() { s.watchHealth(s.ctx, changed) })
	}
}

// newEngine makes the configured engine; nil for none.
func newEngine(cfg *config.Config, log *slog.Logger) (speech.Engine, error) {
	c := cfg.Speech
	switch c.Engine {
	case "openai":
		if c.OpenAI.URL == "" {
			return nil, errors.New("speech.engine is openai but speech.openai.url is empty: give the base URL of the transcription service")
		}
		return openai.New(openai.Config{URL: c.OpenAI.URL, APIKey: c.OpenAI.APIKey, Model: c.OpenAI.Model,
			Timeout: c.OpenAI.Timeout, Concurrency: c.OpenAI.Concurrency, Logger: log})
	case "pocketsphinx":
		return pocketsphinx.New(pocketsphinx.Config{ModelDir: c.Pocketsphinx.ModelDir, Logger: log})
	case "sherpa":
		if c.Sherpa.Model == "" {
			return nil, errors.New("speech.engine is sherpa but speech.sherpa.model is empty: name a model of speech.sherpa.models_dir (see `visio models list`)")
		}
		return sherpa.NewEngine(sherpa.Config{ModelDir: c.Sherpa.ModelsDir, Model: c.Sherpa.Model,
			Threads: runtime.NumCPU(), Logger: log, Prober: sherpa.ExecProber("")})
	}
	return nil, nil
}

// Health is the engine's latest known health.
func (s *speechService) Health() speech.Health {
	if h := s.health.Load(); h != nil {
		return *h
	}
	return speech.Health{State: speech.Down, Detail: s.reason}
}

func (s *speechService) watchHealth(ctx context.Context, changed func()) {
	ticker := time.NewTicker(healthInterval)
	defer ticker.Stop()
	for first := true; ; first = false {
		check, cancel := context.WithTimeout(ctx, 20*time.Second)
		h := s.engine.Health(check)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if old := s.health.Swap(&h); first || *old != h {
			level := slog.LevelWarn
			if first {
				level = slog.LevelInfo
			}
			s.log.Log(ctx, level, "speech engine health", "state", h.State, "detail", h.Detail)
			changed()
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// apiRoutes serves the engine as an OpenAI-compatible transcription
// endpoint, when on, to callers that check allows (see
// restapi.BearerScope).
func (s *speechService) apiRoutes(on bool, check func(*http.Request) error) speechRoutes {
	if s.engine == nil || !on {
		return speechRoutes{}
	}
	authorize := func(r *http.Request) error {
		err := check(r)
		switch {
		case errors.Is(err, restapi.ErrNoToken):
			return fmt.Errorf("%w: %w", speechapi.ErrUnauthorized, err)
		case err != nil:
			return fmt.Errorf("%w: %w", speechapi.ErrForbidden, err)
		}
		return nil
	}
	return speechRoutes{handler: speechapi.New(speechapi.Config{Engine: s.engine, Authorize: authorize, Logger: s.log})}
}

type speechRoutes struct{ handler http.Handler }

func (r speechRoutes) Register(mux *http.ServeMux) {
	if r.handler == nil {
		return
	}
	mux.Handle(speechapi.Path, r.handler)
}

// Close waits for summaries and webhooks under way until ctx ends, then
// stops them and the engine.
func (s *speechService) Close(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.keeper.wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.log.Warn("shutdown cut short transcript deliveries (summary, webhook); the transcripts themselves are saved")
	}
	s.stop()
	s.wg.Wait()
	if s.engine != nil {
		return s.engine.Close()
	}
	return nil
}
