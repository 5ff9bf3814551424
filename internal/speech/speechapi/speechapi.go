// Package speechapi serves a speech.Engine as an OpenAI-compatible
// transcription endpoint (POST /v1/audio/transcriptions), so that other
// services, and other Visio servers through their openai engine, can use
// this server's engine. Long audio is cut at quiet moments into pieces the
// engine can take, and the pieces' times are put back on one timeline.
package speechapi

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/visio-meet/visio/internal/speech"
)

// Path is where the handler is meant to be mounted.
const Path = "/v1/audio/transcriptions"

// Errors that Config.Authorize wraps to refuse a request.
var (
	ErrUnauthorized = errors.New("no valid credentials") // answered 401
	ErrForbidden    = errors.New("not allowed")          // answered 403
)

// Config is what the handler serves and how.
type Config struct {
	// Engine transcribes; with none, every request is answered 503.
	Engine speech.Engine
	// Authorize decides whether a request may be served: nil error
	// allows it; errors wrapping ErrUnauthorized or ErrForbidden are
	// answered 401 or 403, and any other error 500. A nil Authorize
	// allows every request.
	Authorize func(*http.Request) error
	// MaxBytes bounds the request body; default 25 MiB, OpenAI's limit.
	MaxBytes int64
	// MaxDuration bounds the audio; default 2 h.
	MaxDuration time.Duration
	Logger      *slog.Logger
}

// Defaults of Config.
const (
	DefaultMaxBytes    = 25 << 20
	DefaultMaxDuration = 2 * time.Hour
)

type handler struct {
	engine      speech.Engine
	authorize   func(*http.Request) error
	maxBytes    int64
	maxDuration time.Duration
	log         *slog.Logger
}

// New returns the handler of the transcription endpoint.
func New(cfg Config) http.Handler {
	h := &handler{
		engine:      cfg.Engine,
		authorize:   cfg.Authorize,
		maxBytes:    cfg.MaxBytes,
		maxDuration: cfg.MaxDuration,
		log:         cfg.Logger,
	}
	if h.maxBytes <= 0 {
		h.maxBytes = DefaultMaxBytes
	}
	if h.maxDuration <= 0 {
		h.maxDuration = DefaultMaxDuration
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, &apiError{status: http.StatusMethodNotAllowed, code: "method_not_allowed",
			message: "use POST with a multipart/form-data body holding the audio as \"file\""})
		return
	}
	if err := h.checkAuthorization(r); err != nil {
		h.fail(w, r, err)
		return
	}
	if h.engine == nil {
		h.fail(w, r, fmt.Errorf("speechapi: no engine configured: %w", speech.ErrUnavailable))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, h.maxBytes)
	req, err := h.readForm(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	res, err := h.transcribe(r.Context(), req)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeResult(w, req.format, res)
	h.log.Info("transcription served", "audio", res.duration, "chunks", res.chunks,
		"format", req.format, "took", time.Since(start))
}

func (h *handler) checkAuthorization(r *http.Request) error {
	if h.authorize == nil {
		return nil
	}
	err := h.authorize(r)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrUnauthorized):
		return &apiError{status: http.StatusUnauthorized, code: "invalid_api_key",
			message: "missing or invalid API key: send Authorization: Bearer <token> with a token allowed to transcribe"}
	case errors.Is(err, ErrForbidden):
		return &apiError{status: http.StatusForbidden, code: "forbidden",
			message: "this API key may not transcribe: use a token with the speech:transcribe scope"}
	default:
		return &apiError{status: http.StatusInternalServerError, typ: "server_error", code: "authorization_failed",
			message: "the server could not check the credentials; try again later", cause: err}
	}
}

// fail answers with err, which is an *apiError or, for failures of the
// engine, anything.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		h.log.Info("transcription request abandoned by the client", "err", err)
		return
	}
	var apiErr *apiError
	if !errors.As(err, &apiErr) {
		apiErr = engineError(err)
	}
	level := slog.LevelInfo
	if apiErr.status >= 500 {
		level = slog.LevelError
	}
	h.log.Log(r.Context(), level, "transcription request failed", "status", apiErr.status,
		"code", apiErr.code, "err", errors.Join(errors.New(apiErr.message), apiErr.cause))
	if apiErr.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="visio"`)
	}
	writeError(w, apiErr)
}

// engineError hides the engine's internals from the client: they are
// logged, and the client is told whether to come back later.
func engineError(err error) *apiError {
	if errors.Is(err, speech.ErrUnavailable) {
		return &apiError{status: http.StatusServiceUnavailable, typ: "server_error", code: "engine_unavailable",
			message: "the speech engine of this server is not available; ask its operator, or try again later", cause: err}
	}
	return &apiError{status: http.StatusInternalServerError, typ: "server_error", code: "engine_failed",
		message: "the speech engine failed on this audio; try again later", cause: err}
}

// apiError is an error answered to the client in OpenAI's shape.
type apiError struct {
	status  int
	typ     string // "invalid_request_error" when empty
	code    string
	param   string // the form field at fault, if any
	message string // for the client: what is wrong and what to do
	cause   error  // for the log only
}

func (e *apiError) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%s: %v", e.message, e.cause)
	}
	return e.message
}

func (e *apiError) Unwrap() error { return e.cause }
