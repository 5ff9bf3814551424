// Package openai is the speech engine that sends each utterance to an
// OpenAI-compatible transcription endpoint (POST /v1/audio/transcriptions):
// a self-hosted whisper.cpp, faster-whisper or vLLM server, another Visio, or
// OpenAI itself. It retries what is worth retrying, bounds how many requests
// run at once, and reads the many dialects of the answer leniently.
package openai

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/visio-meet/visio/internal/speech"
)

// Config says where the endpoint is and how to talk to it.
type Config struct {
	// URL is the server's base URL, with or without /v1
	// ("http://host:8000" or "http://host:8000/v1"); a full
	// ".../audio/transcriptions" URL is also taken as it is.
	URL    string
	APIKey string // sent as a bearer token when set
	Model  string // default "whisper-1"
	// Timeout bounds one attempt; default 60 s.
	Timeout time.Duration
	// Retries is how many times a failed attempt is repeated; default 3,
	// negative for none.
	Retries int
	// Concurrency bounds the requests in flight at once across all calls;
	// default 4.
	Concurrency int
	Logger      *slog.Logger
	// HTTPClient, when set, is used instead of a client of the engine's
	// own; its Timeout should be zero or above Timeout.
	HTTPClient *http.Client
}

// Defaults of Config.
const (
	DefaultModel       = "whisper-1"
	DefaultTimeout     = 60 * time.Second
	DefaultRetries     = 3
	DefaultConcurrency = 4
)

const (
	// maxResponseBytes bounds an answer: a transcript of the longest
	// utterance with every verbose field is far smaller.
	maxResponseBytes = 4 << 20
	// maxProbeTimeout bounds the health probe, so that a host's status
	// page does not wait a whole Timeout for a dead endpoint.
	maxProbeTimeout = 10 * time.Second
)

// Engine is a speech.Engine that calls an OpenAI-compatible endpoint. It is
// safe for use by several goroutines.
type Engine struct {
	endpoint string // the full transcriptions URL
	host     string // named in errors and logs instead of the URL
	apiKey   string
	model    string
	timeout  time.Duration
	retries  int
	client   *http.Client
	log      *slog.Logger

	// slots is the semaphore bounding requests in flight.
	slots chan struct{}
	// probing is held by the one Health call that probes the endpoint.
	probing chan struct{}
	health  tracker
	closed  atomic.Bool

	// The retry timing, fields so that tests need not sleep for seconds.
	baseDelay     time.Duration
	maxDelay      time.Duration
	maxRetryAfter time.Duration
}

var _ speech.Engine = (*Engine)(nil)

// New checks cfg and returns an engine. It makes no request: Health tells
// whether the endpoint answers.
func New(cfg Config) (*Engine, error) {
	endpoint, host, err := endpointURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	e := &Engine{
		endpoint:      endpoint,
		host:          host,
		apiKey:        strings.TrimSpace(cfg.APIKey),
		model:         strings.TrimSpace(cfg.Model),
		timeout:       cfg.Timeout,
		retries:       cfg.Retries,
		client:        cfg.HTTPClient,
		log:           cfg.Logger,
		probing:       make(chan struct{}, 1),
		baseDelay:     500 * time.Millisecond,
		maxDelay:      8 * time.Second,
		maxRetryAfter: 30 * time.Second,
	}
	if strings.ContainsFunc(e.apiKey, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return nil, errors.New("openai speech engine: speech.openai.api_key contains control characters; paste the key alone")
	}
	if e.model == "" {
		e.model = DefaultModel
	}
	if e.timeout <= 0 {
		e.timeout = DefaultTimeout
	}
	switch {
	case e.retries == 0:
		e.retries = DefaultRetries
	case e.retries < 0:
		e.retries = 0
	}
	concurrency := cfg.Concurrency
	if concurrency <= 0 {
		concurrency = DefaultConcurrency
	}
	e.slots = make(chan struct{}, concurrency)
	if e.client == nil {
		transport := http.DefaultTransport.(*http.Transport).Clone()
		transport.MaxIdleConnsPerHost = concurrency
		e.client = &http.Client{Transport: transport}
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	e.log = e.log.With("engine", "openai", "endpoint", host)
	return e, nil
}

// endpointURL turns the configured URL into the transcriptions URL and the
// host to name in messages.
func endpointURL(raw string) (endpoint, host string, err error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", "", fmt.Errorf("openai speech engine: speech.openai.url is empty; set it to the transcription server, e.g. http://whisper:8000: %w", speech.ErrUnavailable)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", "", fmt.Errorf("openai speech engine: speech.openai.url is not an http(s) URL such as http://whisper:8000: %w", speech.ErrUnavailable)
	}
	if u.User != nil {
		return "", "", fmt.Errorf("openai speech engine: speech.openai.url contains credentials; put the key in speech.openai.api_key instead: %w", speech.ErrUnavailable)
	}
	u.Fragment = ""
	path := strings.TrimRight(u.Path, "/")
	switch {
	case strings.HasSuffix(path, "/audio/transcriptions"):
	case strings.HasSuffix(path, "/v1"):
		path += "/audio/transcriptions"
	default:
		path += "/v1/audio/transcriptions"
	}
	u.Path, u.RawPath = path, ""
	return u.String(), u.Host, nil
}

// Name is the engine's configuration name.
func (e *Engine) Name() string { return "openai" }

// Close releases idle connections; calls made after it fail.
func (e *Engine) Close() error {
	e.closed.Store(true)
	e.client.CloseIdleConnections()
	return nil
}
