package identity

import (
	"crypto/rand"
	"net/http"
	"net/url"
	"path"
	"strings"
	"unicode"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Login sends the browser to the provider. GET /auth/login?next=/abc-defg-hij
// comes back, once signed in, to next if it is a path on this site.
func (a *Auth) Login(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, "GET, HEAD")
		return
	}
	st := loginState{
		State:    rand.Text(),
		Nonce:    rand.Text(),
		Verifier: oauth2.GenerateVerifier(),
		Next:     SafeNext(r.URL.Query().Get("next")),
		Expires:  a.now().Add(loginStateTTL).Unix(),
	}
	// One login at a time per browser: a second tab's login replaces the
	// first one's state, and the first tab's callback is then refused with
	// a page that says to try again.
	http.SetCookie(w, a.cookie(stateCookie, a.sealer.sealState(st), a.callbackPath, loginStateTTL))

	opts := []oauth2.AuthCodeOption{oidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier)}
	if a.cfg.ACRValues != "" {
		opts = append(opts, oauth2.SetAuthURLParam("acr_values", a.cfg.ACRValues))
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, a.oauth.AuthCodeURL(st.State, opts...), http.StatusFound)
}

// SafeNext returns next if it is a page of this site, and "/" otherwise, so
// that a link to /auth/login cannot send a freshly signed-in user to
// another site (an open redirect). Browsers read "//host" and "/\host" as
// another host, and drop tabs and newlines before reading, so any of those
// disqualify the value. So do the /auth/ endpoints themselves: with the
// provider's single sign-on, next=/auth/login would loop, making a session
// at each turn.
func SafeNext(next string) string {
	const home = "/"
	if len(next) == 0 || len(next) > 2048 || next[0] != '/' {
		return home
	}
	if len(next) > 1 && (next[1] == '/' || next[1] == '\\') {
		return home
	}
	if strings.ContainsRune(next, '\\') || strings.ContainsFunc(next, unicode.IsControl) {
		return home
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return home
	}
	// As the server will route it: decoded, and cleaned as http.Redirect does.
	if p := path.Clean(u.Path); p == "/auth" || strings.HasPrefix(p, "/auth/") {
		return home
	}
	return next
}
