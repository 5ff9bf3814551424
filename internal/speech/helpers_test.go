package speech

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// fakeEngine answers each utterance with its duration ("1.52s"), and records
// the calls. When gate is set, a call waits for a value on it.
type fakeEngine struct {
	gate  chan struct{}
	fail  func(call int) error // nil: never fails
	delay time.Duration        // each call takes this long

	running, most atomic.Int32 // calls in progress, and the most at once

	mu    sync.Mutex
	calls []Audio
}

func (e *fakeEngine) Name() string { return "fake" }

func (e *fakeEngine) Transcribe(ctx context.Context, a Audio) (Result, error) {
	e.mu.Lock()
	call := len(e.calls)
	e.calls = append(e.calls, Audio{Samples: append([]int16(nil), a.Samples...), Language: a.Language})
	e.mu.Unlock()
	n := e.running.Add(1)
	defer e.running.Add(-1)
	for m := e.most.Load(); n > m && !e.most.CompareAndSwap(m, n); m = e.most.Load() {
	}
	time.Sleep(e.delay)
	if e.gate != nil {
		select {
		case <-e.gate:
		case <-ctx.Done():
			return Result{}, ctx.Err()
		}
	}
	if e.fail != nil {
		if err := e.fail(call); err != nil {
			return Result{}, err
		}
	}
	return Result{Text: durationText(len(a.Samples))}, nil
}

func (e *fakeEngine) Health(context.Context) Health { return Health{State: Healthy} }

func (e *fakeEngine) Close() error { return nil }

func (e *fakeEngine) audios() []Audio {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Audio(nil), e.calls...)
}

func durationText(samples int) string {
	return fmt.Sprintf("%.2fs", float64(samples)/SampleRate)
}

// fakeStreamer is a streaming fakeEngine: the partial text is how much audio
// the stream has had, the final text the same with "final".
type fakeStreamer struct {
	fakeEngine
	mu      sync.Mutex
	writes  int
	streams int
	most    int // samples in the longest utterance
}

func (e *fakeStreamer) longest() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.most
}

func (e *fakeStreamer) NewStream(language string) (Stream, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.streams++
	return &fakeStream{engine: e}, nil
}

type fakeStream struct {
	engine  *fakeStreamer
	samples int
	closed  bool
}

func (s *fakeStream) Write(samples []int16) (string, error) {
	if s.closed {
		return "", fmt.Errorf("write on a closed stream")
	}
	s.engine.mu.Lock()
	s.engine.writes++
	s.engine.mu.Unlock()
	s.samples += len(samples)
	return durationText(s.samples), nil
}

func (s *fakeStream) End() (Result, error) {
	s.engine.mu.Lock()
	s.engine.most = max(s.engine.most, s.samples)
	s.engine.mu.Unlock()
	r := Result{Text: "final " + durationText(s.samples)}
	s.samples = 0
	return r, nil
}

func (s *fakeStream) Close() { s.closed = true }

// collector gathers a track's segments.
type collector struct {
	mu   sync.Mutex
	segs []Segment
	ch   chan Segment
}

func newCollector() *collector { return &collector{ch: make(chan Segment, 1000)} }

func (c *collector) emit(s Segment) {
	c.mu.Lock()
	c.segs = append(c.segs, s)
	c.mu.Unlock()
	c.ch <- s
}

func (c *collector) all() []Segment {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Segment(nil), c.segs...)
}

func (c *collector) finals() []Segment {
	var out []Segment
	for _, s := range c.all() {
		if s.Final {
			out = append(out, s)
		}
	}
	return out
}

// waitFinal waits for the next final segment.
func (c *collector) waitFinal(t testing.TB) Segment {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case s := <-c.ch:
			if s.Final {
				return s
			}
		case <-timeout:
			t.Fatal("no final segment within 10 s")
		}
	}
}

func near(got, want, tolerance time.Duration) bool {
	d := got - want
	return d <= tolerance && d >= -tolerance
}
