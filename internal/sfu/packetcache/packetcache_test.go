package packetcache

import (
	"bytes"
	"sync"
	"testing"
)

func packet(seq uint16, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(seq) + byte(i)
	}
	return b
}

func TestStoreAndGet(t *testing.T) {
	c := New(100)
	if c.Size() != 128 {
		t.Fatalf("size = %d, want 128", c.Size())
	}
	dst := make([]byte, MaxPacketSize)
	for seq := uint16(65500); seq != 100; seq++ { // crosses the wrap-around
		c.Store(seq, packet(seq, 200+int(seq%50)))
	}
	end := uint16(100)
	for seq := end - 128; seq != end; seq++ {
		n := c.Get(seq, dst)
		if !bytes.Equal(dst[:n], packet(seq, 200+int(seq%50))) {
			t.Fatalf("seq %d: got %d bytes, not the stored packet", seq, n)
		}
	}
	if n := c.Get(end-129, dst); n != 0 {
		t.Fatalf("a packet older than the window was returned (%d bytes)", n)
	}
	if n := c.Get(100, dst); n != 0 {
		t.Fatalf("a packet never stored was returned (%d bytes)", n)
	}
}

func TestLateAndOversizePackets(t *testing.T) {
	c := New(16)
	dst := make([]byte, MaxPacketSize)
	c.Store(1000, packet(1000, 10))
	c.Store(999, packet(999, 10)) // late but inside the window: kept
	if c.Get(999, dst) != 10 {
		t.Fatal("a late packet inside the window was not kept")
	}
	c.Store(900, packet(900, 10)) // outside the window: must not evict 1000-... slots
	if c.Get(900, dst) != 0 {
		t.Fatal("a packet older than the window was stored")
	}
	if c.Get(1000, dst) != 10 {
		t.Fatal("an old packet evicted a newer one")
	}
	c.Store(1001, make([]byte, MaxPacketSize+1))
	if c.Get(1001, dst) != 0 {
		t.Fatal("an oversized packet was stored")
	}
	if c.Get(1000, make([]byte, 5)) != 0 {
		t.Fatal("Get wrote into a destination that is too small")
	}
}

func TestConcurrentReaders(t *testing.T) {
	c := New(64)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			dst := make([]byte, MaxPacketSize)
			for seq := range uint16(5000) {
				if n := c.Get(seq, dst); n > 0 && !bytes.Equal(dst[:n], packet(seq, 100)) {
					t.Errorf("seq %d: torn or wrong packet", seq)
					return
				}
			}
		})
	}
	for seq := range uint16(5000) {
		c.Store(seq, packet(seq, 100))
	}
	wg.Wait()
}

func BenchmarkStore(b *testing.B) {
	c := New(512)
	pkt := packet(0, 1200)
	seq := uint16(0)
	for b.Loop() {
		c.Store(seq, pkt)
		seq++
	}
}
