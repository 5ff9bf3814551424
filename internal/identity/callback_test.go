package identity

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func fakeConfig(op *fakeOP) Config {
	return Config{Issuer: op.issuer(), ClientID: fakeClientID, ClientSecret: fakeSecret}
}

func TestFakeProviderSignIn(t *testing.T) {
	op := newFakeOP(t, fakeKnobs{})
	rp := startRP(t, nil, fakeConfig(op))
	b := newBrowser(t)
	resp, body := b.get(rp.url + LoginPath + "?next=/abc-defg-hij")
	if resp.Request.URL.Path != "/abc-defg-hij" {
		t.Fatalf("ended at %s (HTTP %d): %s", resp.Request.URL, resp.StatusCode, body)
	}
	me := b.me(rp.url)
	if !me.SignedIn || me.User.Name != "Alice Martin" || me.User.Email != "alice.martin@example.gouv.fr" {
		t.Fatalf("me = %+v", me)
	}
	// Signing in again replaces the browser's session instead of leaving
	// the old one alive.
	first := b.cookie(rp.url, SessionCookie)
	b.get(rp.url + LoginPath)
	if second := b.cookie(rp.url, SessionCookie); second == first || !b.me(rp.url).SignedIn {
		t.Fatal("second sign-in did not give a new session")
	}
	if me := meWithCookie(t, rp.url, first); me.SignedIn {
		t.Fatal("the session replaced by a new sign-in is still valid")
	}
	if n := rp.store.live(time.Now()); n != 1 {
		t.Fatalf("%d live sessions, want 1", n)
	}
}

// The provider's answers a real provider will not give: each must leave
// the user signed out with a page saying so.
func TestCallbackRefusesBadProviderAnswers(t *testing.T) {
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		knobs    fakeKnobs
		required []string
		status   int
		want     string // in the page, unescaped
		log      string // in our log
	}{
		{"expired id token", fakeKnobs{idClaims: func(c map[string]any) {
			c["exp"] = time.Now().Add(-time.Minute).Unix()
			c["iat"] = time.Now().Add(-10 * time.Minute).Unix()
		}}, nil, http.StatusUnauthorized, "n'est pas valide (expirée", "expired"},
		{"wrong audience", fakeKnobs{idClaims: func(c map[string]any) { c["aud"] = "another-service" }},
			nil, http.StatusUnauthorized, "destinée à un autre service", "audience"},
		{"several audiences, azp not us", fakeKnobs{idClaims: func(c map[string]any) {
			c["aud"] = []string{fakeClientID, "another-service"}
			c["azp"] = "another-service"
		}}, nil, http.StatusUnauthorized, "n'est pas valide", "azp"},
		{"bad signature", fakeKnobs{signKey: otherKey}, nil, http.StatusUnauthorized, "mal signée", "signature"},
		{"nonce mismatch", fakeKnobs{idClaims: func(c map[string]any) { c["nonce"] = "replayed-from-another-login" }},
			nil, http.StatusUnauthorized, "n'est pas valide", "nonce"},
		{"wrong issuer", fakeKnobs{idClaims: func(c map[string]any) { c["iss"] = "https://evil.example" }},
			nil, http.StatusUnauthorized, "n'est pas valide", "issued by a different provider"},
		{"at_hash of another access token", fakeKnobs{idClaims: func(c map[string]any) { c["at_hash"] = "AAAAAAAAAAAAAAAAAAAAAA" }},
			nil, http.StatusUnauthorized, "n'est pas valide", "at_hash"},
		{"missing acr when required", fakeKnobs{idClaims: func(c map[string]any) { delete(c, "acr") }},
			[]string{"eidas1"}, http.StatusUnauthorized, "niveau de sécurité « aucun »", `is not one of`},
		{"acr too low", fakeKnobs{}, []string{"eidas2"}, http.StatusUnauthorized, "security level “eidas1”", `is not one of`},
		{"userinfo about someone else", fakeKnobs{userinfoSub: "mallory-uuid"},
			nil, http.StatusUnauthorized, "n'est pas valide", "userinfo sub"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			op := newFakeOP(t, tc.knobs)
			cfg := fakeConfig(op)
			cfg.RequiredACR = tc.required
			rp := startRP(t, nil, cfg)
			b := newBrowser(t)
			resp, body := b.get(rp.url + LoginPath + "?next=/abc-defg-hij")
			body = html.UnescapeString(body)
			if resp.StatusCode != tc.status || resp.Request.URL.Path != "/auth/callback" {
				t.Fatalf("HTTP %d at %s, want %d at the callback", resp.StatusCode, resp.Request.URL, tc.status)
			}
			for _, want := range []string{tc.want, "Connexion impossible", "Sign-in failed", "recommencez depuis la page d'accueil", "home page"} {
				if !strings.Contains(body, want) && !strings.Contains(strings.ToLower(body), want) {
					t.Errorf("page lacks %q:\n%s", want, body)
				}
			}
			if !strings.Contains(rp.logs.String(), tc.log) {
				t.Errorf("log lacks %q:\n%s", tc.log, rp.logs.String())
			}
			if me := b.me(rp.url); me.SignedIn {
				t.Fatalf("signed in: %+v", me)
			}
			if n := rp.store.live(time.Now()); n != 0 {
				t.Fatalf("%d sessions created", n)
			}
		})
	}
}

// startLogin starts a login with GET /auth/login and returns its state and
// login cookie, without going to the provider.
func startLogin(t *testing.T, rp *testRP) (state, cookie string) {
	t.Helper()
	b := newBrowser(t)
	b.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, _ := b.get(rp.url + LoginPath)
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("login: %d %v", resp.StatusCode, err)
	}
	return loc.Query().Get("state"), b.cookie(rp.url+"/auth/callback", stateCookie)
}

