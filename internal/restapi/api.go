// Package restapi is Visio's REST API (/api/v1): rooms, their members, live
// meetings, join tokens and API tokens, described in OpenAPI at
// /api/v1/openapi.json. Every handler first finds out who calls (a browser
// session, an API token, or a guest) and what they are in the room, then
// checks that this allows what they ask.
package restapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/visio-meet/visio/internal/httpapi"
	"github.com/visio-meet/visio/internal/identity"
	"github.com/visio-meet/visio/internal/meeting"
	"github.com/visio-meet/visio/internal/ratelimit"
	"github.com/visio-meet/visio/internal/room"
	"github.com/visio-meet/visio/internal/store"
	"github.com/visio-meet/visio/internal/token"
)

// Config is what the API works with.
type Config struct {
	Store    *store.Store
	Auth     *identity.Auth // nil when sign-in is off: then anyone may create rooms
	Meetings *meeting.Registry
	// JoinTokens signs the join tokens that signalling sessions present.
	JoinTokens *token.Issuer
	// AllowUnregistered lets anyone meet at a code no room was created
	// for, as in a public room.
	AllowUnregistered bool
	CookieSecure      bool
	// JoinsPerMinute and LoginsPerMinute limit each client address; 0
	// turns a limit off.
	JoinsPerMinute, LoginsPerMinute int
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client.
	TrustedProxies []netip.Prefix
	// Place, when set, returns where the meeting of a room is hosted: the
	// URL of the signalling endpoint of its node ("" for this one).
	Place func(ctx context.Context, code room.Code) (signalURL string, err error)
	Log   *slog.Logger
}

// API serves /api/v1.
type API struct {
	cfg    Config
	log    *slog.Logger
	limits limits
	now    func() time.Time
}

// The join token is short: it only has to reach the signalling socket.
const joinTokenTTL = 2 * time.Minute

// New returns the API.
func New(cfg Config) *API {
	return &API{cfg: cfg, log: cfg.Log.With("component", "api"), limits: newLimits(cfg), now: time.Now}
}

// Register adds the API's routes, and the sign-in routes when sign-in is
// on.
func (a *API) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/me", a.me)
	mux.HandleFunc("GET /api/v1/rooms", a.listRooms)
	mux.HandleFunc("POST /api/v1/rooms", a.createRoom)
	mux.HandleFunc("GET /api/v1/rooms/{code}", a.getRoom)
	mux.HandleFunc("PATCH /api/v1/rooms/{code}", a.updateRoom)
	mux.HandleFunc("DELETE /api/v1/rooms/{code}", a.deleteRoom)
	mux.HandleFunc("GET /api/v1/rooms/{code}/members", a.listMembers)
	mux.HandleFunc("POST /api/v1/rooms/{code}/members", a.addMember)
	mux.HandleFunc("PUT /api/v1/rooms/{code}/members/{user}", a.setMember)
	mux.HandleFunc("DELETE /api/v1/rooms/{code}/members/{user}", a.removeMember)
	mux.HandleFunc("POST /api/v1/rooms/{code}/join", a.join)
	mux.HandleFunc("GET /api/v1/rooms/{code}/meeting", a.getMeeting)
	mux.HandleFunc("DELETE /api/v1/rooms/{code}/meeting", a.endMeeting)
	mux.HandleFunc("GET /api/v1/rooms/{code}/transcripts", a.listTranscripts)
	mux.HandleFunc("GET /api/v1/rooms/{code}/transcripts/{id}", a.getTranscript)
	mux.HandleFunc("DELETE /api/v1/rooms/{code}/transcripts/{id}", a.deleteTranscript)
	mux.HandleFunc("POST /api/v1/rooms/{code}/files", a.uploadFile)
	mux.HandleFunc("GET /api/v1/rooms/{code}/files/{id}", a.downloadFile)
	mux.HandleFunc("GET /api/v1/tokens", a.listTokens)
	mux.HandleFunc("POST /api/v1/tokens", a.createToken)
	mux.HandleFunc("DELETE /api/v1/tokens/{id}", a.revokeToken)
	mux.HandleFunc("GET /api/v1/openapi.json", serveOpenAPI)
	mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, _ *http.Request) {
		httpapi.WriteError(w, http.StatusNotFound, "not_found", "no such API endpoint: see /api/v1/openapi.json")
	})
	if a.cfg.Auth != nil {
		mux.Handle("GET /auth/login", a.limited(a.limits.login, http.HandlerFunc(a.cfg.Auth.Login)))
		mux.Handle("GET /auth/callback", a.limited(a.limits.login, http.HandlerFunc(a.cfg.Auth.Callback)))
		mux.HandleFunc("POST /auth/logout", a.cfg.Auth.Logout)
	} else {
		mux.HandleFunc("/auth/", func(w http.ResponseWriter, _ *http.Request) {
			httpapi.WriteError(w, http.StatusNotFound, "sign_in_off", "sign-in is not set up on this server (auth.issuer): rooms are open to all")
		})
	}
}

