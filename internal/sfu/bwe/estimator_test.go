package bwe

import (
	"testing"

	"github.com/pion/rtcp"
)

// link simulates a bottleneck: a FIFO queue drained at capacity bits per
// second, which drops what would wait more than 100 ms (as tc's tbf does).
type link struct {
	capacity int
	freeAt   int64 // µs when the queue is empty
	queueUS  int64 // longest wait before a drop; 100 ms if 0

	// A receiver short of CPU reads its socket late: every stallEvery µs
	// it stops for stallFor µs, then takes what waited all at once.
	stallEvery, stallFor int64
	readAt               int64 // µs the receiver last read a packet
	// A receiver whose CPU is taken by other work now and then falls
	// behind: for busyFor µs out of every busyEvery it reads more slowly
	// than packets come, slow µs late per µs, then catches up.
	busyEvery, busyFor int64
	slow               float64
}

// arrival returns when a packet sent at sent arrives, or -1 if dropped.
func (l *link) arrival(sent int64, size int) int64 {
	start := max(sent, l.freeAt)
	limit := l.queueUS
	if limit == 0 {
		limit = 100_000
	}
	if start-sent > limit {
		return -1
	}
	l.freeAt = start + int64(size)*8*1_000_000/int64(l.capacity)
	arrival := l.freeAt + 20_000 // 20 ms of propagation
	if l.busyEvery > 0 {
		if into := arrival % l.busyEvery; into < l.busyFor {
			arrival += int64(l.slow * float64(into))
		}
		arrival = max(arrival, l.readAt+5)
		l.readAt = arrival
	}
	if l.stallEvery > 0 {
		if into := arrival % l.stallEvery; into < l.stallFor {
			arrival += l.stallFor - into
		}
		// Packets read in one go are stamped a few µs apart.
		arrival = max(arrival, l.readAt+5)
		l.readAt = arrival
	}
	return arrival
}

// session drives an estimator: the server sends at a rate, the subscriber
// sends feedback every 50 ms.
type session struct {
	t       *testing.T
	history History
	est     *Estimator
	link    link
	seq     uint16
	now     int64
	pending []struct {
		seq     uint16
		arrival int64
	}
	fbCount uint8
}

func newSession(t *testing.T, capacity int) *session {
	s := &session{t: t, link: link{capacity: capacity}}
	s.est = New(&s.history)
	s.now = 1_000_000
	return s
}

// run sends at rate bits per second for dur µs, as 30 frames a second of
// 1,200-byte packets sent back to back.
func (s *session) run(rate int, dur int64) {
	end := s.now + dur
	nextFeedback := s.now + 50_000
	for s.now < end {
		frameBytes := rate / 8 / 30
		for sent := 0; sent < frameBytes; sent += 1200 {
			size := min(1200, frameBytes-sent)
			s.history.Record(s.seq, s.now, size)
			a := s.link.arrival(s.now, size)
			s.pending = append(s.pending, struct {
				seq     uint16
				arrival int64
			}{s.seq, a})
			s.seq++
		}
		s.now += 1_000_000 / 30
		for s.now >= nextFeedback {
			s.feedback(nextFeedback)
			nextFeedback += 50_000
		}
	}
}

// feedback reports every pending packet that has arrived by at, and the
// lost ones before them.
func (s *session) feedback(at int64) {
	n := 0
	for n < len(s.pending) && s.pending[n].arrival <= at {
		n++
	}
	if n == 0 {
		return
	}
	fb := &rtcp.TransportLayerCC{BaseSequenceNumber: s.pending[0].seq, PacketStatusCount: uint16(n), FbPktCount: s.fbCount}
	s.fbCount++
	ref := int64(-1)
	last := int64(0)
	for _, p := range s.pending[:n] {
		if p.arrival < 0 {
			fb.PacketChunks = append(fb.PacketChunks, &rtcp.RunLengthChunk{PacketStatusSymbol: rtcp.TypeTCCPacketNotReceived, RunLength: 1})
			continue
		}
		if ref < 0 {
			ref = p.arrival / 64_000
			fb.ReferenceTime = uint32(ref)
			last = ref * 64_000
		}
		fb.PacketChunks = append(fb.PacketChunks, &rtcp.RunLengthChunk{PacketStatusSymbol: rtcp.TypeTCCPacketReceivedSmallDelta, RunLength: 1})
		fb.RecvDeltas = append(fb.RecvDeltas, &rtcp.RecvDelta{Type: rtcp.TypeTCCPacketReceivedSmallDelta, Delta: p.arrival - last})
		last = p.arrival
	}
	s.pending = s.pending[n:]
	s.est.OnFeedback(fb, at)
}

