package openai

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/visio-meet/visio/internal/speech"
)

const (
	// recentCalls is how many calls Health looks back on.
	recentCalls = 10
	// downAfter failed calls in a row make the endpoint down.
	downAfter = 3
	// probeTTL is how long the answer of a probe is kept, so that hosts
	// refreshing a status page do not each send a request.
	probeTTL = 30 * time.Second
	// probeSamples is the probe's audio: half a second of silence.
	probeSamples = speech.SampleRate / 2
)

// Health says how the endpoint did in the recent calls. Before any call, it
// sends one probe (half a second of silence) and keeps its answer for 30 s,
// so that hosts see at once whether the endpoint answers.
func (e *Engine) Health(ctx context.Context) speech.Health {
	if h, ok := e.health.fromCalls(e.host); ok {
		return h
	}
	select {
	case e.probing <- struct{}{}:
	case <-ctx.Done():
		return speech.Health{State: speech.Degraded, Detail: fmt.Sprintf("the check of the transcription server at %s was cancelled before it answered", e.host)}
	}
	defer func() { <-e.probing }()
	// Another Health may have probed while this one waited.
	if h, ok := e.health.cachedProbe(time.Now()); ok {
		return h
	}
	silence := speech.Audio{Samples: make([]int16, probeSamples)}
	_, _, err := e.transcribe(ctx, silence, 0, min(e.timeout, maxProbeTimeout))
	if ctx.Err() != nil {
		return speech.Health{State: speech.Degraded, Detail: fmt.Sprintf("the check of the transcription server at %s was cancelled before it answered", e.host)}
	}
	h := speech.Health{State: speech.Healthy, Detail: fmt.Sprintf("the transcription server at %s answers a test request", e.host)}
	if err != nil {
		h = speech.Health{State: speech.Down, Detail: fmt.Sprintf("a test request failed: %v", err)}
	}
	e.health.storeProbe(h, time.Now())
	return h
}

// outcome is what one call came to.
type outcome struct {
	err     error
	retried bool
}

// tracker keeps the outcomes of the recent calls and the last probe.
type tracker struct {
	mu       sync.Mutex
	recent   []outcome // oldest first
	probe    speech.Health
	probedAt time.Time
}

func (t *tracker) record(attempts int, err error) {
	if attempts == 0 {
		return // no request was sent
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.recent) == recentCalls {
		t.recent = append(t.recent[:0], t.recent[1:]...)
	}
	t.recent = append(t.recent, outcome{err: err, retried: attempts > 1})
}

// fromCalls sums up the recent calls; false before the first one.
func (t *tracker) fromCalls(host string) (speech.Health, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(t.recent)
	if n == 0 {
		return speech.Health{}, false
	}
	failed, retried, failedInRow := 0, 0, 0
	var lastErr error
	for _, o := range t.recent {
		switch {
		case o.err != nil:
			failed++
			lastErr = o.err
			failedInRow++
		case o.retried:
			retried++
			failedInRow = 0
		default:
			failedInRow = 0
		}
	}
	switch {
	case failedInRow >= downAfter:
		return speech.Health{State: speech.Down, Detail: fmt.Sprintf("the last %d calls failed: %v", failedInRow, lastErr)}, true
	case failed > 0:
		return speech.Health{State: speech.Degraded, Detail: fmt.Sprintf("%d of the last %d calls failed; the last error: %v", failed, n, lastErr)}, true
	case retried > 0:
		return speech.Health{State: speech.Degraded, Detail: fmt.Sprintf("%d of the last %d calls to %s needed retries; the transcription server may be overloaded", retried, n, host)}, true
	}
	return speech.Health{State: speech.Healthy, Detail: fmt.Sprintf("the last %d calls to %s succeeded", n, host)}, true
}

func (t *tracker) cachedProbe(now time.Time) (speech.Health, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.probedAt.IsZero() || now.Sub(t.probedAt) > probeTTL {
		return speech.Health{}, false
	}
	return t.probe, true
}

func (t *tracker) storeProbe(h speech.Health, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.probe, t.probedAt = h, now
}
