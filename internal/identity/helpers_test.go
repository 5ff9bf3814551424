package identity

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testSecret seals login-state cookies in tests.
var testSecret = []byte("0123456789abcdef0123456789abcdef-test")

// testRP is Visio's side of a login: our real handlers on a loopback port.
type testRP struct {
	auth  *Auth
	store *memStore
	srv   *httptest.Server
	url   string
	logs  *syncBuffer
	clock *testClock
}

// startRP serves the identity handlers on ln (a fresh port if nil). cfg
// needs Issuer and the client; the URLs are filled in from the port.
func startRP(t *testing.T, ln net.Listener, cfg Config) *testRP {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewUnstartedServer(mux)
	if ln != nil {
		srv.Listener.Close()
		srv.Listener = ln
	}
	base := "http://" + srv.Listener.Addr().String()
	cfg.RedirectURL = base + "/auth/callback"
	if cfg.PostLogoutRedirectURL == "" {
		cfg.PostLogoutRedirectURL = base + "/"
	}
	if cfg.Secret == nil {
		cfg.Secret = testSecret
	}
	rp := &testRP{store: newMemStore(), srv: srv, url: base, logs: &syncBuffer{}, clock: &testClock{}}
	log := slog.New(slog.NewTextHandler(io.MultiWriter(rp.logs, t.Output()), &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, err := New(ctx, cfg, rp.store, log)
	if err != nil {
		srv.Listener.Close()
		t.Fatal(err)
	}
	a.now = rp.clock.Now
	rp.auth = a
	mux.HandleFunc(LoginPath, a.Login)
	mux.HandleFunc("/auth/callback", a.Callback)
	mux.HandleFunc(LogoutPath, a.Logout)
	mux.HandleFunc(MePath, a.Me)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "page %s", r.URL.Path)
	})
	srv.Start()
	t.Cleanup(srv.Close)
	return rp
}

// testClock is time.Now moved by an offset, safe to move while handlers run.
type testClock struct{ offset atomic.Int64 }

func (c *testClock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *testClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// browser is a scripted browser: a cookie jar and a record of the
// redirects it followed since its last sign-in.
type browser struct {
	t    *testing.T
	jar  *cookiejar.Jar
	c    *http.Client
	hops []*http.Response
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, jar: jar}
	b.c = &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			b.hops = append(b.hops, req.Response)
			if len(via) >= 10 {
				return fmt.Errorf("too many redirects")
			}
			return nil
		}}
	return b
}

func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

func (b *browser) get(u string) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// hop returns the first redirect response whose request was for path.
func (b *browser) hop(path string) *http.Response {
	for _, h := range b.hops {
		if h.Request.URL.Path == path {
			return h
		}
	}
	return nil
}

// me asks the RP who is signed in, as the web app does.
func (b *browser) me(rpURL string) meResponse {
	b.t.Helper()
	resp, body := b.get(rpURL + MePath)
	if resp.StatusCode != http.StatusOK {
		b.t.Fatalf("GET %s: %d %s", MePath, resp.StatusCode, body)
	}
	var m meResponse
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		b.t.Fatalf("GET %s: %v in %q", MePath, err, body)
	}
	return m
}

func (b *browser) cookie(rawURL, name string) string {
	u, _ := url.Parse(rawURL)
	for _, c := range b.jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// logout posts to the logout endpoint as the web app's button would, and
// returns the answer without following it.
func (b *browser) logout(rpURL string, header http.Header) *http.Response {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, rpURL+LogoutPath, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	c := *b.c
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// meWithCookie asks /api/v1/me with an explicit session cookie, as an
// attacker replaying a stolen one would.
func meWithCookie(t *testing.T, rpURL, value string) meResponse {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, rpURL+MePath, nil)
	req.AddCookie(&http.Cookie{Name: SessionCookie, Value: value})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m meResponse
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("me: %d %v", resp.StatusCode, err)
	}
	return m
}

// setCookieHeader finds the Set-Cookie line for name in resp.
func setCookieHeader(resp *http.Response, name string) string {
	if resp == nil {
		return ""
	}
	for _, l := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(l, name+"=") {
			return l
		}
	}
	return ""
}