func TestEstimateFallsBelowACongestedLink(t *testing.T) {
	s := newSession(t, 1_000_000)
	s.run(2_000_000, 3_000_000)
	st := s.est.Stats()
	if st.Estimate > 1_000_000 || st.Estimate < 400_000 {
		t.Fatalf("sending 2 Mbit/s into a 1 Mbit/s link: estimate %d, want between 0.4 and 1 Mbit/s (%+v)", st.Estimate, st)
	}
	// Sending at the estimate, the link carries it: the estimate holds.
	rate := st.Estimate
	s.run(rate, 5_000_000)
	if st := s.est.Stats(); st.Estimate < rate*8/10 || st.Loss > 0.02 {
		t.Fatalf("sending %d into 1 Mbit/s: estimate fell to %d, loss %.3f", rate, st.Estimate, st.Loss)
	}
}

func TestGrowingDelayIsSeenBeforeLoss(t *testing.T) {
	// A link with a deep buffer loses nothing but delays more and more.
	s := newSession(t, 1_000_000)
	s.link.queueUS = 5_000_000
	s.run(1_500_000, 1_500_000)
	st := s.est.Stats()
	if st.Loss != 0 || st.Estimate > 1_000_000 {
		t.Fatalf("1.5 Mbit/s into a deep 1 Mbit/s link: %+v, want the estimate below 1 Mbit/s without loss", st)
	}
}

func TestEstimateHoldsOnAWideLink(t *testing.T) {
	s := newSession(t, 20_000_000)
	s.run(1_500_000, 5_000_000)
	// It stays at the initial guess, which lets a subscriber get more than
	// it did without probing first.
	if st := s.est.Stats(); st.Estimate < InitialRate || st.Signal == Overuse || st.Loss > 0 {
		t.Fatalf("1.5 Mbit/s on a 20 Mbit/s link: %+v", st)
	}
}

func TestAReceiverThatReadsInBurstsIsNotTakenForACongestedLink(t *testing.T) {
	// A browser short of CPU stops reading for tens of milliseconds, then
	// reads what waited in a burst: the delay comes and goes, it does not
	// grow, and the link has room.
	s := newSession(t, 20_000_000)
	s.link.stallEvery, s.link.stallFor = 1_000_000, 300_000
	s.run(1_500_000, 10_000_000)
	if st := s.est.Stats(); st.Estimate < 1_500_000 {
		t.Fatalf("1.5 Mbit/s on a 20 Mbit/s link to a receiver that stalls 300 ms every second: %+v", st)
	}
	// The same receiver behind a narrow link is still seen as congested.
	s = newSession(t, 1_000_000)
	s.link.stallEvery, s.link.stallFor = 1_000_000, 300_000
	s.run(2_000_000, 3_000_000)
	if st := s.est.Stats(); st.Estimate > 1_000_000 {
		t.Fatalf("2 Mbit/s into a 1 Mbit/s link to a receiver that stalls: %+v", st)
	}
}

func TestAReceiverThatFallsBehindNowAndThenIsNotTakenForACongestedLink(t *testing.T) {
	// For half of each second it reads 12 % slower than packets come, then
	// catches up at once, as no link's queue can: the delay's trend stays
	// under the detector's floor. (In the browser tests, receivers short of
	// CPU showed trends of 6 to 9; a 900 kbit/s link, 20 to 140.)
	s := newSession(t, 20_000_000)
	s.link.busyEvery, s.link.busyFor, s.link.slow = 1_000_000, 500_000, 0.12
	s.run(1_500_000, 10_000_000)
	if st := s.est.Stats(); st.Estimate < 1_500_000 {
		t.Fatalf("1.5 Mbit/s on a 20 Mbit/s link to a receiver that falls behind by 12 %% for 500 ms each second: %+v", st)
	}
}

