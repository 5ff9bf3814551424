package speechapi

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/visio-meet/visio/internal/speech"
	"github.com/visio-meet/visio/internal/speech/wav"
)

// toneEngine "hears" the pitch and length of what it is given, so that a
// test can tell the audio reached it whole: "1500 ms at 440 Hz". Its one
// piece covers the second half of the audio, to check that times are kept.
type toneEngine struct {
	mu    sync.Mutex
	calls []speech.Audio
	err   error
}

func (e *toneEngine) Name() string { return "tone" }

func (e *toneEngine) Transcribe(_ context.Context, a speech.Audio) (speech.Result, error) {
	e.mu.Lock()
	e.calls = append(e.calls, a)
	e.mu.Unlock()
	if e.err != nil {
		return speech.Result{}, e.err
	}
	d := a.Duration()
	text := fmt.Sprintf("%d ms at %.0f Hz", d.Milliseconds(), pitch(a.Samples))
	return speech.Result{Text: text, Language: "en", Pieces: []speech.Piece{{Start: d / 2, End: d, Text: text}}}, nil
}

func (e *toneEngine) Health(context.Context) speech.Health {
	return speech.Health{State: speech.Healthy}
}
func (e *toneEngine) Close() error { return nil }

func (e *toneEngine) audios() []speech.Audio {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]speech.Audio(nil), e.calls...)
}

// pitch counts zero crossings, rounded to 10 Hz: enough for pure tones.
func pitch(s []int16) float64 {
	crossings := 0
	for i := 1; i < len(s); i++ {
		if (s[i-1] < 0) != (s[i] < 0) {
			crossings++
		}
	}
	if len(s) == 0 {
		return 0
	}
	hz := float64(crossings) / 2 / (float64(len(s)) / speech.SampleRate)
	return math.Round(hz/10) * 10
}

