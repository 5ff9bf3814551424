package sfu

import (
	"sync"
	"sync/atomic"
	"time"
)

// Quality is what the media plane sees of one participant's network, both
// ways, since the last call to Peer.Quality.
type Quality struct {
	Loss   float64       // worst fraction of packets lost, from or to the participant
	Jitter time.Duration // worst jitter its receiver reports give
	RTT    time.Duration // worst round trip to it
	Known  bool          // false when nothing flowed either way
}

// Quality measures the participant's network: the loss on what it
// publishes (counted by the server), and the loss, jitter and round trip
// its receiver reports and congestion feedback give on what it receives.
// One caller should call it now and then: each call starts a new interval.
func (p *Peer) Quality() Quality {
	var q Quality
	p.pubMu.Lock()
	ups := make([]*UpTrack, 0, len(p.ups))
	for _, t := range p.ups {
		ups = append(ups, t)
	}
	p.pubMu.Unlock()
	for _, t := range ups {
		for _, i := range t.Layers() {
			if l := t.layer(i); l != nil {
				if loss, ok := l.arrivals.interval(); ok {
					q.Loss, q.Known = max(q.Loss, loss), true
				}
			}
		}
	}
	for _, d := range p.Subscriptions() {
		s := d.Stats()
		if s.PacketsSent == 0 {
			continue
		}
		q.Known = true
		q.Loss = max(q.Loss, s.FractionLost)
		if rate := d.up.codec.ClockRate; rate > 0 {
			q.Jitter = max(q.Jitter, time.Duration(float64(s.Jitter)/float64(rate)*float64(time.Second)))
		}
		q.RTT = max(q.RTT, time.Duration(s.RTTMillis*float64(time.Millisecond)))
	}
	if st := p.bwe.Stats(); st.Feedbacks > 0 {
		q.Loss = max(q.Loss, st.Loss)
	}
	return q
}

// arrivalCounter counts the packets of a stream that arrived against those
// its sequence numbers say were sent. The reader goroutine adds; the
// quality check reads intervals.
type arrivalCounter struct {
	received atomic.Uint64
	highest  atomic.Uint64 // extended highest sequence number, +1 (0: none yet)
	first    atomic.Uint64 // extended sequence number of the first packet, set before highest

	mu                        sync.Mutex // for interval
	lastReceived, lastHighest uint64
}

func (c *arrivalCounter) add(seq uint16) {
	c.received.Add(1)
	h := c.highest.Load()
	if h == 0 {
		c.first.Store(uint64(seq))
		c.highest.Store(uint64(seq) + 1)
		return
	}
	last := uint16(h - 1)
	if diff := seq - last; diff != 0 && diff < 0x8000 {
		c.highest.Store(h + uint64(diff))
	}
}

// interval returns the fraction lost since the last call, and whether any
// packet was expected.
func (c *arrivalCounter) interval() (float64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	received, highest := c.received.Load(), c.highest.Load()
	expected := highest - c.lastHighest
	got := received - c.lastReceived
	first := c.lastHighest == 0
	c.lastReceived, c.lastHighest = received, highest
	if first {
		expected = got // the first interval starts at the first packet
	}
	if expected == 0 {
		return 0, false
	}
	return max(0, 1-float64(got)/float64(expected)), true
}
