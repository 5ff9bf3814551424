package speechapi

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"
)

// FuzzHandler posts what any client may send as the multipart body: the
// handler must not panic, must answer only with a result or a client
// error in OpenAI's shape, and must give the engine only audio it can take.
// testdata/fuzz/FuzzHandler holds an Ogg Opus seed made with opusenc.
func FuzzHandler(f *testing.F) {
	const boundary = "fuzzboundary"
	seed := func(parts ...part) {
		body, _ := formWithBoundary(f, boundary, parts...)
		f.Add(body)
	}
	wav16 := string(wavFile(f, tone(440, 16000, 100*time.Millisecond), 16000))
	wav44 := string(wavFile(f, tone(440, 44100, 100*time.Millisecond), 44100))
	seed(part{"file", "a.wav", wav16}, part{"response_format", "", "verbose_json"}, part{"language", "", "fr"})
	seed(part{"file", "a.wav", wav44}, part{"response_format", "", "srt"})
	seed(part{"model", "", "whisper-1"}, part{"file", "a.wav", wav16[:50]})
	seed(part{"file", "a.ogg", "OggS\x00\x02" + string(make([]byte, 40))})
	seed(part{"prompt", "", "hello"})

	f.Fuzz(func(t *testing.T, body []byte) {
		engine := &toneEngine{}
		h := New(Config{Engine: engine, MaxBytes: 256 << 10, MaxDuration: time.Minute})
		w := post(h, body, "multipart/form-data; boundary="+boundary)
		if !slices.Contains([]int{http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType}, w.Code) {
			t.Fatalf("status %d: %s", w.Code, w.Body.String())
		}
		if w.Code != http.StatusOK {
			var e errorBody
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error.Message == "" || e.Error.Code == "" {
				t.Fatalf("error not in OpenAI's shape: %s", w.Body.String())
			}
		}
		for _, a := range engine.audios() {
			if len(a.Samples) == 0 || len(a.Samples) > maxChunk {
				t.Fatalf("engine given %d samples", len(a.Samples))
			}
		}
	})
}
