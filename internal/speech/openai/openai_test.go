package openai

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/visio-meet/visio/internal/speech"
	"github.com/visio-meet/visio/internal/speech/wav"
)

const testKey = "sk-test-0123456789abcdef"

// newEngine returns an engine for url with retry delays short enough for
// tests.
func newEngine(t *testing.T, cfg Config) *Engine {
	t.Helper()
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.baseDelay, e.maxDelay, e.maxRetryAfter = 10*time.Millisecond, 100*time.Millisecond, 2*time.Second
	t.Cleanup(func() { _ = e.Close() })
	return e
}

func second() speech.Audio {
	s := make([]int16, speech.SampleRate)
	for i := range s {
		s[i] = int16(i % 200 * 50)
	}
	return speech.Audio{Samples: s, Language: "fr"}
}

func TestEndpointURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http://whisper:8000", "http://whisper:8000/v1/audio/transcriptions"},
		{"http://whisper:8000/", "http://whisper:8000/v1/audio/transcriptions"},
		{"http://whisper:8000/v1", "http://whisper:8000/v1/audio/transcriptions"},
		{" https://api.example.com/v1/ ", "https://api.example.com/v1/audio/transcriptions"},
		{"https://gw.example.com/speech", "https://gw.example.com/speech/v1/audio/transcriptions"},
		{"http://h/v1/audio/transcriptions", "http://h/v1/audio/transcriptions"},
		{"http://h/openai/v1?api-version=2", "http://h/openai/v1/audio/transcriptions?api-version=2"},
	}
	for _, tt := range tests {
		got, _, err := endpointURL(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("endpointURL(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no URL", Config{}, "speech.openai.url is empty"},
		{"not http", Config{URL: "ftp://host"}, "not an http(s) URL"},
		{"no host", Config{URL: "http://"}, "not an http(s) URL"},
		{"credentials in URL", Config{URL: "http://user:secret@host"}, "put the key in speech.openai.api_key"},
		{"key with a newline", Config{URL: "http://host", APIKey: "sk-a\nb"}, "control characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one saying %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error repeats the URL's password: %v", err)
			}
		})
	}
	if _, err := New(Config{}); !errors.Is(err, speech.ErrUnavailable) {
		t.Errorf("no URL: err = %v, want speech.ErrUnavailable so that the feature is turned off", err)
	}
}