func tone(freq float64, rate int, d time.Duration) []int16 {
	s := make([]int16, int(d.Seconds()*float64(rate)))
	for i := range s {
		s[i] = int16(10000 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return s
}

func wavFile(t testing.TB, samples []int16, rate int) []byte {
	var b bytes.Buffer
	if err := wav.Encode(&b, samples, rate); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// part is one field of a multipart form; a file when filename is set.
type part struct{ name, filename, value string }

func form(t testing.TB, parts ...part) (body []byte, contentType string) {
	return formWithBoundary(t, "", parts...)
}

// formWithBoundary writes parts with the given boundary, or a random one
// when it is "".
func formWithBoundary(t testing.TB, boundary string, parts ...part) (body []byte, contentType string) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	if boundary != "" {
		if err := mw.SetBoundary(boundary); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range parts {
		var w io.Writer
		var err error
		if p.filename != "" {
			w, err = mw.CreateFormFile(p.name, p.filename)
		} else {
			w, err = mw.CreateFormField(p.name)
		}
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(w, p.value)
	}
	_ = mw.Close()
	return b.Bytes(), mw.FormDataContentType()
}

func post(h http.Handler, body []byte, contentType string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, Path, bytes.NewReader(body))
	r.Header.Set("Content-Type", contentType)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// openAIError reads an error answer and checks its shape.
func openAIError(t *testing.T, w *httptest.ResponseRecorder) errorBody {
	t.Helper()
	var body errorBody
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("error Content-Type %q, want application/json", ct)
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("error body is not JSON: %v: %s", err, w.Body.String())
	}
	if body.Error.Message == "" || body.Error.Type == "" || body.Error.Code == "" {
		t.Errorf("error body lacks message, type or code: %s", w.Body.String())
	}
	return body
}

func TestResponseFormats(t *testing.T) {
	file := wavFile(t, tone(440, 16000, 1500*time.Millisecond), 16000)
	const heard = "1500 ms at 440 Hz"
	tests := []struct {
		format, contentType, want string
	}{
		{"", "application/json", `{"text":"` + heard + `"}` + "\n"},
		{"json", "application/json", `{"text":"` + heard + `"}` + "\n"},
		{"text", "text/plain; charset=utf-8", heard + "\n"},
		{"verbose_json", "application/json", `{"task":"transcribe","language":"en","duration":1.5,"text":"` + heard +
			`","segments":[{"id":0,"start":0.75,"end":1.5,"text":"` + heard + `"}]}` + "\n"},
		{"srt", "application/x-subrip; charset=utf-8", "1\n00:00:00,750 --> 00:00:01,500\n" + heard + "\n\n"},
		{"vtt", "text/vtt; charset=utf-8", "WEBVTT\n\n00:00:00.750 --> 00:00:01.500\n" + heard + "\n\n"},
		{"VTT", "text/vtt; charset=utf-8", "WEBVTT\n\n00:00:00.750 --> 00:00:01.500\n" + heard + "\n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			h := New(Config{Engine: &toneEngine{}})
			body, ct := form(t, part{"model", "", "whisper-1"}, part{"file", "a.wav", string(file)},
				part{"response_format", "", tt.format}, part{"prompt", "", "ignored"}, part{"temperature", "", "0.2"})
			w := post(h, body, ct)
			if w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, w.Body.String())
			}
			if got := w.Header().Get("Content-Type"); got != tt.contentType {
				t.Errorf("Content-Type %q, want %q", got, tt.contentType)
			}
			if got := w.Body.String(); got != tt.want {
				t.Errorf("body\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

// TestAudioReachesTheEngine sends the encodings a client may have and checks
// that the engine hears the same tone for the same time, at 16 kHz mono.
func TestAudioReachesTheEngine(t *testing.T) {
	stereo := func(mono []int16) []int16 {
		s := make([]int16, 2*len(mono))
		for i, v := range mono {
			s[2*i], s[2*i+1] = v, v
		}
		return s
	}
	tests := []struct {
		name string
		file []byte
	}{
		{"16 kHz", wavFile(t, tone(440, 16000, time.Second), 16000)},
		{"48 kHz", wavFile(t, tone(440, 48000, time.Second), 48000)},
		{"44.1 kHz", wavFile(t, tone(440, 44100, time.Second), 44100)},
		{"8 kHz", wavFile(t, tone(440, 8000, time.Second), 8000)},
		{"48 kHz stereo", stereoWAV(t, stereo(tone(440, 48000, time.Second)), 48000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			engine := &toneEngine{}
			body, ct := form(t, part{"file", "a.wav", string(tt.file)}, part{"language", "", "fr-FR"}, part{"response_format", "", "text"})
			w := post(New(Config{Engine: engine}), body, ct)
			if w.Code != http.StatusOK || w.Body.String() != "1000 ms at 440 Hz\n" {
				t.Errorf("status %d, body %q; want 1000 ms at 440 Hz", w.Code, w.Body.String())
			}
			if calls := engine.audios(); len(calls) != 1 || calls[0].Language != "fr" {
				t.Errorf("engine calls %d, language %q; want 1 call in fr", len(calls), calls[0].Language)
			}
		})
	}
}

// stereoWAV writes interleaved stereo samples: wav.Encode's mono header
// with the channel fields changed.
func stereoWAV(t *testing.T, interleaved []int16, rate int) []byte {
	file := wavFile(t, interleaved, rate)
	binary.LittleEndian.PutUint16(file[22:], 2)
	binary.LittleEndian.PutUint32(file[28:], uint32(rate*4))
	binary.LittleEndian.PutUint16(file[32:], 4)
	return file
}

// TestLongAudioIsCutAtPauses sends 75 s of tone with two short pauses near
// the 30 s limits; the engine must get chunks of at most 30 s cut inside
// the pauses, and the segments must come back on the whole file's timeline.
func TestLongAudioIsCutAtPauses(t *testing.T) {
	samples := tone(300, 16000, 75*time.Second)
	silence := func(from, to time.Duration) {
		clear(samples[int(from.Seconds()*16000):int(to.Seconds()*16000)])
	}
	silence(27*time.Second, 27200*time.Millisecond)
	silence(54*time.Second, 54300*time.Millisecond)
	engine := &toneEngine{}
	body, ct := form(t, part{"file", "long.wav", string(wavFile(t, samples, 16000))}, part{"response_format", "", "verbose_json"})
	w := post(New(Config{Engine: engine}), body, ct)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body.String())
	}
	var v verboseResponse
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	calls := engine.audios()
	if len(calls) != 3 || len(v.Segments) != 3 {
		t.Fatalf("%d engine calls and %d segments, want 3 of each", len(calls), len(v.Segments))
	}
	total := 0
	for _, c := range calls {
		if c.Duration() > 30*time.Second {
			t.Errorf("chunk of %v, over 30 s", c.Duration())
		}
		total += len(c.Samples)
	}
	if total != len(samples) {
		t.Errorf("chunks hold %d samples, the file %d", total, len(samples))
	}
	firstCut := calls[0].Duration().Seconds()
	secondCut := firstCut + calls[1].Duration().Seconds()
	if firstCut < 27 || firstCut > 27.2 || secondCut < 54 || secondCut > 54.3 {
		t.Errorf("cuts at %.3f s and %.3f s, want inside the pauses at 27–27.2 s and 54–54.3 s", firstCut, secondCut)
	}
	// Each chunk's piece is its second half: on the file's timeline, it ends
	// where the chunk ends.
	for i, end := range []float64{firstCut, secondCut, 75} {
		if math.Abs(v.Segments[i].End-end) > 0.001 {
			t.Errorf("segment %d ends at %.3f s, want %.3f s", i, v.Segments[i].End, end)
		}
	}
	if v.Duration != 75 || strings.Count(v.Text, "at 300 Hz") != 3 {
		t.Errorf("duration %.3f s, text %q; want 75 s and three chunks of 300 Hz", v.Duration, v.Text)
	}
}

func TestChunksWithoutPauses(t *testing.T) {
	noise := make([]int16, 95*speech.SampleRate+123)
	for i := range noise {
		noise[i] = int16((i*7919)%20000 - 10000)
	}
	spans := chunks(noise)
	next := 0
	for _, s := range spans {
		if s.start != next || s.end-s.start > maxChunk || s.end <= s.start {
			t.Errorf("span %+v after %d: not contiguous or over 30 s", s, next)
		}
		next = s.end
	}
	if next != len(noise) || len(spans) != 4 {
		t.Errorf("%d spans ending at %d, want 4 covering all %d samples", len(spans), next, len(noise))
	}
	if got := chunks(noise[:maxChunk]); len(got) != 1 {
		t.Errorf("exactly 30 s gives %d chunks, want 1", len(got))
	}
}

// BenchmarkHandlerWAV measures the server's own work on a minute of 48 kHz
// audio: reading the form, decoding, resampling and cutting into chunks.
func BenchmarkHandlerWAV(b *testing.B) {
	body, ct := form(b, part{"file", "a.wav", string(wavFile(b, tone(440, 48000, time.Minute), 48000))})
	h := New(Config{Engine: &toneEngine{}})
	for b.Loop() {
		if w := post(h, body, ct); w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}
