package speech

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// tolerance is how far a segment's Start or End may be from where the
// speech is in the fixture.
const tolerance = 100 * time.Millisecond

type harness struct {
	tr    *Track
	clock *fakeClock
	out   *collector
}

func newHarness(t *testing.T, cfg TrackConfig) *harness {
	t.Helper()
	h := &harness{clock: newFakeClock(), out: newCollector()}
	cfg.Origin = h.clock.base
	cfg.Emit = h.out.emit
	if cfg.Logger == nil {
		cfg.Logger = discardLogger()
	}
	if cfg.Participant == "" {
		cfg.Participant, cfg.Name = "p1", "Alice"
	}
	h.tr = newTrack(cfg, h.clock.Now)
	t.Cleanup(h.tr.Close)
	return h
}

// speechStream is speech.opus as RTP, with sequence numbers and timestamps
// that wrap around during it.
func speechStream(t testing.TB) []rtpIn {
	return packetize(loadOpus(t, "speech.opus"), 65500, 0xffff0000, 0)
}

// checkSpans checks that the segments are where the speech is.
func checkSpans(t *testing.T, segs []Segment, spans []span) {
	t.Helper()
	if len(segs) != len(spans) {
		t.Fatalf("%d segments %v, want %d at %v", len(segs), segs, len(spans), spans)
	}
	for i, s := range segs {
		if !near(s.Start, spans[i].start, tolerance) || !near(s.End, spans[i].end, tolerance) {
			t.Errorf("segment %d spans %v-%v, the speech %v-%v", i, s.Start, s.End, spans[i].start, spans[i].end)
		}
	}
}

func TestTrackTwoUtterances(t *testing.T) {
	engine := &fakeEngine{}
	h := newHarness(t, TrackConfig{Engine: engine, Language: "en"})
	packets := speechStream(t)
	feed(t, h.tr, h.clock, packets)
	h.tr.Close()

	finals := h.out.finals()
	checkSpans(t, finals, loadSpans(t, "speech.txt"))
	for i, s := range finals {
		if s.Utterance != uint64(i+1) || s.Participant != "p1" || s.Name != "Alice" || s.Language != "en" || s.Missed != 0 {
			t.Errorf("segment %d: %+v", i, s)
		}
	}
	// The engine had the whole utterance, from a little before the voice
	// to a little after it.
	for i, a := range engine.audios() {
		voice := finals[i].End - finals[i].Start
		if a.Duration() < voice || a.Duration() > voice+500*time.Millisecond || a.Language != "en" {
			t.Errorf("utterance %d: engine got %v of %q audio for %v of voice", i, a.Duration(), a.Language, voice)
		}
		if finals[i].Text != durationText(len(a.Samples)) {
			t.Errorf("utterance %d: text %q is not the engine's", i, finals[i].Text)
		}
	}
	st := h.tr.Stats()
	if st.Packets != uint64(len(packets)) || st.Lost != 0 || st.DroppedPackets != 0 || st.Utterances != 2 {
		t.Errorf("stats %+v for %d packets", st, len(packets))
	}
}

