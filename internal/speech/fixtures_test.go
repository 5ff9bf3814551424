package speech

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/opus/pkg/oggreader"
)

// opusPacket is one packet of an Opus fixture.
type opusPacket struct {
	data  []byte
	ticks int // duration on the 48 kHz RTP clock
}

// loadOpus reads the packets of an Ogg Opus file in testdata (made by
// testdata/make-fixtures.sh).
func loadOpus(t testing.TB, name string) []opusPacket {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("fixture %s: %v (regenerate with testdata/make-fixtures.sh)", name, err)
	}
	r, _, err := oggreader.NewWith(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("fixture %s: %v", name, err)
	}
	var packets []opusPacket
	for {
		data, _, err := r.ParseNextPacket()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("fixture %s: %v", name, err)
		}
		if bytes.HasPrefix(data, []byte("OpusTags")) {
			continue
		}
		ticks := tocTicks(data)
		if ticks == 0 {
			t.Fatalf("fixture %s: packet %d has no duration", name, len(packets))
		}
		packets = append(packets, opusPacket{data: data, ticks: ticks})
	}
	if len(packets) == 0 {
		t.Fatalf("fixture %s has no packets", name)
	}
	return packets
}

// tocTicks returns a packet's duration from its TOC byte (RFC 6716 3.1), in
// 48 kHz ticks; 0 for a malformed packet.
func tocTicks(p []byte) int {
	if len(p) == 0 {
		return 0
	}
	config := int(p[0] >> 3)
	var frame int // ticks
	switch {
	case config < 12: // SILK: 10, 20, 40, 60 ms
		frame = []int{480, 960, 1920, 2880}[config%4]
	case config < 16: // Hybrid: 10, 20 ms
		frame = []int{480, 960}[config%2]
	default: // CELT: 2.5, 5, 10, 20 ms
		frame = []int{120, 240, 480, 960}[config%4]
	}
	switch p[0] & 3 {
	case 0:
		return frame
	case 1, 2:
		return 2 * frame
	default:
		if len(p) < 2 {
			return 0
		}
		return int(p[1]&0x3f) * frame
	}
}

// tocMode names a packet's coding mode.
func tocMode(p []byte) string {
	switch config := p[0] >> 3; {
	case config < 12:
		return "silk"
	case config < 16:
		return "hybrid"
	default:
		return "celt"
	}
}

// span is a stretch of speech in a fixture.
type span struct{ start, end time.Duration }

// loadSpans reads a fixture's speech positions ("start end" in seconds per
// line).
func loadSpans(t testing.TB, name string) []span {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("fixture %s: %v", name, err)
	}
	defer f.Close()
	var spans []span
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 2 {
			t.Fatalf("fixture %s: bad line %q", name, sc.Text())
		}
		var s [2]time.Duration
		for i, field := range fields {
			v, err := strconv.ParseFloat(field, 64)
			if err != nil {
				t.Fatalf("fixture %s: %v", name, err)
			}
			s[i] = time.Duration(v * float64(time.Second))
		}
		spans = append(spans, span{s[0], s[1]})
	}
	return spans
}

// rtpIn is a packet as the test delivers it to a track.
type rtpIn struct {
	seq     uint16
	ts      uint32
	at      time.Duration // arrival, since the clock's base
	payload []byte
}

// packetize gives a fixture's packets RTP sequence numbers and timestamps
// from the given starts, arriving in real time from at.
func packetize(packets []opusPacket, seq uint16, ts uint32, at time.Duration) []rtpIn {
	out := make([]rtpIn, len(packets))
	for i, p := range packets {
		out[i] = rtpIn{seq: seq, ts: ts, at: at, payload: p.data}
		seq++
		ts += uint32(p.ticks)
		at += time.Duration(p.ticks) * time.Second / rtpClockRate
	}
	return out
}

// fakeClock stamps packet arrivals with the times the test chose.
type fakeClock struct {
	base time.Time
	now  atomic.Int64 // since base
}

func newFakeClock() *fakeClock {
	return &fakeClock{base: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time { return c.base.Add(time.Duration(c.now.Load())) }

func (c *fakeClock) set(d time.Duration) { c.now.Store(int64(d)) }

// feed delivers packets to a track as fast as its intake takes them, with
// the arrival times they carry.
func feed(t testing.TB, tr *Track, clock *fakeClock, packets []rtpIn) {
	t.Helper()
	for _, p := range packets {
		waitRoom(t, tr)
		clock.set(p.at)
		tr.Packet(p.seq, p.ts, p.payload)
	}
}

// waitRoom waits until the track's ring has room, so that a test playing a
// recording faster than real time loses nothing to it.
func waitRoom(t testing.TB, tr *Track) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		tr.ring.mu.Lock()
		n := tr.ring.count
		tr.ring.mu.Unlock()
		if n < ringSlots/2 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the track's intake does not take packets any more")
		}
		time.Sleep(100 * time.Microsecond)
	}
}
