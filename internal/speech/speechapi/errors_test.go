package speechapi

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/visio-meet/visio/internal/speech"
)

func TestBadRequests(t *testing.T) {
	good := string(wavFile(t, tone(440, 16000, time.Second), 16000))
	adpcm := []byte(good)
	adpcm[20] = 2 // format tag: Microsoft ADPCM
	damaged := "RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00"
	vorbis := "OggS\x00\x02" + strings.Repeat("\x00", 20) + "\x01\x1e\x01vorbis" + strings.Repeat("\x00", 23)
	multi := func(parts ...part) func(t *testing.T) ([]byte, string) {
		return func(t *testing.T) ([]byte, string) { return form(t, parts...) }
	}
	raw := func(body, contentType string) func(t *testing.T) ([]byte, string) {
		return func(*testing.T) ([]byte, string) { return []byte(body), contentType }
	}
	tests := []struct {
		name        string
		body        func(t *testing.T) ([]byte, string)
		cfg         Config
		status      int
		code, param string
		says        string
	}{
		{"not multipart", raw(`{"file":"x"}`, "application/json"), Config{}, 400, "invalid_content_type", "", "multipart/form-data"},
		{"no boundary", raw("x", "multipart/form-data"), Config{}, 400, "invalid_content_type", "", "multipart/form-data"},
		{"no file", multi(part{"model", "", "whisper-1"}), Config{}, 400, "invalid_value", "file", `no "file" field`},
		{"file as a plain field", multi(part{"file", "", good}), Config{}, 200, "", "", ""},
		{"two files", multi(part{"file", "a.wav", good}, part{"file", "b.wav", good}), Config{}, 400, "invalid_value", "file", "one file"},
		{"empty file", multi(part{"file", "a.wav", ""}), Config{}, 400, "invalid_value", "file", "empty"},
		{"garbage", multi(part{"file", "a.wav", "hello, this is not audio"}), Config{}, 415, "unsupported_audio_format", "file", "send WAV"},
		{"MP3", multi(part{"file", "a.mp3", "ID3\x04\x00\x00\x00\x00\x00\x00"}), Config{}, 415, "unsupported_audio_format", "file", "(MP3)"},
		{"ADPCM WAV", multi(part{"file", "a.wav", string(adpcm)}), Config{}, 415, "unsupported_audio_format", "file", "WAV encoding"},
		{"damaged WAV", multi(part{"file", "a.wav", damaged}), Config{}, 400, "invalid_audio", "file", "damaged"},
		{"silent WAV of no samples", multi(part{"file", "a.wav", good[:44]}), Config{}, 400, "invalid_value", "file", "no audio"},
		{"Ogg Vorbis", multi(part{"file", "a.ogg", vorbis}), Config{}, 415, "unsupported_audio_format", "file", "without an Opus stream"},
		{"body too large", multi(part{"file", "a.wav", good}), Config{MaxBytes: 10 << 10}, 413, "request_too_large", "", "limit"},
		{"audio too long", multi(part{"file", "a.wav", good}), Config{MaxDuration: 500 * time.Millisecond}, 413, "audio_too_long", "file", "limit is 500ms"},
		{"unknown format", multi(part{"file", "a.wav", good}, part{"response_format", "", "xml"}), Config{}, 400, "invalid_value", "response_format", "json, text, verbose_json, srt, vtt"},
		{"bad language", multi(part{"file", "a.wav", good}, part{"language", "", "fr!"}), Config{}, 400, "invalid_value", "language", "ISO 639-1"},
		{"huge prompt", multi(part{"file", "a.wav", good}, part{"prompt", "", strings.Repeat("a", 65<<10)}), Config{}, 400, "invalid_value", "prompt", "over 64 KiB"},
		{"body cut short", func(t *testing.T) ([]byte, string) {
			body, ct := form(t, part{"file", "a.wav", good}, part{"language", "", "en"})
			return body[:len(body)-60], ct
		}, Config{}, 400, "invalid_multipart", "", "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			engine := &toneEngine{}
			tt.cfg.Engine = engine
			body, ct := tt.body(t)
			w := post(New(tt.cfg), body, ct)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body.String())
			}
			if tt.status == http.StatusOK {
				return
			}
			e := openAIError(t, w)
			param := ""
			if e.Error.Param != nil {
				param = *e.Error.Param
			}
			if e.Error.Code != tt.code || param != tt.param || e.Error.Type != "invalid_request_error" || !strings.Contains(e.Error.Message, tt.says) {
				t.Errorf("error %+v (param %q), want code %s, param %q, saying %q", e.Error, param, tt.code, tt.param, tt.says)
			}
			if n := len(engine.audios()); n != 0 {
				t.Errorf("the engine was called %d times for a bad request", n)
			}
		})
	}
}