// Packets out of order, duplicated, late or lost change neither the
// segments nor their times: the jitter buffer puts them back in order and
// conceals the gaps with silence of the right length.
func TestTrackReorderDuplicatesLoss(t *testing.T) {
	engine := &fakeEngine{}
	h := newHarness(t, TrackConfig{Engine: engine})
	packets := speechStream(t)

	rng := rand.New(rand.NewPCG(1, 2))
	var mangled []rtpIn
	removed := 0
	for i := 0; i < len(packets); i++ {
		switch {
		case i%10 == 3 && i+1 < len(packets): // swapped with the next one
			mangled = append(mangled, packets[i+1], packets[i])
			i++
		case i%17 == 5: // sent twice
			mangled = append(mangled, packets[i], packets[i])
		case rng.IntN(40) == 0: // lost
			removed++
		default:
			mangled = append(mangled, packets[i])
		}
	}
	// One packet arrives 200 ms late: too late, its gap was concealed.
	late := slices.IndexFunc(mangled, func(p rtpIn) bool { return p.seq == packets[100].seq })
	if late < 0 {
		t.Fatal("packet 100 is not there to be delayed")
	}
	straggler := mangled[late]
	mangled = slices.Delete(mangled, late, late+1)
	mangled = slices.Insert(mangled, late+10, straggler)
	// Arrival times follow the order of delivery.
	for i := range mangled {
		mangled[i].at = time.Duration(i) * 20 * time.Millisecond
	}
	if removed < 3 {
		t.Fatalf("only %d packets removed; the test needs a few", removed)
	}

	feed(t, h.tr, h.clock, mangled)
	h.tr.Close()
	checkSpans(t, h.out.finals(), loadSpans(t, "speech.txt"))
	if st := h.tr.Stats(); st.Lost != uint64(removed+1) || st.DroppedPackets != 0 {
		t.Errorf("stats %+v, want %d lost", st, removed+1)
	}
	// Concealed gaps keep the audio as long as the original.
	for i, a := range engine.audios() {
		if d := a.Duration() - durationOf(t, h.out.finals()[i]); d < 0 {
			t.Errorf("utterance %d: %v of audio, shorter than its segment", i, a.Duration())
		}
	}
}

func durationOf(t *testing.T, s Segment) time.Duration {
	t.Helper()
	return s.End - s.Start
}

// During silence, a sender using DTX sends a packet every 400 ms while the
// timestamps go on: the silence in between must keep its length, and it
// is not loss.
func TestTrackDTX(t *testing.T) {
	packets := loadOpus(t, "speech.opus")
	spans := loadSpans(t, "speech.txt")
	inSpeech := func(at time.Duration) bool {
		for _, s := range spans {
			if at >= s.start-100*time.Millisecond && at < s.end+100*time.Millisecond {
				return true
			}
		}
		return false
	}

	var sent []rtpIn
	seq, ts, at := uint16(7), uint32(12345), time.Duration(0)
	lastSent := -time.Hour
	for _, p := range packets {
		if inSpeech(at) || at-lastSent >= 400*time.Millisecond {
			sent = append(sent, rtpIn{seq: seq, ts: ts, at: at, payload: p.data})
			seq++
			lastSent = at
		}
		ts += uint32(p.ticks)
		at += time.Duration(p.ticks) * time.Second / rtpClockRate
	}
	if len(sent) > len(packets)*3/4 {
		t.Fatalf("DTX left %d of %d packets; the pauses are too short for the test", len(sent), len(packets))
	}

	h := newHarness(t, TrackConfig{Engine: &fakeEngine{}})
	feed(t, h.tr, h.clock, sent)
	h.tr.Close()
	checkSpans(t, h.out.finals(), spans)
	if st := h.tr.Stats(); st.Lost != 0 {
		t.Errorf("DTX counted as loss: %+v", st)
	}
}

// A muted microphone or a restarted sender makes the timestamps jump: the
// segments after the jump are placed by when their packets arrive.
func TestTrackTimestampJumps(t *testing.T) {
	packets := loadOpus(t, "speech.opus")
	spans := loadSpans(t, "speech.txt")
	split := int(spans[0].end+600*time.Millisecond) / int(20*time.Millisecond)
	for _, tc := range []struct {
		name     string
		seq      uint16        // the second part's first sequence number
		ts       uint32        // and timestamp
		pause    time.Duration // time between the two parts
		wantLost uint64
	}{
		// Muted for two minutes: the sender's clock went on, nothing was sent.
		{"muted", 500 + uint16(split), 90000 + uint32(split*960) + 120*rtpClockRate, 2 * time.Minute, 0},
		// A new SSRC after a restart: new random numbers.
		{"restart", 31000, 0x12345678, 30 * time.Second, 0},
		// The sender lost 3 s of packets.
		{"outage", 500 + uint16(split) + 150, 90000 + uint32((split+150)*960), 3 * time.Second, 150},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, TrackConfig{Engine: &fakeEngine{}})
			first := packetize(packets[:split], 500, 90000, 0)
			restAt := time.Duration(split)*20*time.Millisecond + tc.pause
			second := packetize(packets[split:], tc.seq, tc.ts, restAt)
			feed(t, h.tr, h.clock, append(first, second...))
			h.tr.Close()
			moved := []span{spans[0], {spans[1].start + tc.pause, spans[1].end + tc.pause}}
			checkSpans(t, h.out.finals(), moved)
			if st := h.tr.Stats(); st.Lost != tc.wantLost {
				t.Errorf("stats %+v, want %d lost", st, tc.wantLost)
			}
		})
	}
}

