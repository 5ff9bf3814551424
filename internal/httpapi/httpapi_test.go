package httpapi

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func newTestServer(t *testing.T) *httptest.Server {
	t.Helper()
	app := fstest.MapFS{
		"index.html":           {Data: []byte("<!doctype html><title>Visio</title>")},
		"assets/app-ABC123.js": {Data: []byte("console.log(1)")},
	}
	signal := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	srv := httptest.NewServer(New(signal, app, slog.New(slog.DiscardHandler), Edge{}, echoRoutes{}))
	t.Cleanup(srv.Close)
	return srv
}

// echoRoutes stands for the routes of other packages: a cookie-authenticated
// POST endpoint.
type echoRoutes struct{}

func (echoRoutes) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/echo", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
}

func noRedirect() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func TestCrossOriginPostIsRefused(t *testing.T) {
	srv := newTestServer(t)
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/echo", nil)
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("a cross-site POST got %d, want 403", res.StatusCode)
	}
}

func TestPages(t *testing.T) {
	srv := newTestServer(t)
	cases := []struct {
		path     string
		status   int
		location string
		body     string
		cache    string
	}{
		{"/", 200, "", "<title>Visio</title>", "no-cache"},
		{"/abc-defg-hij", 200, "", "<title>Visio</title>", "no-cache"},
		{"/ABCDEFGHIJ", 301, "/abc-defg-hij", "", ""},
		{"/not-a-room", 404, "", "<title>Visio</title>", "no-cache"},
		{"/assets/app-ABC123.js", 200, "", "console.log(1)", "public, max-age=31536000, immutable"},
		{"/assets/missing.js", 404, "", "", ""},
		{"/assets/", 404, "", "", ""},
		{"/healthz", 200, "", "ok", ""},
		{"/ws", http.StatusTeapot, "", "", ""},
	}
	for _, c := range cases {
		res, err := noRedirect().Get(srv.URL + c.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != c.status {
			t.Errorf("GET %s = %d, want %d", c.path, res.StatusCode, c.status)
		}
		if c.location != "" && res.Header.Get("Location") != c.location {
			t.Errorf("GET %s redirects to %q, want %q", c.path, res.Header.Get("Location"), c.location)
		}
		if !strings.Contains(string(body), c.body) {
			t.Errorf("GET %s body %.60q lacks %q", c.path, body, c.body)
		}
		if c.cache != "" && res.Header.Get("Cache-Control") != c.cache {
			t.Errorf("GET %s Cache-Control = %q, want %q", c.path, res.Header.Get("Cache-Control"), c.cache)
		}
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("GET %s lacks the content security policy: %q", c.path, csp)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s lacks nosniff", c.path)
		}
	}
}
