package openai

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/visio-meet/visio/internal/speech"
	"github.com/visio-meet/visio/internal/speech/wav"
)

// TestHealthProbesOnceBeforeAnyCall checks that a new engine's health comes
// from one real request, of half a second of audio, and that hosts asking
// again within 30 s do not send more.
func TestHealthProbesOnceBeforeAnyCall(t *testing.T) {
	var calls atomic.Int32
	var probeSamples atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		f, _, err := r.FormFile("file")
		if err == nil {
			samples, _, _, _ := wav.Decode(f, 1<<20)
			probeSamples.Store(int64(len(samples)))
		}
		_, _ = io.WriteString(w, `{"text":""}`)
	}))
	defer srv.Close()
	e := newEngine(t, Config{URL: srv.URL})
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			if h := e.Health(context.Background()); h.State != speech.Healthy {
				t.Errorf("health = %+v, want healthy", h)
			}
		})
	}
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Errorf("%d probe requests for 5 health checks, want 1", n)
	}
	if n := probeSamples.Load(); n != speech.SampleRate/2 {
		t.Errorf("probe sent %d samples, want half a second (%d)", n, speech.SampleRate/2)
	}
	// A probe is no call: the first real call still decides.
	if _, ok := e.health.fromCalls(e.host); ok {
		t.Error("the probe was counted as a call")
	}
}

func TestHealthProbeExpires(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		_, _ = io.WriteString(w, `{"text":""}`)
	}))
	defer srv.Close()
	e := newEngine(t, Config{URL: srv.URL})
	e.Health(context.Background())
	// As if the probe were older than its time to live.
	e.health.storeProbe(speech.Health{State: speech.Healthy}, time.Now().Add(-probeTTL-time.Second))
	e.Health(context.Background())
	if n := calls.Load(); n != 2 {
		t.Errorf("%d probe requests, want 2: the first answer had expired", n)
	}
}

func TestHealthProbeFailure(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"refused key", status(http.StatusUnauthorized, `{"error":{"message":"bad key"}}`), "check speech.openai.api_key"},
		{"wrong URL", status(http.StatusNotFound, "404 page not found"), "check speech.openai.url"},
		{"server error", status(http.StatusInternalServerError, "CUDA out of memory"), "CUDA out of memory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, srv := serve(t, tt.handler)
			e := newEngine(t, Config{URL: srv.URL})
			h := e.Health(context.Background())
			if h.State != speech.Down || !strings.Contains(h.Detail, tt.want) {
				t.Errorf("health = %+v, want down, saying %q", h, tt.want)
			}
			if n := len(s.requests()); n != 1 {
				t.Errorf("%d probe requests, want 1 (a probe is not retried)", n)
			}
		})
	}
}

// TestHealthFollowsCalls plays a story: calls succeed, one fails, three
// fail in a row, and then the endpoint recovers.
func TestHealthFollowsCalls(t *testing.T) {
	var failing atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, "GPU fell off the bus")
			return
		}
		_, _ = io.WriteString(w, `{"text":"ok"}`)
	}))
	defer srv.Close()
	e := newEngine(t, Config{URL: srv.URL, Retries: -1})
	call := func(fail bool) {
		failing.Store(fail)
		_, _ = e.Transcribe(context.Background(), second())
	}
	expect := func(step string, want speech.HealthState, says string) {
		t.Helper()
		h := e.Health(context.Background())
		if h.State != want || !strings.Contains(h.Detail, says) {
			t.Errorf("%s: health = %+v, want %s saying %q", step, h, want, says)
		}
	}
	call(false)
	expect("one success", speech.Healthy, "succeeded")
	call(true)
	expect("one failure", speech.Degraded, "1 of the last 2 calls failed")
	call(true)
	expect("two failures", speech.Degraded, "GPU fell off the bus")
	call(true)
	expect("three failures in a row", speech.Down, "the last 3 calls failed")
	call(false)
	expect("recovering", speech.Degraded, "3 of the last 5 calls failed")
	for range recentCalls {
		call(false)
	}
	expect(fmt.Sprintf("%d successes", recentCalls), speech.Healthy, "succeeded")
}

func TestHealthCancelledProbe(t *testing.T) {
	_, srv := serve(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	e := newEngine(t, Config{URL: srv.URL})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if h := e.Health(ctx); h.State == speech.Healthy || !strings.Contains(h.Detail, "cancelled") {
		t.Errorf("health = %+v, want a cancelled check", h)
	}
	if _, ok := e.health.cachedProbe(time.Now()); ok {
		t.Error("a cancelled probe was cached")
	}
}
