package openai_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/visio-meet/visio/internal/speech"
	"github.com/visio-meet/visio/internal/speech/openai"
	"github.com/visio-meet/visio/internal/speech/speechapi"
)

// measuringEngine stands behind the Visio endpoint: it "hears" how long the
// audio is and how loud, and gives one piece for the second half of it, so
// that the client's result shows what arrived and where.
type measuringEngine struct {
	calls atomic.Int32
	err   error
}

func (e *measuringEngine) Name() string { return "measuring" }

func (e *measuringEngine) Transcribe(_ context.Context, a speech.Audio) (speech.Result, error) {
	e.calls.Add(1)
	if e.err != nil {
		return speech.Result{}, e.err
	}
	var sum float64
	for _, s := range a.Samples {
		sum += float64(s) * float64(s)
	}
	rms := math.Sqrt(sum / float64(max(len(a.Samples), 1)))
	text := fmt.Sprintf("%d ms, rms %.0f", a.Duration().Milliseconds(), rms)
	d := a.Duration()
	return speech.Result{Text: text, Language: a.Language, Pieces: []speech.Piece{{Start: d / 2, End: d, Text: text}}}, nil
}

func (e *measuringEngine) Health(context.Context) speech.Health {
	return speech.Health{State: speech.Healthy}
}
func (e *measuringEngine) Close() error { return nil }

const key = "visio-token-for-tests"

// visio serves a Visio transcription endpoint that wants the bearer token.
func visio(t *testing.T, engine speech.Engine) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(speechapi.Path, speechapi.New(speechapi.Config{
		Engine: engine,
		Authorize: func(r *http.Request) error {
			if r.Header.Get("Authorization") != "Bearer "+key {
				return speechapi.ErrUnauthorized
			}
			return nil
		},
	}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func client(t *testing.T, cfg openai.Config) *openai.Engine {
	t.Helper()
	e, err := openai.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// square is a square wave of amplitude 1000, whose rms is exactly 1000: it
// stays at 16 kHz from the client to the engine, so the engine's measure
// shows whether the samples arrived unchanged.
func square(d time.Duration) []int16 {
	s := make([]int16, int(d.Seconds()*speech.SampleRate))
	for i := range s {
		s[i] = 1000
		if i/40%2 == 1 {
			s[i] = -1000
		}
	}
	return s
}

func TestOneVisioTranscribingThroughAnother(t *testing.T) {
	srv := visio(t, &measuringEngine{})
	e := client(t, openai.Config{URL: srv.URL, APIKey: key})
	if h := e.Health(context.Background()); h.State != speech.Healthy {
		t.Errorf("health before any call = %+v, want healthy", h)
	}
	res, err := e.Transcribe(context.Background(), speech.Audio{Samples: square(2 * time.Second), Language: "fr"})
	if err != nil {
		t.Fatal(err)
	}
	want := speech.Result{Text: "2000 ms, rms 1000", Language: "fr",
		Pieces: []speech.Piece{{Start: time.Second, End: 2 * time.Second, Text: "2000 ms, rms 1000"}}}
	if res.Text != want.Text || res.Language != want.Language || len(res.Pieces) != 1 || res.Pieces[0] != want.Pieces[0] {
		t.Errorf("result = %+v, want %+v", res, want)
	}
}

func TestLongUtteranceThroughVisio(t *testing.T) {
	engine := &measuringEngine{}
	srv := visio(t, engine)
	e := client(t, openai.Config{URL: srv.URL + "/v1", APIKey: key})
	res, err := e.Transcribe(context.Background(), speech.Audio{Samples: square(70 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if n := engine.calls.Load(); n != 3 || len(res.Pieces) != 3 {
		t.Fatalf("%d engine calls, %d pieces; want 70 s cut in 3 chunks", n, len(res.Pieces))
	}
	if last := res.Pieces[2]; last.End != 70*time.Second {
		t.Errorf("last piece ends at %v, want 70s: times are on the utterance's timeline", last.End)
	}
	for i := 1; i < 3; i++ {
		if res.Pieces[i].Start <= res.Pieces[i-1].End {
			t.Errorf("piece %d starts at %v, before the end of the previous one at %v", i, res.Pieces[i].Start, res.Pieces[i-1].End)
		}
	}
}

func TestWrongKeyAtVisio(t *testing.T) {
	engine := &measuringEngine{}
	srv := visio(t, engine)
	e := client(t, openai.Config{URL: srv.URL, APIKey: "wrong-key-1234"})
	_, err := e.Transcribe(context.Background(), speech.Audio{Samples: square(time.Second)})
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "check speech.openai.api_key") {
		t.Fatalf("err = %v, want a 401 pointing to speech.openai.api_key", err)
	}
	if !errors.Is(err, speech.ErrUnavailable) || strings.Contains(err.Error(), "wrong-key-1234") {
		t.Errorf("err = %v: want speech.ErrUnavailable and no key", err)
	}
	if engine.calls.Load() != 0 {
		t.Error("the engine behind the endpoint was called")
	}
}

func TestEngineDownBehindVisio(t *testing.T) {
	engine := &measuringEngine{err: fmt.Errorf("no model: %w", speech.ErrUnavailable)}
	srv := visio(t, engine)
	e := client(t, openai.Config{URL: srv.URL, APIKey: key, Retries: -1})
	for range 3 {
		_, err := e.Transcribe(context.Background(), speech.Audio{Samples: square(time.Second)})
		if err == nil || !strings.Contains(err.Error(), "503") {
			t.Fatalf("err = %v, want the 503", err)
		}
	}
	if h := e.Health(context.Background()); h.State != speech.Down || !strings.Contains(h.Detail, "not available") {
		t.Errorf("health = %+v, want down, with the endpoint's reason", h)
	}
}