// repeated is speech.opus said n times in a row: 2n utterances.
func repeated(t testing.TB, n int) []rtpIn {
	packets := loadOpus(t, "speech.opus")
	var out []rtpIn
	for i := range n {
		rep := packetize(packets, uint16(i*len(packets)), uint32(i*len(packets)*960), time.Duration(i*len(packets))*20*time.Millisecond)
		out = append(out, rep...)
	}
	return out
}

// A slow engine makes utterances wait; once the queue is full, the oldest
// waiting one is dropped and the next segment says how many were missed.
// Packet intake never waits for the engine.
func TestTrackSlowEngineDropsOldest(t *testing.T) {
	engine := &fakeEngine{gate: make(chan struct{})}
	h := newHarness(t, TrackConfig{Engine: engine, Queue: 2})
	packets := repeated(t, 5) // 10 utterances

	fed := make(chan time.Duration)
	go func() {
		var slowest time.Duration
		for _, p := range packets {
			waitRoom(t, h.tr)
			h.clock.set(p.at)
			start := time.Now()
			h.tr.Packet(p.seq, p.ts, p.payload)
			slowest = max(slowest, time.Since(start))
		}
		fed <- slowest
	}()
	select {
	case slowest := <-fed:
		// Generous for -race on a loaded machine; a Packet waiting for
		// the engine would wait forever here.
		if slowest > 50*time.Millisecond {
			t.Errorf("a Packet call took %v", slowest)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("feeding packets blocked while the engine was busy")
	}
	// The intake detected every utterance though the engine has done none.
	waitFor(t, func() bool { return h.tr.Stats().Utterances == 10 })
	if n := len(h.out.all()); n != 0 {
		t.Fatalf("%d segments before the engine answered", n)
	}

	close(engine.gate)
	h.tr.Close()
	finals := h.out.finals()
	st := h.tr.Stats()
	// One utterance was with the engine, two waited, seven were dropped.
	if len(finals) != 3 || st.DroppedUtterances != 7 {
		t.Fatalf("%d segments, stats %+v", len(finals), st)
	}
	missed := []int{finals[0].Missed, finals[1].Missed, finals[2].Missed}
	if !slices.Equal(missed, []int{0, 7, 0}) {
		t.Errorf("missed %v, want the gap on the segment after it", missed)
	}
	// The segments kept are the first and the two latest.
	spans := loadSpans(t, "speech.txt")
	rep := 4 * time.Duration(len(loadOpus(t, "speech.opus"))) * 20 * time.Millisecond
	checkSpans(t, finals, []span{spans[0], {spans[0].start + rep, spans[0].end + rep}, {spans[1].start + rep, spans[1].end + rep}})
	if st.DroppedPackets != 0 {
		t.Errorf("packets dropped: %+v", st)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10 s")
		}
		time.Sleep(time.Millisecond)
	}
}

