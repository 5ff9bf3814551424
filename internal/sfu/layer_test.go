package sfu

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"

	"github.com/visio-meet/visio/internal/sfu/packetcache"
)

// vp8Payload is a VP8 payload starting a keyframe or a delta frame, tagged.
func vp8Payload(keyframe bool, tag byte) []byte {
	if keyframe {
		return []byte{0x10, 0x00, 0x00, 0x00, 0x9d, 0x01, 0x2a, tag}
	}
	return []byte{0x10, 0x01, 0x00, tag}
}

func TestLayerSwitchWaitsForAKeyframeAndKeepsOneStream(t *testing.T) {
	up, d, rec := fixture(t)
	high := &layer{track: up, index: LayerHigh, ssrc: 4321, cache: packetcache.New(64), keyframe: vp8KeyframeStart}
	up.addLayer(high)

	// The subscriber gets the low layer: 10 packets, sequence 100 to 109.
	for seq := uint16(100); seq < 110; seq++ {
		receiveOn(t, low(up), layerPacket(t, 1234, seq, uint32(seq)*3000, false, vp8Payload(false, 'l')))
	}
	// It is moved to the high layer: until a keyframe comes there, it keeps
	// the low one, and the high layer's delta frames are not sent.
	d.target.Store(int32(LayerHigh))
	receiveOn(t, high, layerPacket(t, 4321, 5000, 777000, false, vp8Payload(false, 'h')))
	receiveOn(t, low(up), layerPacket(t, 1234, 110, 110*3000, false, vp8Payload(false, 'l')))
	if d.Layer() != LayerLow || len(rec.headers) != 11 || rec.payloads[10][3] != 'l' {
		t.Fatalf("moved before a keyframe: layer %d, %d packets sent", d.Layer(), len(rec.headers))
	}
	receiveOn(t, high, layerPacket(t, 4321, 5001, 780000, false, vp8Payload(true, 'H')))
	receiveOn(t, low(up), layerPacket(t, 1234, 111, 111*3000, false, vp8Payload(false, 'l')))
	receiveOn(t, high, layerPacket(t, 4321, 5002, 783000, false, vp8Payload(false, 'h')))
	if d.Layer() != LayerHigh || len(rec.headers) != 13 {
		t.Fatalf("after the keyframe: layer %d, %d packets sent, want the high layer and 13", d.Layer(), len(rec.headers))
	}
	// The subscriber sees one stream: numbers follow on, and the timestamp
	// moves forward.
	last, key, next := rec.headers[10], rec.headers[11], rec.headers[12]
	if rec.payloads[11][7] != 'H' || key.SSRC != 555 || key.SequenceNumber != last.SequenceNumber+1 || next.SequenceNumber != key.SequenceNumber+1 {
		t.Fatalf("not one stream across the switch: %d, %d, %d", last.SequenceNumber, key.SequenceNumber, next.SequenceNumber)
	}
	if int32(key.Timestamp-last.Timestamp) <= 0 || next.Timestamp-key.Timestamp != 3000 {
		t.Fatalf("timestamps across the switch: %d, %d, %d", last.Timestamp, key.Timestamp, next.Timestamp)
	}

	// A NACK for a packet sent before the switch is answered from the low
	// layer's cache, one after it from the high layer's.
	rec.headers, rec.payloads = nil, nil
	d.handleRTCP([]rtcp.Packet{&rtcp.TransportLayerNack{MediaSSRC: 555, Nacks: []rtcp.NackPair{
		{PacketID: last.SequenceNumber}, {PacketID: next.SequenceNumber}}}})
	if len(rec.payloads) != 2 || rec.payloads[0][3] != 'l' || rec.payloads[1][3] != 'h' ||
		rec.headers[0].SequenceNumber != last.SequenceNumber || rec.headers[1].Timestamp != next.Timestamp {
		t.Fatalf("retransmissions across the switch: %+v", rec.headers)
	}

	// Paused: nothing is sent, whatever arrives.
	d.target.Store(int32(LayerNone))
	receiveOn(t, high, layerPacket(t, 4321, 5003, 786000, false, vp8Payload(true, 'H')))
	if len(rec.headers) != 2 || d.Layer() != LayerNone {
		t.Fatal("a paused track is still sent")
	}
}