// TestRequest checks what the server receives: the form fields, the key,
// and the audio itself, intact.
func TestRequest(t *testing.T) {
	audio := second()
	var got struct {
		path, auth, model, format, language, filename string
		samples                                       []int16
		rate, channels                                int
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.path, got.auth = r.URL.Path, r.Header.Get("Authorization")
		if err := r.ParseMultipartForm(10 << 20); err != nil {
			t.Errorf("not a multipart form: %v", err)
			return
		}
		got.model, got.format, got.language = r.FormValue("model"), r.FormValue("response_format"), r.FormValue("language")
		f, header, err := r.FormFile("file")
		if err != nil {
			t.Errorf("no file: %v", err)
			return
		}
		got.filename = header.Filename
		got.samples, got.rate, got.channels, err = wav.Decode(f, 10<<20)
		if err != nil {
			t.Errorf("file is not WAV: %v", err)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"task":"transcribe","language":"french","duration":1.0,"text":" Bonjour à tous.",
			"segments":[{"id":0,"start":0.0,"end":0.52,"text":" Bonjour"},{"id":1,"start":0.52,"end":1.0,"text":" à tous."}]}`)
	}))
	defer srv.Close()

	e := newEngine(t, Config{URL: srv.URL + "/v1", APIKey: testKey})
	res, err := e.Transcribe(context.Background(), audio)
	if err != nil {
		t.Fatal(err)
	}
	if got.path != "/v1/audio/transcriptions" || got.auth != "Bearer "+testKey {
		t.Errorf("request to %q with Authorization %q", got.path, got.auth)
	}
	if got.model != "whisper-1" || got.format != "verbose_json" || got.language != "fr" || got.filename != "audio.wav" {
		t.Errorf("form: model %q, response_format %q, language %q, filename %q", got.model, got.format, got.language, got.filename)
	}
	if got.rate != speech.SampleRate || got.channels != 1 || !slices.Equal(got.samples, audio.Samples) {
		t.Errorf("server got %d samples at %d Hz, %d channels; want the %d samples sent, 16 kHz mono", len(got.samples), got.rate, got.channels, len(audio.Samples))
	}
	want := speech.Result{Text: "Bonjour à tous.", Language: "fr", Pieces: []speech.Piece{
		{Start: 0, End: 520 * time.Millisecond, Text: "Bonjour"},
		{Start: 520 * time.Millisecond, End: time.Second, Text: "à tous."},
	}}
	if !equalResult(res, want) {
		t.Errorf("result = %+v, want %+v", res, want)
	}
}

func TestRequestWithoutKeyOrLanguage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if auth := r.Header.Get("Authorization"); auth != "" {
			t.Errorf("Authorization %q sent without a key", auth)
		}
		if err := r.ParseMultipartForm(10 << 20); err != nil {
			t.Error(err)
		}
		if _, ok := r.MultipartForm.Value["language"]; ok {
			t.Error("language sent for audio without one; the server should guess")
		}
		if m := r.FormValue("model"); m != "large-v3" {
			t.Errorf("model %q, want the configured large-v3", m)
		}
		_, _ = io.WriteString(w, `{"text":"hello"}`)
	}))
	defer srv.Close()
	e := newEngine(t, Config{URL: srv.URL, Model: "large-v3"})
	a := second()
	a.Language = ""
	res, err := e.Transcribe(context.Background(), a)
	if err != nil || res.Text != "hello" || res.Language != "" {
		t.Errorf("got %+v, %v; want text hello and no language", res, err)
	}
}

func TestEmptyAudioSendsNothing(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1) }))
	defer srv.Close()
	e := newEngine(t, Config{URL: srv.URL})
	res, err := e.Transcribe(context.Background(), speech.Audio{Language: "en"})
	if err != nil || res.Text != "" || calls.Load() != 0 {
		t.Errorf("empty audio: %+v, %v, %d requests; want an empty result and no request", res, err, calls.Load())
	}
}

func TestNoRetryOnClientErrors(t *testing.T) {
	for _, code := range []int{http.StatusBadRequest, http.StatusNotFound, http.StatusUnprocessableEntity, http.StatusRequestEntityTooLarge} {
		s, srv := serve(t, status(code, `{"detail":"Unsupported language xx"}`))
		e := newEngine(t, Config{URL: srv.URL})
		_, err := e.Transcribe(context.Background(), second())
		host := strings.TrimPrefix(srv.URL, "http://")
		if err == nil || !strings.Contains(err.Error(), host) || !strings.Contains(err.Error(), http.StatusText(code)) {
			t.Errorf("%d: err = %v, want one naming %s and the status", code, err, host)
		}
		if n := len(s.requests()); n != 1 {
			t.Errorf("%d: %d requests, want 1 (no retry)", code, n)
		}
		if code == http.StatusBadRequest && !strings.Contains(err.Error(), "Unsupported language xx") {
			t.Errorf("400: err = %v, want the server's message", err)
		}
	}
}

// TestKeyNeverShown checks that a refused key leads to the setting to fix,
// and that neither errors nor logs repeat the key, even when the server
// quotes it.
func TestKeyNeverShown(t *testing.T) {
	echo := `{"error":{"message":"Incorrect API key provided: ` + testKey + `","type":"invalid_request_error"}}`
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	for _, code := range []int{http.StatusUnauthorized, http.StatusForbidden} {
		_, srv := serve(t, status(code, echo))
		e := newEngine(t, Config{URL: srv.URL, APIKey: testKey, Logger: log})
		_, err := e.Transcribe(context.Background(), second())
		if err == nil || !strings.Contains(err.Error(), "check speech.openai.api_key") || !errors.Is(err, speech.ErrUnavailable) {
			t.Errorf("%d: err = %v, want one pointing to speech.openai.api_key", code, err)
		}
		if err != nil && strings.Contains(err.Error(), testKey) {
			t.Errorf("%d: error shows the key: %v", code, err)
		}
		if h := e.Health(context.Background()); strings.Contains(h.Detail, testKey) {
			t.Errorf("%d: health shows the key: %s", code, h.Detail)
		}
	}
	// Retried failures are logged; the key must not be in them either.
	_, srv := serve(t, status(http.StatusInternalServerError, echo), status(http.StatusOK, `{"text":"ok"}`))
	e := newEngine(t, Config{URL: srv.URL, APIKey: testKey, Logger: log})
	if _, err := e.Transcribe(context.Background(), second()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "retrying") {
		t.Errorf("the retry was not logged: %s", logs.String())
	}
	if strings.Contains(logs.String(), testKey) {
		t.Errorf("logs show the key: %s", logs.String())
	}
}

func TestOversizedAnswerIsRefused(t *testing.T) {
	big := `{"text":"` + strings.Repeat("a", 5<<20) + `"}`
	s, srv := serve(t, status(http.StatusOK, big))
	e := newEngine(t, Config{URL: srv.URL})
	_, err := e.Transcribe(context.Background(), second())
	if err == nil || !strings.Contains(err.Error(), "over 4 MiB") {
		t.Errorf("err = %v, want the answer refused for its size", err)
	}
	if n := len(s.requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestUnreachableEndpoint(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close() // nothing listens there now
	e := newEngine(t, Config{URL: "http://" + addr, Retries: 1})
	_, err = e.Transcribe(context.Background(), second())
	if err == nil || !strings.Contains(err.Error(), "cannot reach "+addr) || !strings.Contains(err.Error(), "speech.openai.url") {
		t.Errorf("err = %v, want one naming %s and the setting to check", err, addr)
	}
}

func TestCloseReleasesIdleConnections(t *testing.T) {
	closed := make(chan struct{}, 1)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"text":"ok"}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateClosed {
			closed <- struct{}{}
		}
	}
	srv.Start()
	defer srv.Close()
	e := newEngine(t, Config{URL: srv.URL})
	if _, err := e.Transcribe(context.Background(), second()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-closed:
		t.Fatal("the connection closed before Close; nothing to test")
	case <-time.After(50 * time.Millisecond):
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-closed:
	case <-time.After(2 * time.Second):
		t.Error("the idle connection is still open after Close")
	}
	if _, err := e.Transcribe(context.Background(), second()); err == nil {
		t.Error("Transcribe after Close succeeded")
	}
}

func equalResult(a, b speech.Result) bool {
	return a.Text == b.Text && a.Language == b.Language && slices.Equal(a.Pieces, b.Pieces)
}
