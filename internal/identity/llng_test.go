package identity

import (
	"crypto/rand"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/visio-meet/visio/internal/identity/oidctest"
)

// signIn does what a person does: follow the sign-in link, fill in the
// provider's form, submit. It returns the page the browser ends on.
func (b *browser) signIn(rpURL, user, password, next string) (*http.Response, string) {
	b.t.Helper()
	b.hops = nil
	return oidctest.SignIn(b.t, b.c, rpURL+LoginPath+"?next="+url.QueryEscape(next), user, password)
}

func TestLoginWithLemonLDAP(t *testing.T) {
	// Our two relying parties need their ports before the provider's
	// configuration names them: listen first, serve later.
	listen := func() net.Listener {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() }) // if the test stops before serving it
		return ln
	}
	lnPlain, lnStrict := listen(), listen()
	plainURL, strictURL := "http://"+lnPlain.Addr().String(), "http://"+lnStrict.Addr().String()
	t0 := time.Now()
	op := oidctest.StartLemonLDAP(t, []string{plainURL + "/auth/callback", strictURL + "/auth/callback"}, plainURL+"/")
	t.Logf("LemonLDAP::NG ready at %s in %v", op.Issuer, time.Since(t0).Round(time.Millisecond))

	base := Config{Issuer: op.Issuer, ClientID: "visio", ClientSecret: "visio-secret", ACRValues: "eidas1"}
	plain := startRP(t, lnPlain, base)
	strictCfg := base
	strictCfg.ACRValues = "eidas2"
	strictCfg.RequiredACR = []string{"eidas2", "eidas3"}
	strict := startRP(t, lnStrict, strictCfg)

	var secrets []string // everything that must never reach our logs
	t.Cleanup(func() {
		for _, rp := range []*testRP{plain, strict} {
			logs := rp.logs.String()
			for _, s := range append(secrets, "visio-secret") {
				if s != "" && strings.Contains(logs, s) {
					t.Errorf("a secret (%.8s…) is in the logs", s)
				}
			}
		}
	})

	t.Run("dwho signs in and lands on the meeting", func(t *testing.T) {
		b := newBrowser(t)
		resp, body := b.signIn(plain.url, "dwho", "dwho", "/abc-defg-hij")
		if resp.Request.URL.String() != plain.url+"/abc-defg-hij" || body != "page /abc-defg-hij" {
			t.Fatalf("after sign-in, at %s: %q", resp.Request.URL, body)
		}
		me := b.me(plain.url)
		if !me.SignedIn || me.User == nil || me.User.Name != "Doctor Who" || me.User.Email != "dwho@badwolf.org" || me.User.ID == "" {
			t.Fatalf("me = %+v", me)
		}

		// What went to the provider: PKCE S256, nonce, state, scopes, acr_values.
		login := b.hop(LoginPath)
		if login == nil {
			t.Fatal("no redirect from /auth/login")
		}
		authz, _ := url.Parse(login.Header.Get("Location"))
		q := authz.Query()
		if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 || q.Get("nonce") == "" ||
			q.Get("state") == "" || q.Get("scope") != "openid email given_name usual_name" || q.Get("acr_values") != "eidas1" {
			t.Errorf("authorize request: %v", q)
		}
		state := setCookieHeader(login, stateCookie)
		for _, attr := range []string{"HttpOnly", "SameSite=Lax", "Path=/auth/callback", "Max-Age=600"} {
			if !strings.Contains(state, attr) {
				t.Errorf("login-state cookie lacks %s: %s", attr, state)
			}
		}
		cb := b.hop("/auth/callback")
		if cb == nil || cb.Header.Get("Location") != "/abc-defg-hij" {
			t.Fatalf("callback redirect: %+v", cb)
		}
		session := setCookieHeader(cb, SessionCookie)
		for _, attr := range []string{"HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=43200"} {
			if !strings.Contains(session, attr) {
				t.Errorf("session cookie lacks %s: %s", attr, session)
			}
		}
		if !strings.Contains(setCookieHeader(cb, stateCookie), "Max-Age=0") {
			t.Errorf("login-state cookie not cleared: %q", cb.Header.Values("Set-Cookie"))
		}
		token := b.cookie(plain.url, SessionCookie)
		secrets = append(secrets, token)
		// The store holds the token's hash, never the token.
		s, err := plain.store.Session(t.Context(), HashToken(token), time.Now())
		if err != nil {
			t.Fatalf("session not in store by its hash: %v", err)
		}
		secrets = append(secrets, s.IDToken)
		if s.ACR != "eidas1" || s.IDToken == "" || strings.Contains(fmt.Sprintf("%+v", s), token) {
			t.Errorf("stored session: acr %q, id token set %v", s.ACR, s.IDToken != "")
		}
		u, _ := plain.store.User(t.Context(), me.User.ID)
		if u.Issuer != op.Issuer || u.Subject != "dwho" || u.GivenName != "Doctor" || u.UsualName != "Who" {
			t.Errorf("stored user %+v", u)
		}
	})

	t.Run("a wrong password gives no session", func(t *testing.T) {
		b := newBrowser(t)
		resp, body := b.signIn(plain.url, "dwho", "not-the-password", "/abc-defg-hij")
		if !strings.HasPrefix(resp.Request.URL.String(), op.Issuer) {
			t.Fatalf("wrong password left the provider for %s", resp.Request.URL)
		}
		if m := oidctest.TrmsgRe.FindStringSubmatch(body); m == nil || m[1] != "5" {
			t.Errorf("the provider did not say bad credentials (trmsg %v)", m)
		}
		if me := b.me(plain.url); me.SignedIn {
			t.Fatalf("signed in with a wrong password: %+v", me)
		}
		if b.cookie(plain.url, SessionCookie) != "" {
			t.Fatal("a session cookie was set")
		}
	})

	t.Run("eidas2 required: dwho (eidas1) refused, rtyler (eidas2) accepted", func(t *testing.T) {
		b := newBrowser(t)
		resp, body := b.signIn(strict.url, "dwho", "dwho", "/abc-defg-hij")
		if resp.StatusCode != http.StatusUnauthorized || resp.Request.URL.Path != "/auth/callback" {
			t.Fatalf("dwho at eidas1: HTTP %d at %s", resp.StatusCode, resp.Request.URL)
		}
		for _, want := range []string{"Connexion impossible", "« eidas1 »", "« eidas2, eidas3 »",
			"Sign-in failed", "security level “eidas1”", "try again from the home page"} {
			if !strings.Contains(html.UnescapeString(body), want) {
				t.Errorf("error page lacks %q:\n%s", want, body)
			}
		}
		if me := b.me(strict.url); me.SignedIn {
			t.Fatalf("dwho signed in below the required level: %+v", me)
		}
		if n := strict.store.live(time.Now()); n != 0 {
			t.Fatalf("%d sessions after a refused login", n)
		}

		b = newBrowser(t)
		resp, _ = b.signIn(strict.url, "rtyler", "rtyler", "/abc-defg-hij")
		if resp.Request.URL.String() != strict.url+"/abc-defg-hij" {
			t.Fatalf("rtyler at eidas2 ended at %s (HTTP %d)", resp.Request.URL, resp.StatusCode)
		}
		if me := b.me(strict.url); !me.SignedIn || me.User.Name != "Rose Tyler" || me.User.Email != "rtyler@badwolf.org" {
			t.Fatalf("me = %+v", me)
		}
	})

	t.Run("logout revokes the session and ends the provider's", func(t *testing.T) {
		b := newBrowser(t)
		b.signIn(plain.url, "dwho", "dwho", "/")
		token := b.cookie(plain.url, SessionCookie)
		secrets = append(secrets, token)
		if !b.me(plain.url).SignedIn {
			t.Fatal("not signed in")
		}
		stored, _ := plain.store.Session(t.Context(), HashToken(token), time.Now())

		// A cross-site form or image does not sign the user out.
		if resp, _ := b.get(plain.url + LogoutPath); resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("GET logout: %d", resp.StatusCode)
		}
		if resp := b.logout(plain.url, http.Header{"Origin": {"https://evil.example"}}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("cross-origin logout: %d", resp.StatusCode)
		}
		if !b.me(plain.url).SignedIn {
			t.Fatal("a refused logout signed the user out")
		}

		resp := b.logout(plain.url, http.Header{"Origin": {plain.url}, "Sec-Fetch-Site": {"same-origin"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("logout: %d", resp.StatusCode)
		}
		loc, _ := url.Parse(resp.Header.Get("Location"))
		q := loc.Query()
		if op.EndSession == "" || !strings.HasPrefix(loc.String(), op.EndSession+"?") ||
			q.Get("id_token_hint") != stored.IDToken || q.Get("post_logout_redirect_uri") != plain.url+"/" || q.Get("state") == "" {
			t.Fatalf("logout redirect %s (end_session_endpoint %s)", loc, op.EndSession)
		}
		if !strings.Contains(setCookieHeader(resp, SessionCookie), "Max-Age=0") {
			t.Errorf("session cookie not expired: %q", resp.Header.Values("Set-Cookie"))
		}
		// The provider ends its session and sends the browser back home.
		resp, _ = b.get(loc.String())
		if resp.Request.URL.Host != lnPlain.Addr().String() || resp.Request.URL.Path != "/" {
			t.Fatalf("after the provider's logout, at %s", resp.Request.URL)
		}
		if me := b.me(plain.url); me.SignedIn {
			t.Fatalf("still signed in after logout: %+v", me)
		}
		if me := meWithCookie(t, plain.url, token); me.SignedIn {
			t.Fatalf("the old cookie replayed still signs in: %+v", me)
		}
		// Signing in again asks for the password: the provider's session ended too.
		resp, page := b.get(plain.url + LoginPath)
		if _, ok := oidctest.LoginForm(page); !ok {
			t.Fatalf("after logout, sign-in went straight to %s without the provider's form", resp.Request.URL)
		}
	})

	t.Run("a tampered state or login cookie is refused", func(t *testing.T) {
		b := newBrowser(t)
		// Stop when the provider sends the browser back to us.
		b.c.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
			if req.URL.Path == "/auth/callback" {
				return http.ErrUseLastResponse
			}
			return nil
		}
		resp, page := b.get(plain.url + LoginPath + "?next=/abc-defg-hij")
		fields, ok := oidctest.LoginForm(page)
		if !ok {
			t.Fatal("no login form")
		}
		fields.Set("user", "dwho")
		fields.Set("password", "dwho")
		req, _ := http.NewRequest(http.MethodPost, resp.Request.URL.String(), strings.NewReader(fields.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, _ = b.do(req)
		callback, err := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusFound || err != nil || callback.Query().Get("code") == "" {
			t.Fatalf("provider answered %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		secrets = append(secrets, callback.Query().Get("code"))
		loginCookie := b.cookie(callback.String(), stateCookie)
		if loginCookie == "" {
			t.Fatal("no login-state cookie")
		}

		sessionsBefore := plain.store.live(time.Now())
		// Requests by hand, with exactly the cookies we choose.
		try := func(u *url.URL, cookie string) (*http.Response, string) {
			req, _ := http.NewRequest(http.MethodGet, u.String(), nil)
			req.AddCookie(&http.Cookie{Name: stateCookie, Value: cookie})
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			return resp, string(body)
		}
		forged := *callback
		q := forged.Query()
		q.Set("state", rand.Text())
		forged.RawQuery = q.Encode()
		if resp, body := try(&forged, loginCookie); resp.StatusCode != http.StatusBadRequest ||
			!strings.Contains(html.UnescapeString(body), "ne correspond pas") || setCookieHeader(resp, SessionCookie) != "" {
			t.Errorf("tampered state: %d %s", resp.StatusCode, body)
		}
		flipped := []byte(loginCookie)
		flipped[len(flipped)/2] ^= 1
		if resp, body := try(callback, string(flipped)); resp.StatusCode != http.StatusBadRequest ||
			!strings.Contains(html.UnescapeString(body), "Recommencez depuis la page d'accueil") || setCookieHeader(resp, SessionCookie) != "" {
			t.Errorf("tampered login cookie: %d %s", resp.StatusCode, body)
		}
		if n := plain.store.live(time.Now()); n != sessionsBefore {
			t.Errorf("refused callbacks made %d sessions", n-sessionsBefore)
		}
		// The genuine answer still works: refusing a forgery does not
		// void the login under way.
		resp, _ = try(callback, loginCookie)
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/abc-defg-hij" {
			t.Fatalf("genuine callback after forgeries: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
	})

	t.Run("next of //evil.example lands on the home page", func(t *testing.T) {
		b := newBrowser(t)
		resp, _ := b.signIn(plain.url, "msmith", "msmith", "//evil.example")
		if resp.Request.URL.String() != plain.url+"/" {
			t.Fatalf("ended at %s", resp.Request.URL)
		}
		if cb := b.hop("/auth/callback"); cb == nil || cb.Header.Get("Location") != "/" {
			t.Fatalf("callback redirect %+v", cb)
		}
		if me := b.me(plain.url); !me.SignedIn || me.User.Name != "Mickey Smith" {
			t.Fatalf("me = %+v", me)
		}
	})
}