func TestProbeSucceedsWhenTheLinkWidensAndBacksOffOtherwise(t *testing.T) {
	// Congestion lowers the estimate; sending at it, the estimate cannot
	// grow far above what is sent, so a probe is needed to go higher.
	for _, c := range []struct {
		name     string
		capacity int
		succeeds bool
	}{{"widened", 20_000_000, true}, {"still narrow", 800_000, false}} {
		s := newSession(t, 800_000)
		s.run(2_000_000, 2_000_000)
		s.link.capacity = c.capacity
		s.run(s.est.Estimate()*8/10, 9_000_000) // past the wait after congestion
		if got := s.est.Estimate(); got >= 1_500_000 {
			t.Fatalf("%s: the estimate grew to %d without a probe", c.name, got)
		}
		if !s.est.Probe(2_000_000, s.now) {
			t.Fatalf("%s: probe refused on a healthy link: %+v", c.name, s.est.Stats())
		}
		probeFor := int64(3_000_000)
		if !c.succeeds {
			probeFor = 1_000_000 // it fails within that
		}
		s.run(2_000_000, probeFor)
		got := s.est.Estimate()
		if c.succeeds != (got >= 2_000_000) {
			t.Fatalf("%s: after a probe at 2 Mbit/s the estimate is %d", c.name, got)
		}
		if c.succeeds {
			continue
		}
		// Failed: no new probe before the back-off (now 16 s), one after.
		s.run(got*7/10, 8_000_000)
		if s.est.Probe(2_000_000, s.now) {
			t.Fatalf("%s: probed again 8 s after a failure", c.name)
		}
		s.run(s.est.Estimate()*7/10, 10_000_000)
		if !s.est.Probe(2_000_000, s.now) {
			t.Fatalf("%s: no probe after the back-off: %+v", c.name, s.est.Stats())
		}
	}
}

func TestDuplicateFeedbackIsIgnored(t *testing.T) {
	s := newSession(t, 5_000_000)
	s.history.Record(0, s.now, 1000)
	fb := &rtcp.TransportLayerCC{PacketStatusCount: 1, FbPktCount: 7,
		PacketChunks: []rtcp.PacketStatusChunk{&rtcp.RunLengthChunk{PacketStatusSymbol: rtcp.TypeTCCPacketReceivedSmallDelta, RunLength: 1}},
		RecvDeltas:   []*rtcp.RecvDelta{{Type: rtcp.TypeTCCPacketReceivedSmallDelta, Delta: 250}}}
	s.est.OnFeedback(fb, s.now)
	s.est.OnFeedback(fb, s.now)
	if st := s.est.Stats(); st.Feedbacks != 1 {
		t.Fatalf("feedbacks used: %d", st.Feedbacks)
	}
}

func TestHistoryForgetsOldPackets(t *testing.T) {
	var h History
	h.Record(5, 1234, 900)
	if sent, size, ok := h.Lookup(5); !ok || sent != 1234 || size != 900 {
		t.Fatalf("lookup: %d %d %v", sent, size, ok)
	}
	h.Record(5+historySize, 9999, 100) // the same slot, a later packet
	if _, _, ok := h.Lookup(5); ok {
		t.Fatal("an overwritten packet is still found")
	}
	if _, _, ok := h.Lookup(6); ok {
		t.Fatal("a packet never sent is found")
	}
	if d := sinceUS(1<<timeBits-10, 5); d != 15 {
		t.Fatalf("time across the wrap: %d", d)
	}
}

// FuzzFeedback feeds arbitrary RTCP to an estimator with packets recorded.
func FuzzFeedback(f *testing.F) {
	seed := &rtcp.TransportLayerCC{MediaSSRC: 1, BaseSequenceNumber: 0, PacketStatusCount: 3, ReferenceTime: 100,
		PacketChunks: []rtcp.PacketStatusChunk{&rtcp.RunLengthChunk{PacketStatusSymbol: rtcp.TypeTCCPacketReceivedSmallDelta, RunLength: 3}},
		RecvDeltas: []*rtcp.RecvDelta{{Type: rtcp.TypeTCCPacketReceivedSmallDelta, Delta: 250},
			{Type: rtcp.TypeTCCPacketReceivedSmallDelta, Delta: 500}, {Type: rtcp.TypeTCCPacketReceivedSmallDelta, Delta: 750}}}
	b, err := seed.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		pkts, err := rtcp.Unmarshal(data)
		if err != nil {
			return
		}
		var h History
		for seq := range uint16(64) {
			h.Record(seq, int64(seq)*1000, 1000)
		}
		e := New(&h)
		for i, p := range pkts {
			if fb, ok := p.(*rtcp.TransportLayerCC); ok {
				e.OnFeedback(fb, int64(i)*50_000)
			}
		}
		if est := e.Estimate(); est < MinRate || est > MaxRate {
			t.Fatalf("estimate %d out of bounds", est)
		}
	})
}