// getCallback requests the callback with query and the login cookie; the
// body is returned as sent, HTML-escaped.
func getCallback(t *testing.T, rp *testRP, query url.Values, cookie string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, rp.url+"/auth/callback?"+query.Encode(), nil)
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: stateCookie, Value: cookie})
	}
	b := newBrowser(t)
	b.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return b.do(req)
}

func TestCallbackErrors(t *testing.T) {
	op := newFakeOP(t, fakeKnobs{})
	rp := startRP(t, nil, fakeConfig(op))

	t.Run("the provider's error is shown, escaped", func(t *testing.T) {
		state, cookie := startLogin(t, rp)
		resp, raw := getCallback(t, rp, url.Values{"state": {state}, "error": {"access_denied"},
			"error_description": {"<script>alert(1)</script> user cancelled"}}, cookie)
		body := html.UnescapeString(raw)
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "access_denied") ||
			!strings.Contains(body, "user cancelled") || !strings.Contains(body, "Si vous avez annulé") {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		if strings.Contains(raw, "<script>") || !strings.Contains(raw, "&lt;script&gt;") {
			t.Fatalf("error_description reached the page unescaped:\n%s", raw)
		}
		// The answer belonged to the login under way, so its state is spent.
		if !strings.Contains(setCookieHeader(resp, stateCookie), "Max-Age=0") {
			t.Error("login-state cookie not cleared after the provider's error")
		}
	})
	t.Run("no login cookie", func(t *testing.T) {
		state, _ := startLogin(t, rp)
		resp, body := getCallback(t, rp, url.Values{"state": {state}, "code": {"x"}}, "")
		body = html.UnescapeString(body)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "cookies") {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	})
	t.Run("no code", func(t *testing.T) {
		state, cookie := startLogin(t, rp)
		resp, body := getCallback(t, rp, url.Values{"state": {state}}, cookie)
		body = html.UnescapeString(body)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "pas renvoyé de code") {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	})
	t.Run("a code the provider does not know", func(t *testing.T) {
		state, cookie := startLogin(t, rp)
		resp, body := getCallback(t, rp, url.Values{"state": {state}, "code": {"made-up"}}, cookie)
		body = html.UnescapeString(body)
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "a refusé le code") {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		if !strings.Contains(rp.logs.String(), `invalid_grant`) {
			t.Errorf("log lacks the provider's error code:\n%s", rp.logs.String())
		}
	})
	t.Run("login state older than 10 minutes", func(t *testing.T) {
		state, cookie := startLogin(t, rp)
		rp.clock.Advance(11 * time.Minute)
		defer rp.clock.Advance(-11 * time.Minute)
		resp, body := getCallback(t, rp, url.Values{"state": {state}, "code": {"x"}}, cookie)
		body = html.UnescapeString(body)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "plus de 10 minutes") {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	})
	t.Run("POST is refused", func(t *testing.T) {
		resp, err := http.Post(rp.url+"/auth/callback", "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("%d", resp.StatusCode)
		}
	})
}

func TestProviderDown(t *testing.T) {
	op := newFakeOP(t, fakeKnobs{})
	rp := startRP(t, nil, fakeConfig(op))
	state, cookie := startLogin(t, rp)
	op.srv.Close()
	resp, body := getCallback(t, rp, url.Values{"state": {state}, "code": {"x"}}, cookie)
	body = html.UnescapeString(body)
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "n'a pas pu joindre") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

func TestNewErrors(t *testing.T) {
	op := newFakeOP(t, fakeKnobs{})
	good := fakeConfig(op)
	good.RedirectURL = "http://127.0.0.1:1/auth/callback"
	good.Secret = testSecret
	ctx := context.Background()

	short := good
	short.Secret = []byte("too short")
	if _, err := New(ctx, short, newMemStore(), nil); err == nil || !strings.Contains(err.Error(), "at least 32") {
		t.Errorf("short secret: %v", err)
	}
	relative := good
	relative.RedirectURL = "/auth/callback"
	if _, err := New(ctx, relative, newMemStore(), nil); err == nil || !strings.Contains(err.Error(), "RedirectURL") {
		t.Errorf("relative redirect: %v", err)
	}
	slash := good
	slash.Issuer += "/"
	if _, err := New(ctx, slash, newMemStore(), nil); err == nil || !strings.Contains(err.Error(), "issuer") {
		t.Errorf("issuer with a trailing slash: %v", err)
	}
	down := good
	down.Issuer = "http://127.0.0.1:1"
	if _, err := New(ctx, down, newMemStore(), nil); err == nil || !strings.Contains(err.Error(), "discovery") ||
		!strings.Contains(err.Error(), "reachable") {
		t.Errorf("unreachable provider: %v", err)
	}
	if _, err := New(ctx, good, nil, nil); err == nil {
		t.Error("nil store accepted")
	}
	a, err := New(ctx, good, newMemStore(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(a.cfg.Scopes, " "); got != "openid email given_name usual_name" {
		t.Errorf("default scopes %q", got)
	}
	if a.cfg.SessionTTL != 12*time.Hour {
		t.Errorf("default TTL %v", a.cfg.SessionTTL)
	}
	custom := good
	custom.Scopes = []string{"email", "siret"}
	if a, err = New(ctx, custom, newMemStore(), nil); err != nil || strings.Join(a.cfg.Scopes, " ") != "openid email siret" {
		t.Errorf("scopes without openid: %v %v", a.cfg.Scopes, err)
	}
}
