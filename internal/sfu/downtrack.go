package sfu

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/visio-meet/visio/internal/sfu/packetcache"
	"github.com/visio-meet/visio/internal/sfu/rtpparse"
	"github.com/visio-meet/visio/internal/sfu/udpout"
)

// DownTrack sends one UpTrack to one subscriber. It implements
// webrtc.TrackLocal so that Pion negotiates it, but packets bypass Pion's
// track writers: see forward.
//
// A down track forwards one layer of its up track at a time. It moves to the
// layer it is told to (its target) on a keyframe of that layer, and rewrites
// sequence numbers and timestamps so that the subscriber sees one unbroken
// stream across the moves.
type DownTrack struct {
	up         *UpTrack
	subscriber *Peer
	sender     *webrtc.RTPSender
	binding    atomic.Pointer[binding]

	want   atomic.Int32 // highest layer the subscriber's view asks for
	limit  atomic.Int32 // highest layer its bandwidth allows (see Peer.allocate)
	target atomic.Int32 // layer chosen among those the publisher sends; LayerNone pauses

	// mu guards the forwarding and sending state: around a move, the readers
	// of two layers call forward at the same time, and the RTCP goroutine
	// retransmits. What forward reads at every packet comes first, so that
	// it takes few cache lines: a packet visits every down track of its
	// track in turn.
	mu      sync.Mutex
	current Layer // layer being forwarded; LayerNone until a keyframe starts it
	offsets streamOffsets
	sent    struct {
		any bool
		seq uint16
		ts  uint32
		at  int64 // engine time
	}
	roc uint32 // wraps of the sequence numbers sent, for SRTP

	// What was forwarded, in packets and payload bytes; sender reports
	// carry their low 32 bits, as RTCP's counts wrap.
	packets atomic.Uint64
	octets  atomic.Uint64

	history [4]segment // recent moves, newest first, to answer NACKs
	out     sendState

	resent [64]resentPacket // guarded by mu

	// retransmit is used only by this track's RTCP goroutine.
	retransmit struct {
		parsed rtpparse.Header
		buf    [packetcache.MaxPacketSize]byte
		sealed [udpout.MaxDatagram]byte
	}

	stats    receiverStats
	counters downCounters
}

// streamOffsets turn a layer's sequence numbers and timestamps into the
// subscriber's.
type streamOffsets struct {
	seq uint16
	ts  uint32
}

// segment records from which sequence number sent a layer was forwarded.
type segment struct {
	valid   bool
	start   uint16 // first sequence number sent from this layer
	layer   Layer
	offsets streamOffsets
}

// binding is what Pion negotiated for the track on the subscriber's connection.
type binding struct {
	ssrc        uint32
	payloadType uint8
	transportCC uint8 // id of the transport-wide sequence number extension, 0 if none
	writer      webrtc.TrackLocalWriter
}

func newDownTrack(up *UpTrack, subscriber *Peer) *DownTrack {
	d := &DownTrack{up: up, subscriber: subscriber, current: LayerNone}
	d.want.Store(int32(LayerNone))
	d.limit.Store(int32(LayerHigh))
	d.target.Store(int32(LayerNone))
	return d
}

// Bind implements webrtc.TrackLocal: it accepts the subscriber's codec that
// matches the publisher's, since the server never transcodes.
func (d *DownTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	for _, c := range ctx.CodecParameters() {
		if codecMatches(c, d.up.codec) {
			b := &binding{ssrc: uint32(ctx.SSRC()), payloadType: uint8(c.PayloadType), writer: ctx.WriteStream()}
			for _, ext := range ctx.HeaderExtensions() {
				if ext.URI == transportCCURI && ext.ID > 0 && ext.ID < 15 {
					b.transportCC = uint8(ext.ID)
				}
			}
			d.binding.Store(b)
			if t := Layer(d.target.Load()); t != LayerNone && d.subscriber.subConnected.Load() {
				d.up.RequestKeyframe(t) // the subscriber cannot decode until the next keyframe
			}
			return c, nil
		}
	}
	return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
}

