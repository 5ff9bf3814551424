// Package httpapi is Visio's HTTP edge: the web app, the REST API and the
// signalling endpoint, with the headers and checks every response needs.
package httpapi

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"

	"github.com/visio-meet/visio/internal/room"
)

// SignalPath is where signalling sessions open.
const SignalPath = "/ws"

// Routes are more endpoints, served from their own package.
type Routes interface {
	Register(mux *http.ServeMux)
}

// Edge adjusts the HTTP edge to where it runs.
type Edge struct {
	// ConnectSources, when set, returns the other origins (such as
	// wss://node2.example.org) the web app may connect to: the nodes of a
	// cluster, where a meeting may be hosted.
	ConnectSources func() []string
}

// New returns the handler for the whole HTTP surface. app holds the built web
// app: index.html and its assets. routes are the endpoints served by other
// packages (the REST API, WHIP and WHEP).
func New(signal http.Handler, app fs.FS, log *slog.Logger, edge Edge, routes ...Routes) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("GET "+SignalPath, signal)

	web := webApp{files: app, log: log}
	mux.Handle("GET /assets/", web.assets())
	mux.HandleFunc("GET /{$}", web.index)
	mux.HandleFunc("GET /{page}", web.page)

	for _, r := range routes {
		r.Register(mux)
	}
	// Cookie-authenticated requests (the REST API) are protected from
	// other sites; WHIP, WHEP and transcription take bearer tokens from other
	// programs.
	csrf := http.NewCrossOriginProtection()
	csrf.AddInsecureBypassPattern("/whip/")
	csrf.AddInsecureBypassPattern("/whep/")
	csrf.AddInsecureBypassPattern("/v1/audio/")
	return securityHeaders(csrf.Handler(mux), edge.ConnectSources)
}

// WriteJSON answers v as JSON, never cached.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// WriteError answers in the API's error shape: {"error": a stable code,
// "message": what to do next}.
func WriteError(w http.ResponseWriter, status int, code, message string) {
	WriteJSON(w, status, map[string]string{"error": code, "message": message})
}

// securityHeaders sets the headers that confine the web app to its own
// origin and to the devices it needs.
func securityHeaders(next http.Handler, connectSources func() []string) http.Handler {
	const policy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
		"media-src 'self' blob: mediastream:; connect-src 'self'%s; font-src 'self'; object-src 'none'; " +
		"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		more := ""
		if connectSources != nil {
			for _, src := range connectSources() {
				more += " " + src
			}
		}
		h.Set("Content-Security-Policy", fmt.Sprintf(policy, more))
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Permissions-Policy", "camera=(self), microphone=(self), display-capture=(self), fullscreen=(self)")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

type webApp struct {
	files fs.FS
	log   *slog.Logger
}

// assets serves the built files. Their names carry a content hash, so they
// can be cached forever.
func (a webApp) assets() http.Handler {
	files := http.FileServerFS(a.files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		files.ServeHTTP(w, r)
	})
}

func (a webApp) index(w http.ResponseWriter, r *http.Request) {
	a.serveIndex(w, http.StatusOK)
}

// page serves the app for a meeting link and for the connection test page
// (/check); anything else gets the app's "page not found" screen with a 404
// status.
func (a webApp) page(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("page")
	if name == "check" { // the connection test page
		a.serveIndex(w, http.StatusOK)
		return
	}
	if code, err := room.ParseCode(name); err == nil {
		if string(code) != name {
			http.Redirect(w, r, "/"+string(code), http.StatusMovedPermanently)
			return
		}
		a.serveIndex(w, http.StatusOK)
		return
	}
	if path.Ext(name) != "" {
		if f, err := fs.Stat(a.files, name); err == nil && !f.IsDir() {
			w.Header().Set("Cache-Control", "public, max-age=3600")
			http.ServeFileFS(w, r, a.files, name)
			return
		}
	}
	a.serveIndex(w, http.StatusNotFound)
}

func (a webApp) serveIndex(w http.ResponseWriter, status int) {
	body, err := fs.ReadFile(a.files, "index.html")
	if err != nil {
		a.log.Error("the web app is missing from the binary: run `make web`", "err", err)
		WriteError(w, http.StatusInternalServerError, "no_web_app", "the web app was not built into this binary")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
