package sfu

import (
	"bytes"
	"log/slog"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/visio-meet/visio/internal/sfu/packetcache"
	"github.com/visio-meet/visio/internal/sfu/rtpparse"
)

// recorder stands in for the SRTP writer of a subscriber's connection.
type recorder struct {
	headers  []rtp.Header
	payloads [][]byte
	lastData *byte // first byte of the last payload, to detect copies
}

func (r *recorder) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	r.headers = append(r.headers, *h)
	r.payloads = append(r.payloads, bytes.Clone(payload))
	if len(payload) > 0 {
		r.lastData = &payload[0]
	}
	return len(payload), nil
}

func (r *recorder) Write(b []byte) (int, error) { return len(b), nil }

// fixture builds an up track and one bound down track without any network.
func fixture(t testing.TB) (*UpTrack, *DownTrack, *recorder) {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	e := &Engine{log: log, epoch: time.Now(), batches: newSendBatches()}
	publisher := e.NewPeer("publisher", ignoreEvents{})
	subscriber := e.NewPeer("subscriber", ignoreEvents{})
	subscriber.subConnected.Store(true)
	up := &UpTrack{
		id: "publisher-0", owner: publisher, mid: "0", kind: webrtc.RTPCodecTypeVideo, log: log,
		codec:  webrtc.RTPCodecParameters{PayloadType: 100, RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}},
		wanted: LayerNone,
	}
	up.downs.Store(&[]*DownTrack{})
	up.addLayer(&layer{track: up, index: LayerLow, ssrc: 1234, cache: packetcache.New(64), keyframe: vp8KeyframeStart})
	d := newDownTrack(up, subscriber)
	d.want.Store(int32(LayerHigh))
	d.target.Store(int32(LayerLow))
	d.current = LayerLow // as if a keyframe had started it
	d.history[0] = segment{valid: true, layer: LayerLow}
	rec := &recorder{}
	d.binding.Store(&binding{ssrc: 555, payloadType: 96, writer: rec})
	up.addDown(d)
	return up, d, rec
}

// low returns the single layer of a fixture's track.
func low(up *UpTrack) *layer { return up.layer(LayerLow) }

// publisherPacket is what a browser sends: its own SSRC, payload type and
// header extensions.
func publisherPacket(t testing.TB, seq uint16, payload []byte) []byte {
	return layerPacket(t, 1234, seq, uint32(seq)*3000, seq%2 == 0, payload)
}

// layerPacket is a packet of a layer, with its own SSRC and numbering.
func layerPacket(t testing.TB, ssrc uint32, seq uint16, ts uint32, marker bool, payload []byte) []byte {
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 100, SequenceNumber: seq, Timestamp: ts, SSRC: ssrc, Marker: marker}, Payload: payload}
	if err := p.Header.SetExtension(3, []byte{1, 2}); err != nil {
		t.Fatal(err)
	}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// receive runs one packet of the low layer through the path its reader
// goroutine takes.
func receive(t testing.TB, up *UpTrack, pkt []byte) {
	receiveOn(t, low(up), pkt)
}

// receiveOn runs one packet of layer l through its forwarder's path, as a
// round of one.
func receiveOn(t testing.TB, l *layer, pkt []byte) {
	t.Helper()
	receiveRound(t, l, pkt)
}

// receiveRound runs packets of layer l through its forwarder's path as one
// round: those that arrived while the forwarder was busy.
func receiveRound(t testing.TB, l *layer, pkts ...[]byte) {
	t.Helper()
	round := make([]*inPacket, len(pkts))
	for i, pkt := range pkts {
		round[i] = &inPacket{}
		round[i].n = copy(round[i].buf[:], pkt)
		if !l.accept(round[i]) {
			t.Fatalf("packet %d is not RTP", i)
		}
	}
	l.forwardRound(round)
}

