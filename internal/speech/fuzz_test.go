package speech

import (
	"encoding/binary"
	"testing"
	"time"
)

// encodePackets writes packets in the format FuzzTrack reads: per packet,
// sequence number (2 bytes), timestamp (4), arrival delay in ms (1),
// payload length (1) and payload.
func encodePackets(packets []rtpIn) []byte {
	var out []byte
	for _, p := range packets {
		out = binary.BigEndian.AppendUint16(out, p.seq)
		out = binary.BigEndian.AppendUint32(out, p.ts)
		out = append(out, 20, byte(min(len(p.payload), 255)))
		out = append(out, p.payload[:min(len(p.payload), 255)]...)
	}
	return out
}

// decodePackets reads what encodePackets writes, leniently.
func decodePackets(data []byte) []rtpIn {
	var out []rtpIn
	var at time.Duration
	for len(data) >= 8 {
		p := rtpIn{seq: binary.BigEndian.Uint16(data), ts: binary.BigEndian.Uint32(data[2:])}
		at += time.Duration(data[6]) * time.Millisecond
		p.at = at
		n := min(int(data[7]), len(data)-8)
		p.payload = data[8 : 8+n]
		data = data[8+n:]
		out = append(out, p)
	}
	return out
}

// FuzzTrack feeds a track arbitrary packets: it must not panic, must count
// every packet, and must keep its utterances within bounds.
func FuzzTrack(f *testing.F) {
	speech := speechStream(f)
	f.Add(encodePackets(speech[:60]))
	shuffled := append([]rtpIn(nil), speech[20:80]...)
	for i := 0; i+3 < len(shuffled); i += 4 {
		shuffled[i], shuffled[i+3] = shuffled[i+3], shuffled[i]
		shuffled[i+1].ts += 1 << 31
	}
	f.Add(encodePackets(shuffled))
	f.Add([]byte{0, 1, 0, 0, 0, 0, 20, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 255, 0})
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, data []byte) {
		// Longer inputs find nothing new and slow the fuzzer down.
		packets := decodePackets(data[:min(len(data), 8<<10)])
		engine := &fakeStreamer{}
		clock := newFakeClock()
		var segs []Segment
		tr := newTrack(TrackConfig{
			Participant: "p", Engine: engine, Partials: true, Queue: 1,
			Origin: clock.base, Logger: discardLogger(),
			Emit: func(s Segment) { segs = append(segs, s) },
		}, clock.Now)
		for _, p := range packets {
			clock.set(p.at)
			tr.Packet(p.seq, p.ts, p.payload)
		}
		tr.Close()

		st := tr.Stats()
		if st.Packets != uint64(len(packets)) {
			t.Errorf("%d packets counted of %d", st.Packets, len(packets))
		}
		if st.Lost > 1<<20 {
			t.Errorf("%d packets lost out of %d", st.Lost, len(packets))
		}
		for _, s := range segs {
			if s.End < s.Start || s.Utterance == 0 {
				t.Errorf("segment %+v", s)
			}
		}
		if n := engine.longest(); n > maxUtteranceSamples {
			t.Errorf("an utterance of %d samples, more than %d", n, maxUtteranceSamples)
		}
	})
}

// FuzzReorder checks the jitter buffer's promises on arbitrary sequence
// numbers and timestamps: within one stream packets come out in order, each
// once, and no more are held than fit.
func FuzzReorder(f *testing.F) {
	f.Add([]byte{0, 1, 0, 3, 0, 2, 0, 2, 0xff, 0xff, 0, 0, 0x80, 0})
	f.Add(encodePackets(speechStream(f)[:30]))
	f.Fuzz(func(t *testing.T, data []byte) {
		var b reorderBuffer
		sink := &checkSink{t: t}
		base := time.Unix(0, 0)
		for i := 0; i+2 <= len(data); i += 2 {
			seq := binary.BigEndian.Uint16(data[i:])
			p := &rtpPacket{seq: seq, ts: uint32(seq) * 960, arrival: base.Add(time.Duration(i) * time.Millisecond)}
			b.add(p, sink)
			if b.held < 0 || b.held > reorderSlots {
				t.Fatalf("%d packets held", b.held)
			}
			if i%7 == 0 {
				b.expire(p.arrival.Add(time.Second), sink)
			}
		}
		b.flush(sink)
		if b.held != 0 {
			t.Fatalf("%d packets held after flush", b.held)
		}
	})
}

type checkSink struct {
	t       *testing.T
	last    uint16
	started bool
}

func (s *checkSink) release(p *rtpPacket) {
	if s.started && int16(p.seq-s.last) <= 0 {
		s.t.Fatalf("released %d after %d", p.seq, s.last)
	}
	s.started, s.last = true, p.seq
}

func (s *checkSink) lost(n int) {
	if n <= 0 {
		s.t.Fatalf("lost %d", n)
	}
	s.last += uint16(n)
}

func (s *checkSink) restart() { s.started = false }
