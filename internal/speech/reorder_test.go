package speech

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// recordSink writes down what a reorderBuffer lets out: "5" for a released
// packet, "-2" for two lost ones, "restart".
type recordSink struct{ events []string }

func (s *recordSink) release(p *rtpPacket) { s.events = append(s.events, fmt.Sprint(p.seq)) }

func (s *recordSink) lost(n int) {
	if k := len(s.events) - 1; k >= 0 && strings.HasPrefix(s.events[k], "-") {
		var m int
		fmt.Sscan(s.events[k][1:], &m)
		s.events[k] = fmt.Sprint("-", m+n)
		return
	}
	s.events = append(s.events, fmt.Sprint("-", n))
}

func (s *recordSink) restart() { s.events = append(s.events, "restart") }

// packetAt is packet seq of a 20 ms stream, arriving when it was due.
func packetAt(seq uint16) *rtpPacket {
	return &rtpPacket{
		seq:     seq,
		ts:      uint32(seq) * 960,
		arrival: time.Unix(0, 0).Add(time.Duration(seq) * 20 * time.Millisecond),
		payload: []byte{byte(seq)},
	}
}

func TestReorderBuffer(t *testing.T) {
	for _, tc := range []struct {
		name  string
		seqs  []uint16
		flush bool
		want  string
	}{
		{"in order", []uint16{1, 2, 3}, false, "1 2 3"},
		{"swapped", []uint16{1, 3, 2, 4}, false, "1 2 3 4"},
		{"duplicates", []uint16{1, 1, 3, 3, 2, 2}, false, "1 2 3"},
		// 2 is waited for until 60 ms of audio after it are there.
		{"lost", []uint16{1, 3, 4, 5}, false, "1"},
		{"lost, window passed", []uint16{1, 3, 4, 5, 6}, false, "1 -1 3 4 5 6"},
		{"straggler after its gap was skipped", []uint16{1, 3, 4, 5, 6, 2, 7}, false, "1 -1 3 4 5 6 7"},
		{"wrap-around", []uint16{65534, 0, 65535, 1}, false, "65534 65535 0 1"},
		{"jump within the stream", []uint16{1, 2, 100}, true, "1 2 -97 100"},
		{"new stream far ahead", []uint16{1, 2, 30000, 30001}, false, "1 2 restart 30000 30001"},
		{"new stream far behind", []uint16{40000, 40001, 1000, 1001}, false, "40000 40001 restart 1000 1001"},
		// A restart a little behind: eight packets in a row from the past.
		{"new stream a little behind", []uint16{1000, 1001, 990, 991, 992, 993, 994, 995, 996, 997, 998}, false, "1000 1001 restart 997 998"},
		{"flush skips gaps", []uint16{1, 3, 5}, true, "1 -1 3 -1 5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b reorderBuffer
			sink := &recordSink{}
			for _, seq := range tc.seqs {
				b.add(packetAt(seq), sink)
			}
			if tc.flush {
				b.flush(sink)
			}
			if got := strings.Join(sink.events, " "); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if b.held < 0 || b.held > reorderSlots {
				t.Errorf("%d packets held", b.held)
			}
		})
	}
}

// A gap with nothing after it to push it out (the sender went quiet) is
// given up once the packet after it waited the jitter window.
func TestReorderExpire(t *testing.T) {
	var b reorderBuffer
	sink := &recordSink{}
	b.add(packetAt(1), sink)
	third := packetAt(3)
	b.add(third, sink)
	b.expire(third.arrival.Add(jitterWindow/2), sink)
	if got := strings.Join(sink.events, " "); got != "1" {
		t.Fatalf("released %q before the window passed", got)
	}
	b.expire(third.arrival.Add(jitterWindow), sink)
	if got := strings.Join(sink.events, " "); got != "1 -1 3" {
		t.Fatalf("released %q after the window", got)
	}
}

// The buffer keeps its own copy of a held packet's payload: the caller
// reuses its buffer at once.
func TestReorderCopiesPayload(t *testing.T) {
	var b reorderBuffer
	var got []string
	sink := &funcSink{onRelease: func(p *rtpPacket) { got = append(got, string(p.payload)) }}
	b.add(&rtpPacket{seq: 1, ts: 960, payload: []byte("first")}, sink)
	third := &rtpPacket{seq: 3, ts: 2880, payload: []byte("third")}
	b.add(third, sink) // held: 2 is missing
	copy(third.payload, "XXXXX")
	b.add(&rtpPacket{seq: 2, ts: 1920, payload: []byte("second")}, sink)
	if !slices.Equal(got, []string{"first", "second", "third"}) {
		t.Errorf("released %q", got)
	}
}

type funcSink struct{ onRelease func(*rtpPacket) }

func (s *funcSink) release(p *rtpPacket) { s.onRelease(p) }
func (s *funcSink) lost(int)             {}
func (s *funcSink) restart()             {}