func TestForwardRewritesTheHeaderAndSharesThePayload(t *testing.T) {
	up, d, rec := fixture(t)
	payload := []byte("a VP8 frame")
	pkt := publisherPacket(t, 7, payload)
	var h rtpparse.Header
	if err := rtpparse.Parse(pkt, &h); err != nil {
		t.Fatal(err)
	}
	d.forward(low(up), &h, pkt, false, 0, &sendBatch{})

	got := rec.headers[0]
	if got.SSRC != 555 || got.PayloadType != 96 || got.SequenceNumber != 7 || got.Timestamp != 21000 || got.Marker != false {
		t.Fatalf("header not rewritten for the subscriber: %+v", got)
	}
	if len(got.Extensions) != 0 {
		t.Fatalf("the publisher's header extensions leaked to the subscriber: %+v", got.Extensions)
	}
	if !bytes.Equal(rec.payloads[0], payload) {
		t.Fatalf("payload = %q", rec.payloads[0])
	}
	if rec.lastData != &pkt[h.PayloadStart] {
		t.Fatal("the payload was copied for the subscriber instead of shared")
	}
	if s := d.Stats(); s.PacketsSent != 1 {
		t.Fatalf("packets sent = %d", s.PacketsSent)
	}
}

func TestForwardDoesNotAllocate(t *testing.T) {
	up, d, _ := fixture(t)
	d.binding.Store(&binding{ssrc: 555, payloadType: 96, writer: discardWriter{}})
	pkt := publisherPacket(t, 1, make([]byte, 1000))
	var h rtpparse.Header
	_ = rtpparse.Parse(pkt, &h)
	var out sendBatch
	if allocs := testing.AllocsPerRun(1000, func() { d.forward(low(up), &h, pkt, false, 0, &out) }); allocs != 0 {
		t.Fatalf("forwarding allocates %v times per packet", allocs)
	}
}

type discardWriter struct{}

func (discardWriter) WriteRTP(_ *rtp.Header, p []byte) (int, error) { return len(p), nil }
func (discardWriter) Write(b []byte) (int, error)                   { return len(b), nil }

func BenchmarkForwardTo10Subscribers(b *testing.B) {
	up, d, _ := fixture(b)
	d.binding.Store(&binding{ssrc: 555, payloadType: 96, writer: discardWriter{}})
	for range 9 {
		extra := newDownTrack(up, d.subscriber)
		extra.binding.Store(&binding{ssrc: 556, payloadType: 96, writer: discardWriter{}})
		up.addDown(extra)
	}
	pkt := publisherPacket(b, 1, make([]byte, 1100))
	var h rtpparse.Header
	var out sendBatch
	l := low(up)
	for b.Loop() {
		_ = rtpparse.Parse(pkt, &h)
		l.cache.Store(h.Seq, pkt)
		for _, d := range *up.downs.Load() {
			d.forward(l, &h, pkt, false, 0, &out)
		}
		out.flush()
	}
}

func TestNACKIsAnsweredFromTheCache(t *testing.T) {
	up, d, rec := fixture(t)
	for seq := uint16(100); seq <= 110; seq++ {
		receive(t, up, publisherPacket(t, seq, []byte{byte(seq)}))
	}
	rec.headers, rec.payloads = nil, nil

	// Lost: 102, then 103 and 105 from the bitmask.
	d.handleRTCP([]rtcp.Packet{&rtcp.TransportLayerNack{MediaSSRC: 555, Nacks: []rtcp.NackPair{{PacketID: 102, LostPackets: 0b101}}}})
	var seqs []uint16
	for i, h := range rec.headers {
		seqs = append(seqs, h.SequenceNumber)
		if h.SSRC != 555 || h.PayloadType != 96 || rec.payloads[i][0] != byte(h.SequenceNumber) {
			t.Fatalf("retransmission %d is not the cached packet rewritten: %+v %v", i, h, rec.payloads[i])
		}
	}
	if len(seqs) != 3 || seqs[0] != 102 || seqs[1] != 103 || seqs[2] != 105 {
		t.Fatalf("retransmitted %v, want [102 103 105]", seqs)
	}

	rec.headers = nil
	d.handleRTCP([]rtcp.Packet{
		&rtcp.TransportLayerNack{MediaSSRC: 999, Nacks: []rtcp.NackPair{{PacketID: 104}}},  // another stream
		&rtcp.TransportLayerNack{MediaSSRC: 555, Nacks: []rtcp.NackPair{{PacketID: 5000}}}, // never sent
	})
	if len(rec.headers) != 0 {
		t.Fatalf("answered NACKs that were not for cached packets of this track: %+v", rec.headers)
	}
}