// codecMatches tells whether the subscriber's codec c can carry the
// publisher's packets unchanged: same codec and, for H.264, same
// packetization mode.
func codecMatches(c, publisher webrtc.RTPCodecParameters) bool {
	if !strings.EqualFold(c.MimeType, publisher.MimeType) {
		return false
	}
	if strings.EqualFold(c.MimeType, webrtc.MimeTypeH264) {
		return fmtpValue(c.SDPFmtpLine, "packetization-mode") == fmtpValue(publisher.SDPFmtpLine, "packetization-mode")
	}
	return true
}

func fmtpValue(fmtp, key string) string {
	for part := range strings.SplitSeq(fmtp, ";") {
		if k, v, ok := strings.Cut(strings.TrimSpace(part), "="); ok && strings.EqualFold(k, key) {
			return v
		}
	}
	return ""
}

// Unbind implements webrtc.TrackLocal.
func (d *DownTrack) Unbind(webrtc.TrackLocalContext) error {
	d.binding.Store(nil)
	return nil
}

// ID implements webrtc.TrackLocal.
func (d *DownTrack) ID() string { return string(d.up.id) }

// RID implements webrtc.TrackLocal.
func (d *DownTrack) RID() string { return "" }

// StreamID implements webrtc.TrackLocal: a participant's tracks form one
// stream, which is what lets the browser synchronise their audio and video.
func (d *DownTrack) StreamID() string { return string(d.up.owner.id) }

// Kind implements webrtc.TrackLocal.
func (d *DownTrack) Kind() webrtc.RTPCodecType { return d.up.kind }

// Layer returns the layer being forwarded, LayerNone when none is.
func (d *DownTrack) Layer() Layer {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.current
}

// setWant records the highest layer the subscriber should get and picks the
// layer to forward among those the publisher sends.
func (d *DownTrack) setWant(want Layer) {
	d.want.Store(int32(want))
	d.selectLayer()
}

// setLimit records the highest layer the subscriber's bandwidth allows,
// and reports whether that changed.
func (d *DownTrack) setLimit(limit Layer) bool {
	if Layer(d.limit.Swap(int32(limit))) == limit {
		return false
	}
	d.selectLayer()
	return true
}

// selectLayer picks the target layer again, as layers come and go.
func (d *DownTrack) selectLayer() {
	target := d.up.bestLayer(min(Layer(d.want.Load()), Layer(d.limit.Load())))
	if old := Layer(d.target.Swap(int32(target))); old == target {
		return
	}
	d.up.updateWanted()
	if target != LayerNone && d.subscriber.subConnected.Load() {
		d.up.RequestKeyframe(target)
	}
}

// forward sends one packet from layer l, which arrived at now. h describes
// pkt, which belongs to the layer's reader: forward may overwrite the
// publisher's header, which is no longer needed, but not the payload, which
// every subscriber shares. Packets on the fast path wait in out until the
// fan-out ends.
func (d *DownTrack) forward(l *layer, h *rtpparse.Header, pkt []byte, keyframe bool, now int64, out *sendBatch) {
	b := d.binding.Load()
	if b == nil || !d.subscriber.subConnected.Load() {
		return // a keyframe sent now would be lost, and the picture stay black
	}
	target := Layer(d.target.Load())
	d.mu.Lock()
	if l.index != d.current || target == LayerNone {
		if target == LayerNone {
			d.current = LayerNone
		}
		if l.index != target || !keyframe {
			d.mu.Unlock()
			if l.index == target {
				l.track.RequestKeyframe(target) // still waiting for one
			}
			return
		}
		d.moveTo(l, h, now)
	}
	seq, ts := h.Seq+d.offsets.seq, h.Timestamp+d.offsets.ts
	d.noteSent(seq, ts, now)
	n := d.send(b, seq, ts, h, pkt, now, out)
	d.mu.Unlock()
	if n > 0 {
		d.packets.Add(1)
		d.octets.Add(uint64(n))
	}
}