// limits are the rate limits, per client address; nil is no limit.
type limits struct {
	login *ratelimit.Limiter // sign-in attempts
	join  *ratelimit.Limiter // join tokens, and so knocks on lobbies
	write *ratelimit.Limiter // rooms and tokens created
}

func newLimits(cfg Config) limits {
	perMinute := func(n int) *ratelimit.Limiter {
		if n <= 0 {
			return nil
		}
		return ratelimit.New(float64(n)/60, n)
	}
	return limits{login: perMinute(cfg.LoginsPerMinute), join: perMinute(cfg.JoinsPerMinute), write: perMinute(60)}
}

// limited refuses requests over l's rate, per client address.
func (a *API) limited(l *ratelimit.Limiter, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.allow(w, r, l) {
			return
		}
		next.ServeHTTP(w, r)
	})
}

// allow applies l to r's client, and answers 429 when it is over.
func (a *API) allow(w http.ResponseWriter, r *http.Request, l *ratelimit.Limiter) bool {
	if l == nil {
		return true
	}
	wait, ok := l.Allow(ratelimit.ClientAddress(r, a.cfg.TrustedProxies), a.now())
	if ok {
		return true
	}
	secs := int(wait/time.Second) + 1
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	httpapi.WriteError(w, http.StatusTooManyRequests, "rate_limited",
		fmt.Sprintf("too many attempts from your address: wait %d seconds and try again", secs))
	return false
}

// apiError is an error answer.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.message }

func fail(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

var (
	errSignIn    = fail(http.StatusUnauthorized, "sign_in_required", "sign in first")
	errForbidden = fail(http.StatusForbidden, "forbidden", "your role in this room does not allow this: ask one of its hosts")
	errNoRoom    = fail(http.StatusNotFound, "not_found", "there is no room with this code: check the link")
	errBanned    = fail(http.StatusForbidden, "banned", "a host removed you from this room and does not allow you back")
)

// internal logs err and returns the answer that hides it.
func (a *API) internal(ctx context.Context, err error) *apiError {
	a.log.ErrorContext(ctx, "API request failed", "err", err)
	return fail(http.StatusInternalServerError, "internal", "the server failed to do this: try again in a moment")
}

// storeError turns a store error into an answer.
func (a *API) storeError(ctx context.Context, err error, notFound *apiError) *apiError {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, store.ErrNotFound):
		return notFound
	case errors.Is(err, store.ErrConflict):
		return fail(http.StatusConflict, "conflict", "this already exists")
	}
	return a.internal(ctx, err)
}

func (a *API) answer(w http.ResponseWriter, status int, v any, err *apiError) {
	if err != nil {
		httpapi.WriteError(w, err.status, err.code, err.message)
		return
	}
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	httpapi.WriteJSON(w, status, v)
}

// maxBody bounds request bodies: none is legitimately larger.
const maxBody = 16 << 10

// readJSON decodes the request body into v, refusing unknown fields, so
// that a misspelt field is an error rather than silently ignored.
func readJSON(r *http.Request, v any) *apiError {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return fail(http.StatusUnsupportedMediaType, "bad_request", "send JSON (Content-Type: application/json)")
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody+1))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return fail(http.StatusBadRequest, "bad_request", "the request needs a JSON body")
		}
		return fail(http.StatusBadRequest, "bad_request", "the JSON body is malformed or has an unknown field: %s", jsonProblem(err))
	}
	return nil
}

func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("field %q has the wrong type", te.Field)
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return strings.TrimPrefix(err.Error(), "json: ")
	}
	return "malformed JSON (or over 16 KiB)"
}