// With a streaming engine and captions on, each utterance gets partial
// segments in order, then one final segment with the same number.
// SetPartials(false) stops partials for later utterances; SetName renames
// later segments.
func TestTrackPartialsThenFinal(t *testing.T) {
	engine := &fakeStreamer{}
	h := newHarness(t, TrackConfig{Engine: engine, Partials: true})
	packets := speechStream(t)
	spans := loadSpans(t, "speech.txt")

	// Faster than real time, slow enough for the engine to stay live.
	play := func(packets []rtpIn) {
		for _, p := range packets {
			h.clock.set(p.at)
			h.tr.Packet(p.seq, p.ts, p.payload)
			time.Sleep(4 * time.Millisecond)
		}
	}
	split := slices.IndexFunc(packets, func(p rtpIn) bool { return p.at >= (spans[0].end+spans[1].start)/2 })
	play(packets[:split])
	first := h.out.waitFinal(t)
	h.tr.SetPartials(false)
	h.tr.SetName("Alice B.")
	play(packets[split:])
	h.tr.Close()

	segs := h.out.all()
	var partials []Segment
	for _, s := range segs {
		if s.Utterance == first.Utterance && !s.Final {
			partials = append(partials, s)
		}
	}
	if len(partials) < 2 {
		t.Fatalf("%d partials for the first utterance: %v", len(partials), segs)
	}
	for i, p := range partials {
		if p.Start != first.Start || p.End > first.End+tolerance || (i > 0 && p.End < partials[i-1].End) || p.Name != "Alice" {
			t.Errorf("partial %d %+v after %+v, final %+v", i, p, partials[max(i-1, 0)], first)
		}
	}
	if segs[len(partials)] != first {
		t.Errorf("the first final is not right after its partials: %v", segs)
	}
	if !strings.HasPrefix(first.Text, "final ") {
		t.Errorf("final text %q is not the stream's", first.Text)
	}
	rest := segs[len(partials)+1:]
	if len(rest) != 1 || !rest[0].Final || rest[0].Utterance != first.Utterance+1 || rest[0].Name != "Alice B." {
		t.Errorf("after partials were turned off: %v", rest)
	}
	checkSpans(t, []Segment{first, rest[0]}, spans)
	if engine.streams != 1 {
		t.Errorf("%d streams opened; one serves the whole track", engine.streams)
	}
}

// Close finishes the utterance in progress: its final segment is emitted
// before Close returns.
func TestTrackCloseFlushesLastUtterance(t *testing.T) {
	for _, tc := range []struct {
		name   string
		engine Engine
	}{{"transcribe", &fakeEngine{}}, {"stream", &fakeStreamer{}}} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, TrackConfig{Engine: tc.engine})
			packets := speechStream(t)
			spans := loadSpans(t, "speech.txt")
			cut := spans[1].start + 700*time.Millisecond
			n := slices.IndexFunc(packets, func(p rtpIn) bool { return p.at >= cut })
			feed(t, h.tr, h.clock, packets[:n])
			h.tr.Close()
			h.tr.Close() // twice is fine
			checkSpans(t, h.out.finals(), []span{spans[0], {spans[1].start, cut}})
		})
	}
}

// An engine error loses the utterance; the next segment says so.
func TestTrackEngineErrorIsMissed(t *testing.T) {
	engine := &fakeEngine{fail: func(call int) error {
		if call == 0 {
			return errors.New("engine unreachable")
		}
		return nil
	}}
	h := newHarness(t, TrackConfig{Engine: engine})
	feed(t, h.tr, h.clock, speechStream(t))
	h.tr.Close()
	finals := h.out.finals()
	if len(finals) != 1 || finals[0].Missed != 1 || finals[0].Utterance != 1 {
		t.Fatalf("segments %v", finals)
	}
	checkSpans(t, finals, loadSpans(t, "speech.txt")[1:])
	if st := h.tr.Stats(); st.EngineErrors != 1 {
		t.Errorf("stats %+v", st)
	}
}

// blockingDetector holds the intake goroutine on its first frame.
type blockingDetector struct {
	release chan struct{}
	held    atomic.Bool
}

func (d *blockingDetector) Speech([]int16) bool {
	if !d.held.Swap(true) {
		<-d.release
	}
	return false
}

func (d *blockingDetector) Reset() {}