func TestSenderReportFollowsThePublisherClock(t *testing.T) {
	up, d, _ := fixture(t)
	receive(t, up, publisherPacket(t, 1, make([]byte, 100)))
	now := up.owner.engine.now()
	low(up).lastTimestamp.Store(90000)
	low(up).lastArrival.Store(now - int64(time.Second))
	sr, ok := d.senderReport(now)
	if !ok || sr.SSRC != 555 || sr.PacketCount != 1 || sr.OctetCount != 100 {
		t.Fatalf("sender report = %+v, %v", sr, ok)
	}
	if sr.RTPTime != 2*90000 {
		t.Fatalf("RTP time %d, want one second (90000 ticks) after the last packet", sr.RTPTime)
	}

	// Once the publisher sent a report, its NTP time is carried over, so that
	// subscribers can align its audio and video.
	low(up).reports.set(0xAAAA_0000_0000_0000, 1000, now-int64(500*time.Millisecond))
	sr, _ = d.senderReport(now)
	if sr.RTPTime != 1000+45000 || sr.NTPTime != 0xAAAA_0000_0000_0000+durationToNTP(int64(500*time.Millisecond)) {
		t.Fatalf("report not extrapolated from the publisher's: %+v", sr)
	}

	// The subscriber's receiver report gives the round-trip time.
	later := now + int64(80*time.Millisecond)
	d.stats.update(rtcp.ReceptionReport{SSRC: 555, FractionLost: 64, Jitter: 90,
		LastSenderReport: uint32(sr.NTPTime >> 16), Delay: 65536 / 50}, later) // held 20 ms
	if s := d.Stats(); s.FractionLost != 0.25 || s.Jitter != 90 || s.RTTMillis < 59 || s.RTTMillis > 61 {
		t.Fatalf("stats = %+v, want 25%% loss and 60 ms RTT", s)
	}
}

func TestDurationToNTP(t *testing.T) {
	if got := durationToNTP(int64(1500 * time.Millisecond)); got != 1<<32|1<<31 {
		t.Fatalf("1.5 s = %x", got)
	}
	if got := unixToNTP(time.Unix(0, 0)); got != 2208988800<<32 {
		t.Fatalf("Unix epoch = %x", got)
	}
}

// FuzzHandleRTCP feeds arbitrary RTCP from a subscriber to a down track.
func FuzzHandleRTCP(f *testing.F) {
	seed := func(pkts ...rtcp.Packet) []byte {
		b, err := rtcp.Marshal(pkts)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	f.Add(seed(&rtcp.TransportLayerNack{MediaSSRC: 555, Nacks: []rtcp.NackPair{{PacketID: 3, LostPackets: 0xffff}}}))
	f.Add(seed(&rtcp.PictureLossIndication{MediaSSRC: 555}, &rtcp.ReceiverReport{Reports: []rtcp.ReceptionReport{{SSRC: 555, LastSenderReport: 1}}}))
	f.Add(seed(&rtcp.FullIntraRequest{MediaSSRC: 555, FIR: []rtcp.FIREntry{{SSRC: 555}}}))
	f.Add([]byte{0x80, 0xc9, 0x00, 0x01, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		up, d, _ := fixture(t)
		for seq := range uint16(8) {
			receive(t, up, publisherPacket(t, seq, []byte{1, 2, 3}))
		}
		pkts, err := rtcp.Unmarshal(data)
		if err != nil {
			return
		}
		d.handleRTCP(pkts)
		_ = d.Stats()
	})
}