func TestMethodNotAllowed(t *testing.T) {
	w := httptest.NewRecorder()
	New(Config{Engine: &toneEngine{}}).ServeHTTP(w, httptest.NewRequest(http.MethodGet, Path, nil))
	if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != http.MethodPost {
		t.Errorf("GET: status %d, Allow %q; want 405 and POST", w.Code, w.Header().Get("Allow"))
	}
	openAIError(t, w)
}

func TestAuthorization(t *testing.T) {
	good := string(wavFile(t, tone(440, 16000, time.Second), 16000))
	tests := []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"allowed", nil, 200, ""},
		{"no token", fmt.Errorf("bearer token: %w", ErrUnauthorized), 401, "invalid_api_key"},
		{"wrong scope", fmt.Errorf("token lacks speech:transcribe: %w", ErrForbidden), 403, "forbidden"},
		{"store down", errors.New("token store at /var/lib/visio/db: disk I/O error"), 500, "authorization_failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			engine := &toneEngine{}
			var asked *http.Request
			h := New(Config{Engine: engine, Authorize: func(r *http.Request) error { asked = r; return tt.err }})
			body, ct := form(t, part{"file", "a.wav", good})
			w := post(h, body, ct)
			if asked == nil || w.Code != tt.status {
				t.Fatalf("status %d (Authorize called: %v), want %d", w.Code, asked != nil, tt.status)
			}
			if tt.status == http.StatusOK {
				return
			}
			e := openAIError(t, w)
			if e.Error.Code != tt.code || strings.Contains(e.Error.Message, "/var/lib") {
				t.Errorf("error %+v, want code %s and no internals", e.Error, tt.code)
			}
			if tt.status == 401 && !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 without WWW-Authenticate: Bearer")
			}
			if len(engine.audios()) != 0 {
				t.Error("the engine was called for a refused request")
			}
		})
	}
}

func TestEngineFailures(t *testing.T) {
	good := string(wavFile(t, tone(440, 16000, time.Second), 16000))
	tests := []struct {
		name   string
		err    error
		status int
		typ    string
	}{
		{"unavailable", fmt.Errorf("no model in /srv/models: %w", speech.ErrUnavailable), 503, "server_error"},
		{"failed", errors.New("onnxruntime: out of memory at /srv/models/x.onnx"), 500, "server_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, ct := form(t, part{"file", "a.wav", good})
			w := post(New(Config{Engine: &toneEngine{err: tt.err}}), body, ct)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d", w.Code, tt.status)
			}
			e := openAIError(t, w)
			if e.Error.Type != tt.typ || strings.Contains(e.Error.Message, "/srv") || !strings.Contains(e.Error.Message, "try again later") {
				t.Errorf("error %+v: want %s, no internals, and what to do", e.Error, tt.typ)
			}
		})
	}
}

func TestNoEngine(t *testing.T) {
	body, ct := form(t, part{"file", "a.wav", string(wavFile(t, tone(440, 16000, time.Second), 16000))})
	w := post(New(Config{}), body, ct)
	if w.Code != http.StatusServiceUnavailable || openAIError(t, w).Error.Code != "engine_unavailable" {
		t.Errorf("no engine: status %d, body %s; want 503 engine_unavailable", w.Code, w.Body.String())
	}
}
