package speech

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestLimiterBoundsConcurrentCalls(t *testing.T) {
	l := NewLimiter(2)
	var running, most atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.acquire(context.Background()); err != nil {
				t.Error(err)
				return
			}
			n := running.Add(1)
			for {
				m := most.Load()
				if n <= m || most.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(5 * time.Millisecond)
			running.Add(-1)
			l.release()
		}()
	}
	wg.Wait()
	if m := most.Load(); m != 2 {
		t.Errorf("%d calls at once, want 2", m)
	}
}

// A track that stops does not wait for a slot forever.
func TestLimiterAcquireGivesUp(t *testing.T) {
	l := NewLimiter(0) // counts as 1
	if err := l.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := l.acquire(ctx); err == nil {
		t.Fatal("a second call got the only slot")
	}
	var none *Limiter
	if err := none.acquire(context.Background()); err != nil {
		t.Errorf("no limiter: %v", err)
	}
	none.release()
}
