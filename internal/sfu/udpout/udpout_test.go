package udpout

import (
	"bytes"
	"fmt"
	"net"
	"testing"
	"time"
)

func socket(t testing.TB) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetReadBuffer(4 << 20)
	return c
}

// drained is a socket whose datagrams are read and dropped until the test ends.
func drained(t testing.TB) *net.UDPConn {
	c := socket(t)
	go func() {
		buf := make([]byte, 2000)
		for {
			if _, err := c.Read(buf); err != nil {
				return
			}
		}
	}()
	return c
}

func addrOf(c *net.UDPConn) *Addr {
	a := NewAddr(c.LocalAddr().(*net.UDPAddr).AddrPort())
	return &a
}

// datagram is a recognisable datagram of size bytes.
func datagram(id, size int) []byte {
	b := bytes.Repeat([]byte{byte(id)}, size)
	copy(b, fmt.Sprintf("%04d", id))
	return b
}

func queue(q *Queue, b []byte, to *Addr) {
	buf := append(q.Buffer(), b...)
	q.Add(buf, to)
}

// receiveAll reads n datagrams from c.
func receiveAll(t *testing.T, c *net.UDPConn, n int) [][]byte {
	t.Helper()
	var got [][]byte
	buf := make([]byte, 2000)
	for len(got) < n {
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		k, err := c.Read(buf)
		if err != nil {
			t.Fatalf("received %d of %d datagrams: %v", len(got), n, err)
		}
		got = append(got, bytes.Clone(buf[:k]))
	}
	return got
}

// Whatever the runs, each datagram arrives alone, whole, in order: a
// subscriber cannot tell a run from datagrams sent one by one.
func TestDatagramsArriveAsSentWithOrWithoutGSO(t *testing.T) {
	for _, gso := range []bool{true, false} {
		t.Run(fmt.Sprintf("gso=%v", gso), func(t *testing.T) {
			s := NewSender(socket(t), nil)
			if !gso {
				s.DisableGSO()
			} else if !s.GSO() {
				t.Skip("this kernel has no UDP GSO")
			}
			a, b := socket(t), socket(t)
			toA, toB := addrOf(a), addrOf(b)
			// To a: a run of three full datagrams and a short one, then a
			// longer one (which cannot join the run), then one to b, then a
			// again.
			sizesA := []int{1200, 1200, 1200, 700, 1200, 1200, 300}
			var wantA, wantB [][]byte
			q := NewQueue(s)
			for i, size := range sizesA[:5] {
				d := datagram(i, size)
				wantA = append(wantA, d)
				queue(q, d, toA)
			}
			d := datagram(100, 900)
			wantB = append(wantB, d)
			queue(q, d, toB)
			for i, size := range sizesA[5:] {
				d := datagram(5+i, size)
				wantA = append(wantA, d)
				queue(q, d, toA)
			}
			runs := len(q.msgs)
			q.Flush()
			if gso && runs != 4 {
				t.Errorf("%d messages for 4 runs", runs)
			}
			if !gso && runs != len(sizesA)+1 {
				t.Errorf("%d messages for %d datagrams without GSO", runs, len(sizesA)+1)
			}
			for _, c := range []struct {
				conn *net.UDPConn
				want [][]byte
			}{{a, wantA}, {b, wantB}} {
				got := receiveAll(t, c.conn, len(c.want))
				for i := range got {
					if !bytes.Equal(got[i], c.want[i]) {
						t.Fatalf("datagram %d: got %d bytes starting %q, want %d starting %q", i, len(got[i]), got[i][:4], len(c.want[i]), c.want[i][:4])
					}
				}
			}
		})
	}
}

// A queue that fills up sends what it holds and goes on: nothing is lost.
func TestAFullQueueFlushesByItself(t *testing.T) {
	s := NewSender(socket(t), nil)
	// Over maxBuffers in all, and over maxSegments per destination.
	dests := make([]*net.UDPConn, 12)
	for i := range dests {
		dests[i] = socket(t)
	}
	const each = 100
	q := NewQueue(s)
	for j, c := range dests {
		to := addrOf(c)
		for i := range each {
			queue(q, datagram(j*each+i, 200), to)
		}
	}
	q.Flush()
	for j, c := range dests {
		got := receiveAll(t, c, each)
		for i, g := range got {
			if want := datagram(j*each+i, 200); !bytes.Equal(g, want) {
				t.Fatalf("destination %d, datagram %d out of order or damaged", j, i)
			}
		}
	}
}

func TestSendingAllocatesNothing(t *testing.T) {
	s := NewSender(socket(t), nil)
	to := addrOf(drained(t))
	q := NewQueue(s)
	payload := make([]byte, 1100)
	round := func() {
		for range 8 {
			queue(q, payload, to)
		}
		q.Flush()
	}
	round() // allocates the buffers and the system call's arguments
	if allocs := testing.AllocsPerRun(200, round); allocs != 0 {
		t.Fatalf("%v allocations per flush", allocs)
	}
}

// BenchmarkRun sends a video frame's twelve packets to each of 50
// subscribers; compare -gso=false through the sub-benchmarks.
func BenchmarkRun(b *testing.B) {
	for _, gso := range []bool{true, false} {
		b.Run(fmt.Sprintf("gso=%v", gso), func(b *testing.B) {
			s := NewSender(socket(b), nil)
			if !gso {
				s.DisableGSO()
			}
			var dests []*Addr
			for range 50 {
				dests = append(dests, addrOf(drained(b)))
			}
			q := NewQueue(s)
			payload := make([]byte, 1136)
			for b.Loop() {
				for _, to := range dests {
					for range 12 {
						queue(q, payload, to)
					}
				}
				q.Flush()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(dests)*12), "ns/datagram")
		})
	}
}
