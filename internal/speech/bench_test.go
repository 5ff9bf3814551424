package speech

import (
	"testing"
	"time"
)

// BenchmarkTrack measures the intake's work for one 20 ms packet of speech:
// reordering, Opus decoding, voice detection and segmenting; one op is one
// packet. rtf is the share of one core a track needs in real time.
func BenchmarkTrack(b *testing.B) {
	packets := speechStream(b)
	counters := &trackCounters{}
	queue := newUtteranceQueue(defaultQueue, counters, discardLogger())
	in, err := newIntake(time.Unix(0, 0), newEnergyDetector(), queue, counters, discardLogger())
	if err != nil {
		b.Fatal(err)
	}
	p := rtpPacket{payload: make([]byte, 0, maxPayload)}
	base := time.Unix(0, 0)
	// Warm up buffers: the first utterances grow the queue's.
	n := 0
	next := func() {
		src := packets[n%len(packets)]
		round := n / len(packets)
		p.seq = src.seq + uint16(round*len(packets))
		p.ts = src.ts + uint32(round*len(packets)*960)
		p.arrival = base.Add(time.Duration(n) * 20 * time.Millisecond)
		p.payload = append(p.payload[:0], src.payload...)
		in.packet(&p)
		n++
	}
	for range 4 * len(packets) {
		next()
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		next()
	}
	elapsed := time.Since(start)
	b.ReportMetric(float64(elapsed)/float64(b.N)/float64(20*time.Millisecond), "rtf")
}

// BenchmarkPacket measures what the media plane's goroutine pays per packet:
// the copy into the ring.
func BenchmarkPacket(b *testing.B) {
	r := newPacketRing()
	payload := make([]byte, 80)
	var p rtpPacket
	now := time.Now()
	b.ReportAllocs()
	seq := uint16(0)
	for b.Loop() {
		if !r.put(seq, uint32(seq)*960, now, payload) {
			b.Fatal("ring full")
		}
		r.take(&p)
		seq++
	}
}
