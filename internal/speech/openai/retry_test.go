package openai

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/visio-meet/visio/internal/speech"
)

// script is a server that answers each request with the next of its
// handlers (the last one repeats) and remembers when requests came.
type script struct {
	mu       sync.Mutex
	handlers []http.HandlerFunc
	times    []time.Time
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	s.mu.Lock()
	n := len(s.times)
	s.times = append(s.times, time.Now())
	h := s.handlers[min(n, len(s.handlers)-1)]
	s.mu.Unlock()
	h(w, r)
}

func (s *script) requests() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.times)
}

func status(code int, body string, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

func serve(t *testing.T, handlers ...http.HandlerFunc) (*script, *httptest.Server) {
	s := &script{handlers: handlers}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

func TestRetriesServerErrorsThenSucceeds(t *testing.T) {
	s, srv := serve(t,
		status(http.StatusBadGateway, "bad gateway"),
		status(http.StatusServiceUnavailable, `{"error":{"message":"model loading"}}`),
		status(http.StatusOK, `{"text":"finally"}`))
	e := newEngine(t, Config{URL: srv.URL})
	res, err := e.Transcribe(context.Background(), second())
	if err != nil || res.Text != "finally" {
		t.Fatalf("got %+v, %v; want the third answer", res, err)
	}
	if n := len(s.requests()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
	if h := e.Health(context.Background()); h.State != speech.Degraded || !strings.Contains(h.Detail, "retries") {
		t.Errorf("health after a call that needed retries = %+v, want degraded, saying so", h)
	}
}

func TestRetriesAreBoundedAndBackOff(t *testing.T) {
	s, srv := serve(t, status(http.StatusInternalServerError, "boom"))
	e := newEngine(t, Config{URL: srv.URL, Retries: 3})
	e.baseDelay, e.maxDelay = 40*time.Millisecond, time.Second
	_, err := e.Transcribe(context.Background(), second())
	if err == nil || !strings.Contains(err.Error(), "500") {
		t.Fatalf("err = %v, want the 500", err)
	}
	times := s.requests()
	if len(times) != 4 {
		t.Fatalf("%d requests, want 1 + 3 retries", len(times))
	}
	// Delays are base·2^i with up to half of it taken off by jitter.
	for i := 1; i < len(times); i++ {
		gap, least := times[i].Sub(times[i-1]), e.baseDelay<<(i-1)/2
		if gap < least {
			t.Errorf("retry %d came %v after the previous attempt, want at least %v", i, gap, least)
		}
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	s, srv := serve(t,
		status(http.StatusTooManyRequests, "slow down", "Retry-After", "1"),
		status(http.StatusOK, `{"text":"ok"}`))
	e := newEngine(t, Config{URL: srv.URL})
	if _, err := e.Transcribe(context.Background(), second()); err != nil {
		t.Fatal(err)
	}
	times := s.requests()
	if len(times) != 2 {
		t.Fatalf("%d requests, want 2", len(times))
	}
	if gap := times[1].Sub(times[0]); gap < 950*time.Millisecond {
		t.Errorf("retried %v after a Retry-After of 1 s", gap)
	}
}

func TestRetryAfterIsCapped(t *testing.T) {
	s, srv := serve(t,
		status(http.StatusServiceUnavailable, "", "Retry-After", "3600"),
		status(http.StatusOK, `{"text":"ok"}`))
	e := newEngine(t, Config{URL: srv.URL})
	e.maxRetryAfter = 100 * time.Millisecond
	start := time.Now()
	if _, err := e.Transcribe(context.Background(), second()); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 2*time.Second || len(s.requests()) != 2 {
		t.Errorf("took %v and %d requests; want the hour of Retry-After capped", took, len(s.requests()))
	}
}

func TestTimeoutPerAttempt(t *testing.T) {
	s, srv := serve(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	e := newEngine(t, Config{URL: srv.URL, Timeout: 100 * time.Millisecond, Retries: 1})
	start := time.Now()
	_, err := e.Transcribe(context.Background(), second())
	if err == nil || !strings.Contains(err.Error(), "did not answer within 100ms") {
		t.Errorf("err = %v, want a timeout", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("took %v for two attempts of 100 ms", took)
	}
	if n := len(s.requests()); n != 2 {
		t.Errorf("%d requests, want 2 (timeouts are retried)", n)
	}
}

func TestCancelStopsRetries(t *testing.T) {
	s, srv := serve(t, status(http.StatusServiceUnavailable, "down"))
	e := newEngine(t, Config{URL: srv.URL, Retries: 10})
	e.baseDelay, e.maxDelay = 10*time.Second, 10*time.Second
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := e.Transcribe(ctx, second())
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("returned %v after the cancellation", took)
	}
	if n := len(s.requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
	// The caller gave up: that says nothing about the endpoint.
	if _, ok := e.health.fromCalls(e.host); ok {
		t.Error("a cancelled call was counted in the health")
	}
}

func TestNoRetryPastTheDeadline(t *testing.T) {
	_, srv := serve(t, status(http.StatusServiceUnavailable, "down"))
	e := newEngine(t, Config{URL: srv.URL})
	e.baseDelay, e.maxDelay = 5*time.Second, 5*time.Second
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	_, err := e.Transcribe(ctx, second())
	if err == nil || !strings.Contains(err.Error(), "503") || time.Since(start) > 500*time.Millisecond {
		t.Errorf("err = %v after %v; want the 503 at once, as no retry fits before the deadline", err, time.Since(start))
	}
}

func TestConcurrencyLimit(t *testing.T) {
	var inFlight, most atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(50 * time.Millisecond)
		inFlight.Add(-1)
		_, _ = io.WriteString(w, `{"text":"ok"}`)
	}))
	defer srv.Close()
	e := newEngine(t, Config{URL: srv.URL, Concurrency: 2})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := e.Transcribe(context.Background(), second()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if m := most.Load(); m != 2 {
		t.Errorf("at most %d requests in flight, want 2", m)
	}
}

func TestWaitingForASlotRespectsContext(t *testing.T) {
	release := make(chan struct{})
	s, srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		_, _ = io.WriteString(w, `{"text":"ok"}`)
	})
	defer close(release)
	e := newEngine(t, Config{URL: srv.URL, Concurrency: 1})
	first := make(chan error, 1)
	go func() {
		_, err := e.Transcribe(context.Background(), second())
		first <- err
	}()
	for len(s.requests()) == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := e.Transcribe(ctx, second())
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > time.Second {
		t.Errorf("err = %v after %v; want the deadline, at 100 ms", err, time.Since(start))
	}
	if n := len(s.requests()); n != 1 {
		t.Errorf("%d requests, want only the first one", n)
	}
	release <- struct{}{}
	if err := <-first; err != nil {
		t.Errorf("first call: %v", err)
	}
}
