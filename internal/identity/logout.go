package identity

import (
	"crypto/rand"
	"errors"
	"net/http"
	"net/url"
)

// Logout ends the session: POST /auth/logout from a page of this site. It
// revokes the session in the Store, expires the cookie and sends the
// browser to the provider to end the provider's session too, or home when
// the provider cannot do that.
//
// GET is refused and the request must come from this origin: otherwise an
// image or a form on any other site could sign users out.
func (a *Auth) Logout(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, "POST")
		return
	}
	if !a.sameOrigin(r) {
		http.Error(w, "Déconnexion refusée : la demande ne vient pas de Visio. Utilisez le bouton « Se déconnecter ». / "+
			"Sign-out refused: the request did not come from Visio. Use the “Sign out” button.", http.StatusForbidden)
		return
	}
	var idToken string
	if token, ok := parseSessionToken(cookieValue(r, SessionCookie)); ok {
		hash := HashToken(token)
		if s, err := a.st.Session(r.Context(), hash, a.now()); err == nil {
			idToken = s.IDToken
		} else if !errors.Is(err, ErrNotFound) {
			a.log.Error("identity: cannot read the session to sign out", "err", err)
		}
		// Revoke even if the lookup failed: a Store that cannot read may
		// still be able to write, and the user asked to be signed out.
		if err := a.st.RevokeSession(r.Context(), hash); err != nil && !errors.Is(err, ErrNotFound) {
			a.log.Error("identity: cannot revoke the session", "err", err)
			http.Error(w, "La déconnexion a échoué côté serveur ; réessayez dans quelques instants. / "+
				"Sign-out failed on the server; try again in a moment.", http.StatusServiceUnavailable)
			return
		}
	}
	http.SetCookie(w, a.cookie(SessionCookie, "", "/", 0))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, a.afterLogout(idToken), http.StatusSeeOther)
}

// afterLogout is the provider's end-session URL when there is one and we
// hold the ID token it needs as a hint (ProConnect requires it), else home.
func (a *Auth) afterLogout(idToken string) string {
	if a.endSession == "" || idToken == "" {
		return "/"
	}
	u, err := url.Parse(a.endSession)
	if err != nil {
		return "/"
	}
	q := u.Query()
	q.Set("id_token_hint", idToken)
	q.Set("client_id", a.cfg.ClientID)
	// The state comes back on the post-logout page; nothing checks it,
	// but some providers require one.
	q.Set("state", rand.Text())
	if a.cfg.PostLogoutRedirectURL != "" {
		q.Set("post_logout_redirect_uri", a.cfg.PostLogoutRedirectURL)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// sameOrigin reports whether r was sent by a page of this site. Browsers
// send Sec-Fetch-Site, or at least Origin, on every POST; a request with
// neither is refused, since logout has no business outside a browser.
func (a *Auth) sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin":
		return true
	case "":
	default: // same-site, cross-site, none
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" || origin == "null" {
		return false
	}
	if origin == a.origin {
		return true
	}
	// Without a proxy, the Host header names the site as the browser saw it.
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && u.Host == r.Host
}
