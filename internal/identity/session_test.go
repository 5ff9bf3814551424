package identity

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// bareAuth is an Auth without a provider, for what needs only the Store.
func bareAuth(t testing.TB, st Store) *Auth {
	t.Helper()
	sl, err := newSealer(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Config{Issuer: "http://op.invalid", ClientID: "visio", RedirectURL: "https://visio.example/auth/callback",
		PostLogoutRedirectURL: "https://visio.example/", Secret: testSecret}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	return &Auth{cfg: cfg, st: st, log: slog.New(slog.DiscardHandler), sealer: sl,
		origin: "https://visio.example", callbackPath: "/auth/callback", now: time.Now}
}

// signedIn puts a user and a session in st and returns the cookie value.
func signedIn(t testing.TB, st *memStore, ttl time.Duration) string {
	t.Helper()
	u, err := st.UpsertUser(context.Background(), User{Issuer: "http://op.invalid", Subject: "alice", Name: "Alice Martin", Email: "alice@example.gouv.fr"})
	if err != nil {
		t.Fatal(err)
	}
	token := newSessionToken()
	now := time.Now()
	if err := st.CreateSession(context.Background(), Session{TokenHash: HashToken(token), UserID: u.ID,
		CreatedAt: now, ExpiresAt: now.Add(ttl), IDToken: "header.payload.sig", ACR: "eidas1"}); err != nil {
		t.Fatal(err)
	}
	return token
}

func me(t *testing.T, a *Auth, cookie *http.Cookie) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, MePath, nil)
	if cookie != nil {
		req.AddCookie(cookie)
	}
	w := httptest.NewRecorder()
	a.Me(w, req)
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatalf("me answered %q: %v", w.Body, err)
	}
	return w.Code, m
}

func TestMe(t *testing.T) {
	st := newMemStore()
	a := bareAuth(t, st)
	token := signedIn(t, st, time.Hour)

	code, m := me(t, a, &http.Cookie{Name: SessionCookie, Value: token})
	user, _ := m["user"].(map[string]any)
	if code != 200 || m["signed_in"] != true || user["name"] != "Alice Martin" || user["email"] != "alice@example.gouv.fr" || user["id"] == "" {
		t.Fatalf("%d %v", code, m)
	}
	for _, v := range []string{"", "x", token[:42], token + "A", strings.ToUpper(token), newSessionToken(), "%00", strings.Repeat("A", 5000)} {
		code, m := me(t, a, &http.Cookie{Name: SessionCookie, Value: v})
		if code != 200 || m["signed_in"] != false || len(m) != 1 {
			t.Errorf("cookie %.20q: %d %v", v, code, m)
		}
	}
	if code, m := me(t, a, nil); code != 200 || m["signed_in"] != false {
		t.Errorf("no cookie: %d %v", code, m)
	}

	// Revoked and expired sessions sign out at once.
	if err := st.RevokeSession(context.Background(), HashToken(token)); err != nil {
		t.Fatal(err)
	}
	if _, m := me(t, a, &http.Cookie{Name: SessionCookie, Value: token}); m["signed_in"] != false {
		t.Errorf("revoked session: %v", m)
	}
	short := signedIn(t, st, time.Minute)
	a.now = func() time.Time { return time.Now().Add(2 * time.Minute) }
	if _, m := me(t, a, &http.Cookie{Name: SessionCookie, Value: short}); m["signed_in"] != false {
		t.Errorf("expired session: %v", m)
	}
}

// brokenStore fails every read, like a database that is down.
type brokenStore struct{ *memStore }

func (brokenStore) Session(context.Context, string, time.Time) (Session, error) {
	return Session{}, errors.New("connection refused")
}

func TestMeWhenTheStoreIsDown(t *testing.T) {
	st := newMemStore()
	a := bareAuth(t, brokenStore{st})
	token := signedIn(t, st, time.Hour)
	if code, m := me(t, a, &http.Cookie{Name: SessionCookie, Value: token}); code != http.StatusServiceUnavailable || m["error"] != "session_unavailable" {
		t.Errorf("%d %v", code, m)
	}
	// A forged cookie never reaches the Store: still a plain "signed out".
	if code, m := me(t, a, &http.Cookie{Name: SessionCookie, Value: "forged"}); code != 200 || m["signed_in"] != false {
		t.Errorf("%d %v", code, m)
	}
	if _, ok := a.Current(httptest.NewRequest(http.MethodGet, "/", nil)); ok {
		t.Error("signed in without a cookie")
	}
}

func TestHashToken(t *testing.T) {
	// sha256("abc"), so that the store and other users of the hash agree.
	if got := HashToken("abc"); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatal(got)
	}
	tok := newSessionToken()
	if _, ok := parseSessionToken(tok); !ok || len(tok) != sessionTokenLen {
		t.Fatalf("fresh token %q refused", tok)
	}
}
