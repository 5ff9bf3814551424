package identity

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"
)

func TestLogoutOrigin(t *testing.T) {
	cases := []struct {
		name   string
		method string
		header map[string]string
		status int
	}{
		{"GET", http.MethodGet, map[string]string{"Sec-Fetch-Site": "same-origin"}, http.StatusMethodNotAllowed},
		{"no origin at all", http.MethodPost, nil, http.StatusForbidden},
		{"cross-site", http.MethodPost, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://visio.example"}, http.StatusForbidden},
		{"same-site is not same-origin", http.MethodPost, map[string]string{"Sec-Fetch-Site": "same-site"}, http.StatusForbidden},
		{"other origin", http.MethodPost, map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"null origin", http.MethodPost, map[string]string{"Origin": "null"}, http.StatusForbidden},
		{"other scheme", http.MethodPost, map[string]string{"Origin": "http://visio.example:8443"}, http.StatusForbidden},
		{"same-origin fetch", http.MethodPost, map[string]string{"Sec-Fetch-Site": "same-origin"}, http.StatusSeeOther},
		{"our origin", http.MethodPost, map[string]string{"Origin": "https://visio.example"}, http.StatusSeeOther},
		{"our host, no proxy", http.MethodPost, map[string]string{"Origin": "http://10.0.0.5:8080"}, http.StatusSeeOther},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := newMemStore()
			a := bareAuth(t, st)
			a.endSession = "https://op.example/logout?ui=fr"
			token := signedIn(t, st, time.Hour)
			req := httptest.NewRequest(tc.method, "http://10.0.0.5:8080"+LogoutPath, nil)
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			req.AddCookie(&http.Cookie{Name: SessionCookie, Value: token})
			w := httptest.NewRecorder()
			a.Logout(w, req)
			if w.Code != tc.status {
				t.Fatalf("%d, want %d", w.Code, tc.status)
			}
			_, stillIn := a.Current(req)
			if stillIn != (tc.status != http.StatusSeeOther) {
				t.Fatalf("signed in after logout answered %d: %v", w.Code, stillIn)
			}
			if tc.status != http.StatusSeeOther {
				return
			}
			loc, _ := url.Parse(w.Header().Get("Location"))
			q := loc.Query()
			if loc.Host != "op.example" || q.Get("ui") != "fr" || q.Get("id_token_hint") != "header.payload.sig" ||
				q.Get("post_logout_redirect_uri") != "https://visio.example/" || q.Get("client_id") != "visio" || q.Get("state") == "" {
				t.Fatalf("Location %s", loc)
			}
		})
	}
}

func TestLogoutWithoutEndSessionOrSession(t *testing.T) {
	st := newMemStore()
	a := bareAuth(t, st)
	token := signedIn(t, st, time.Hour)
	post := func(cookie string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "https://visio.example"+LogoutPath, nil)
		req.Header.Set("Origin", "https://visio.example")
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: SessionCookie, Value: cookie})
		}
		w := httptest.NewRecorder()
		a.Logout(w, req)
		return w
	}
	// A provider without end_session_endpoint: home.
	if w := post(token); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/" {
		t.Fatalf("%d %s", w.Code, w.Header().Get("Location"))
	}
	// No session (already signed out, or a forged cookie): home, no error.
	a.endSession = "https://op.example/logout"
	for _, c := range []string{"", "forged", token} {
		if w := post(c); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/" {
			t.Fatalf("cookie %q: %d %s", c, w.Code, w.Header().Get("Location"))
		}
	}
}
