package ratelimit

import (
	"testing"
	"time"
)

func TestEachKeyHasItsOwnBurstAndRate(t *testing.T) {
	l := New(1, 3) // one a second, three at once
	t0 := time.Unix(1000, 0)
	for i := range 3 {
		if _, ok := l.Allow("a", t0); !ok {
			t.Fatalf("attempt %d of the burst refused", i+1)
		}
	}
	wait, ok := l.Allow("a", t0)
	if ok || wait <= 0 || wait > time.Second {
		t.Fatalf("fourth attempt at once: ok=%v wait=%v", ok, wait)
	}
	if _, ok := l.Allow("b", t0); !ok {
		t.Fatal("another client was refused because of the first")
	}
	if _, ok := l.Allow("a", t0.Add(time.Second)); !ok {
		t.Fatal("a second later the bucket has one token again")
	}
}

func TestIdleClientsAreForgotten(t *testing.T) {
	l := New(1, 2)
	t0 := time.Unix(1000, 0)
	for _, k := range []string{"a", "b", "c"} {
		l.Allow(k, t0)
	}
	if l.Len() != 3 {
		t.Fatalf("%d buckets", l.Len())
	}
	l.Allow("d", t0.Add(2*time.Minute))
	if l.Len() != 1 {
		t.Fatalf("after two idle minutes %d buckets remain, want only the new one", l.Len())
	}
}