// moveTo starts forwarding layer l at packet h, a keyframe, and chooses
// offsets that make its numbers follow those already sent. d.mu is held.
func (d *DownTrack) moveTo(l *layer, h *rtpparse.Header, now int64) {
	if d.sent.any {
		elapsed := max(now-d.sent.at, 0)
		ticks := max(uint32(elapsed*int64(l.track.codec.ClockRate)/int64(time.Second)), 1)
		d.offsets = streamOffsets{seq: d.sent.seq + 1 - h.Seq, ts: d.sent.ts + ticks - h.Timestamp}
	}
	d.current = l.index
	copy(d.history[1:], d.history[:len(d.history)-1])
	d.history[0] = segment{valid: true, start: h.Seq + d.offsets.seq, layer: l.index, offsets: d.offsets}
}

// noteSent remembers the last numbers sent, and counts the wraps of the
// sequence numbers, which SRTP needs (the rollover counter) when the track
// moves to the fast path. d.mu is held.
func (d *DownTrack) noteSent(seq uint16, ts uint32, now int64) {
	if d.sent.any && seq < d.sent.seq && d.sent.seq-seq > 0x8000 {
		d.roc++
	}
	if !d.sent.any || seq-d.sent.seq < 0x8000 {
		d.sent.seq, d.sent.ts = seq, ts
	}
	d.sent.any, d.sent.at = true, now
}

// rolloverCount is SRTP's count of sequence number wraps for seq: that of
// the newest packet sent, one more for a packet after a wrap, one less for a
// retransmission from before the last wrap. d.mu is held.
func (d *DownTrack) rolloverCount(seq uint16) uint32 {
	roc := d.roc
	switch {
	case !d.sent.any:
	case seq-d.sent.seq < 0x8000 && seq < d.sent.seq:
		roc++
	case seq-d.sent.seq >= 0x8000 && seq > d.sent.seq:
		roc--
	}
	return roc
}

// readRTCP handles what the subscriber says about the track until the sender
// stops.
func (d *DownTrack) readRTCP() {
	buf := make([]byte, packetcache.MaxPacketSize)
	for {
		n, _, err := d.sender.Read(buf)
		if err != nil {
			return
		}
		// A malformed packet is the client's problem: skip it, keep reading.
		if pkts, err := rtcp.Unmarshal(buf[:n]); err == nil {
			d.handleRTCP(pkts)
		}
	}
}

func (d *DownTrack) handleRTCP(pkts []rtcp.Packet) {
	b := d.binding.Load()
	if b == nil {
		return
	}
	for _, p := range pkts {
		switch p := p.(type) {
		case *rtcp.PictureLossIndication:
			if p.MediaSSRC == b.ssrc {
				d.up.RequestKeyframe(d.Layer())
			}
		case *rtcp.FullIntraRequest:
			d.up.RequestKeyframe(d.Layer())
		case *rtcp.TransportLayerNack:
			if p.MediaSSRC != b.ssrc {
				continue
			}
			var asked uint64
			for _, pair := range p.Nacks {
				pair.Range(func(seq uint16) bool {
					asked++
					d.resend(b, seq)
					return true
				})
			}
			d.counters.nacks.Add(asked)
		case *rtcp.TransportLayerCC:
			d.subscriber.bwe.OnFeedback(p, d.up.owner.engine.now()/1000)
		case *rtcp.ReceiverReport:
			for _, r := range p.Reports {
				if r.SSRC == b.ssrc {
					d.counters.reportLost(r.TotalLost)
					d.stats.update(r, d.up.owner.engine.now())
				}
			}
		}
	}
}

// senderReport describes what was sent so far, for RTCP.
func (d *DownTrack) senderReport(now int64) (*rtcp.SenderReport, bool) {
	b := d.binding.Load()
	packets := d.packets.Load()
	d.mu.Lock()
	l, offsets := d.up.layer(d.current), d.offsets
	d.mu.Unlock()
	if b == nil || packets == 0 || l == nil {
		return nil, false
	}
	rtpTime, ntpTime, ok := l.rtpTimeAt(now)
	if !ok {
		return nil, false
	}
	d.stats.sentReport(ntpTime, now)
	return &rtcp.SenderReport{SSRC: b.ssrc, NTPTime: ntpTime, RTPTime: rtpTime + offsets.ts,
		PacketCount: uint32(packets), OctetCount: uint32(d.octets.Load())}, true
}