func TestBestLayerPrefersFlowingLayers(t *testing.T) {
	up, _, _ := fixture(t)
	medium := &layer{track: up, index: LayerMedium, ssrc: 2, cache: packetcache.New(8), keyframe: vp8KeyframeStart}
	high := &layer{track: up, index: LayerHigh, ssrc: 3, cache: packetcache.New(8), keyframe: vp8KeyframeStart}
	up.addLayer(medium)
	up.addLayer(high)
	now := up.owner.engine.now()
	for _, l := range []*layer{low(up), medium, high} {
		l.lastArrival.Store(now)
	}
	cases := []struct {
		want, got Layer
	}{{LayerHigh, LayerHigh}, {LayerMedium, LayerMedium}, {LayerLow, LayerLow}, {LayerNone, LayerNone}}
	for _, c := range cases {
		if got := up.bestLayer(c.want); got != c.got {
			t.Errorf("want %d: got %d, expected %d", c.want, got, c.got)
		}
	}
	// The publisher paused the high layer (nobody wanted it): a subscriber
	// who wants it gets the medium one meanwhile.
	high.lastArrival.Store(now - 2*liveFor)
	if got := up.bestLayer(LayerHigh); got != LayerMedium {
		t.Errorf("high paused: got %d, want the medium layer", got)
	}
	// Nothing flows: the wanted layer is chosen, so that it is asked for.
	for _, l := range []*layer{low(up), medium, high} {
		l.lastArrival.Store(now - 2*liveFor)
	}
	if got := up.bestLayer(LayerMedium); got != LayerMedium {
		t.Errorf("all paused: got %d, want the medium layer", got)
	}
}

func TestRIDLayer(t *testing.T) {
	none := func(Layer) bool { return false }
	for rid, want := range map[string]Layer{"q": LayerLow, "h": LayerMedium, "f": LayerHigh, "": LayerLow, "x": LayerLow} {
		if got, ok := ridLayer(rid, none); !ok || got != want {
			t.Errorf("%q: %d %v", rid, got, ok)
		}
	}
	// Unknown ids take the free layers in turn.
	if got, ok := ridLayer("x", func(l Layer) bool { return l == LayerLow }); !ok || got != LayerMedium {
		t.Errorf("second unknown stream: %d %v", got, ok)
	}
	if _, ok := ridLayer("f", func(l Layer) bool { return l == LayerHigh }); ok {
		t.Error("a layer taken twice")
	}
}

// wantedReports records what a publisher is told to send.
type wantedReports struct {
	ignoreEvents
	mu      sync.Mutex
	reports []Layer
}

func (w *wantedReports) LayersWanted(_ *UpTrack, l Layer) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.reports = append(w.reports, l)
}

func (w *wantedReports) get() []Layer {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.reports)
}

func TestLayersArePausedOnlyOnceUnwantedForAWhile(t *testing.T) {
	up, d, _ := fixture(t)
	reports := &wantedReports{}
	up.owner.events = reports
	d.setLimit(LayerHigh)
	d.want.Store(int32(LayerHigh))
	up.updateWanted()
	if got := reports.get(); !slices.Equal(got, []Layer{LayerHigh}) {
		t.Fatalf("a subscriber wants the high layer: the publisher is told %v", got)
	}
	// A dip (an estimate that falls and recovers, a tile laid out again)
	// does not reach the publisher.
	d.want.Store(int32(LayerLow))
	up.updateWanted()
	time.Sleep(pauseAfter / 3)
	d.want.Store(int32(LayerHigh))
	up.updateWanted()
	time.Sleep(pauseAfter)
	if got := reports.get(); !slices.Equal(got, []Layer{LayerHigh}) {
		t.Fatalf("after a dip shorter than %v the publisher is told %v", pauseAfter, got)
	}
	// Unwanted for longer: the layers above are paused.
	d.want.Store(int32(LayerLow))
	up.updateWanted()
	deadline := time.Now().Add(2 * pauseAfter)
	for !slices.Equal(reports.get(), []Layer{LayerHigh, LayerLow}) {
		if time.Now().After(deadline) {
			t.Fatalf("wanted only the low layer for %v: the publisher is told %v", 2*pauseAfter, reports.get())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Wanted again: resumed at once.
	d.want.Store(int32(LayerHigh))
	up.updateWanted()
	if got := reports.get(); !slices.Equal(got, []Layer{LayerHigh, LayerLow, LayerHigh}) {
		t.Fatalf("wanted again: the publisher is told %v", got)
	}
}
