package identity

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Who is the signed-in user of a request and the session that says so.
type Who struct {
	User    User
	Session Session
}

// errSignedOut is current's answer for a missing, malformed, unknown,
// expired or revoked session: the ordinary "not signed in".
var errSignedOut = errors.New("not signed in")

// Current returns the signed-in user of r. The session is looked up in the
// Store on every call, so a revoked session is signed out at once.
func (a *Auth) Current(r *http.Request) (Who, bool) {
	who, err := a.current(r)
	if err != nil {
		if !errors.Is(err, errSignedOut) {
			a.log.Error("identity: cannot read the session", "err", err)
		}
		return Who{}, false
	}
	return who, true
}

func (a *Auth) current(r *http.Request) (Who, error) {
	token, ok := parseSessionToken(cookieValue(r, SessionCookie))
	if !ok {
		return Who{}, errSignedOut
	}
	now := a.now()
	s, err := a.st.Session(r.Context(), HashToken(token), now)
	if errors.Is(err, ErrNotFound) {
		return Who{}, errSignedOut
	}
	if err != nil {
		return Who{}, fmt.Errorf("session: %w", err)
	}
	// The Store filters on now already; this guards a Store that forgets.
	if !now.Before(s.ExpiresAt) {
		return Who{}, errSignedOut
	}
	u, err := a.st.User(r.Context(), s.UserID)
	if errors.Is(err, ErrNotFound) {
		return Who{}, errSignedOut
	}
	if err != nil {
		return Who{}, fmt.Errorf("user of session: %w", err)
	}
	return Who{User: u, Session: s}, nil
}

type meUser struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

type meResponse struct {
	SignedIn bool    `json:"signed_in"`
	User     *meUser `json:"user,omitempty"`
}

// Me answers GET /api/v1/me for the web app: who is signed in, if anyone.
// A missing or forged cookie is just "signed out"; only a Store that cannot
// answer gives an error, 503, so that a passing database hiccup does not
// show a signed-in user the sign-in button.
func (a *Auth) Me(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, "GET, HEAD")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	who, err := a.current(r)
	switch {
	case errors.Is(err, errSignedOut):
		_ = json.NewEncoder(w).Encode(meResponse{})
	case err != nil:
		a.log.Error("identity: cannot read the session", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_ = json.NewEncoder(w).Encode(map[string]string{
			"error":   "session_unavailable",
			"message": "sessions cannot be read right now; try again in a moment",
		})
	default:
		_ = json.NewEncoder(w).Encode(meResponse{SignedIn: true, User: &meUser{
			ID: who.User.ID, Name: who.User.Name, Email: who.User.Email,
		}})
	}
}