// When the intake cannot keep up, Packet still returns at once: packets
// beyond the ring are dropped and counted.
func TestTrackFullRingDropsPackets(t *testing.T) {
	detector := &blockingDetector{release: make(chan struct{})}
	h := newHarness(t, TrackConfig{Engine: &fakeEngine{}, Detector: detector})
	packets := speechStream(t)[:200]
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, p := range packets {
			h.tr.Packet(p.seq, p.ts, p.payload)
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Packet blocked while the intake was stuck")
	}
	close(detector.release)
	st := h.tr.Stats()
	// The intake took a packet or two before its detector stuck.
	if st.Packets != 200 || st.DroppedPackets < 200-ringSlots-20 || st.DroppedPackets > 200-ringSlots {
		t.Errorf("stats %+v", st)
	}
}

// Packets of 10, 40 and 60 ms, and CELT packets, give the same segment as
// the usual 20 ms SILK.
func TestTrackFrameSizes(t *testing.T) {
	words := loadSpans(t, "words.txt")
	for _, file := range []string{"frames-10.opus", "frames-40.opus", "frames-60.opus", "celt.opus"} {
		t.Run(file, func(t *testing.T) {
			h := newHarness(t, TrackConfig{Engine: &fakeEngine{}})
			feed(t, h.tr, h.clock, packetize(loadOpus(t, file), 1, 1, 0))
			h.tr.Close()
			checkSpans(t, h.out.finals(), words)
		})
	}
}

// Undecodable payloads are skipped and counted; the audio around them is
// unaffected.
func TestTrackBadPayloads(t *testing.T) {
	h := newHarness(t, TrackConfig{Engine: &fakeEngine{}})
	packets := speechStream(t)
	for i := 10; i < len(packets); i += 25 {
		packets[i].payload = []byte{0xff, 0xff, 0xff} // CELT code 3: 63 frames, too long
	}
	oversized := make([]byte, maxPayload+1)
	packets = append(packets[:50], append([]rtpIn{{seq: packets[50].seq, ts: packets[50].ts, payload: oversized}}, packets[50:]...)...)
	feed(t, h.tr, h.clock, packets)
	h.tr.Close()
	checkSpans(t, h.out.finals(), loadSpans(t, "speech.txt"))
	bad := uint64(0)
	for i := 10; i < len(packets)-1; i += 25 {
		bad++
	}
	if st := h.tr.Stats(); st.DroppedPackets != bad+1 {
		t.Errorf("stats %+v, want %d dropped", st, bad+1)
	}
}

// Close does not wait for a hung engine longer than its budget: the
// utterance is dropped and counted.
func TestTrackCloseGivesUpOnHungEngine(t *testing.T) {
	engine := &fakeEngine{gate: make(chan struct{})} // never opened
	h := newHarness(t, TrackConfig{Engine: engine})
	h.tr.closeBudget = 200 * time.Millisecond
	feed(t, h.tr, h.clock, speechStream(t))
	start := time.Now()
	h.tr.Close()
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Close took %v", took)
	}
	st := h.tr.Stats()
	if len(h.out.all()) != 0 || st.Utterances != 2 || st.DroppedUtterances != 2 || st.EngineErrors != 0 {
		t.Errorf("segments %v, stats %+v", h.out.all(), st)
	}
}

// Tracks sharing a Limiter do not call the engine more often at once than
// it allows.
func TestTrackLimiterSharedByTracks(t *testing.T) {
	engine := &fakeEngine{delay: 30 * time.Millisecond}
	limiter := NewLimiter(1)
	var tracks []*harness
	for range 3 {
		tracks = append(tracks, newHarness(t, TrackConfig{Engine: engine, Limiter: limiter}))
	}
	packets := speechStream(t)
	for _, p := range packets {
		for _, h := range tracks {
			waitRoom(t, h.tr)
			h.clock.set(p.at)
			h.tr.Packet(p.seq, p.ts, p.payload)
		}
	}
	for _, h := range tracks {
		h.tr.Close()
		if n := len(h.out.finals()); n != 2 {
			t.Errorf("%d segments for a track", n)
		}
	}
	if m := engine.most.Load(); m != 1 {
		t.Errorf("%d engine calls at once, the limit is 1", m)
	}
}
