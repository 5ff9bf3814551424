package sfu

import (
	"encoding/binary"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/visio-meet/visio/internal/sfu/packetcache"
	"github.com/visio-meet/visio/internal/sfu/rtpparse"
)

// DownTrack sends one UpTrack to one subscriber. It implements
// webrtc.TrackLocal so that Pion negotiates it, but packets bypass Pion's
// track writers: the forwarder rewrites the header in place of a copy and
// hands the shared payload to the SRTP session.
type DownTrack struct {
	up         *UpTrack
	subscriber *Peer
	sender     *webrtc.RTPSender
	binding    atomic.Pointer[binding]

	// header, lastSeq and sentAny are used only by the up track's reader
	// goroutine, retransmit only by this track's RTCP goroutine, so neither
	// needs a lock.
	header     rtp.Header
	lastSeq    uint16
	sentAny    bool
	retransmit struct {
		header rtp.Header
		parsed rtpparse.Header
		buf    [packetcache.MaxPacketSize]byte
		sealed [sealedPacketSize]byte
	}

	// The fast path's SRTP state, shared by the reader and the RTCP goroutine.
	roc        atomic.Uint32
	srtpMu     sync.Mutex
	srtp       *srtp.Context
	srtpKeys   *srtpKeys
	sealHeader rtp.Header

	packets atomic.Uint32
	octets  atomic.Uint32
	stats   receiverStats
}

// binding is what Pion negotiated for the track on the subscriber's connection.
type binding struct {
	ssrc        uint32
	payloadType uint8
	writer      webrtc.TrackLocalWriter
}

func newDownTrack(up *UpTrack, subscriber *Peer) *DownTrack {
	return &DownTrack{up: up, subscriber: subscriber}
}

// Bind implements webrtc.TrackLocal: it accepts the subscriber's codec that
// matches the publisher's, since the server never transcodes.
func (d *DownTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	for _, c := range ctx.CodecParameters() {
		if strings.EqualFold(c.MimeType, d.up.codec.MimeType) {
			d.binding.Store(&binding{ssrc: uint32(ctx.SSRC()), payloadType: uint8(c.PayloadType), writer: ctx.WriteStream()})
			if d.subscriber.subConnected.Load() {
				d.up.RequestKeyframe() // the subscriber cannot decode until the next keyframe
			}
			return c, nil
		}
	}
	return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
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

// forward sends one packet from the publisher. h describes pkt, which
// belongs to the up track's reader: forward may overwrite the publisher's
// header, which is no longer needed, but not the payload, which every
// subscriber shares. Packets on the fast path wait in out until the fan-out
// ends.
func (d *DownTrack) forward(h *rtpparse.Header, pkt []byte, out *sendBatch) {
	b := d.binding.Load()
	if b == nil {
		return
	}
	d.noteSequence(h.Seq)
	var n int
	if f := d.subscriber.fast.Load(); f != nil {
		q, slot := out.slot(f.socket)
		sealed, err := d.seal(slot, f, b, h, pkt)
		if err != nil {
			return
		}
		q.commit(sealed, f.addr)
		n = h.PayloadEnd - h.PayloadStart
	} else {
		n = d.write(b, &d.header, h, pkt)
	}
	if n > 0 {
		d.packets.Add(1)
		d.octets.Add(uint32(n))
	}
}

// noteSequence counts the wraps of the sequence numbers sent, which SRTP
// needs (the rollover counter) when a track moves to the fast path.
func (d *DownTrack) noteSequence(seq uint16) {
	if d.sentAny && seq < d.lastSeq && d.lastSeq-seq > 0x8000 {
		d.roc.Add(1)
	}
	d.sentAny, d.lastSeq = true, seq
}

// rtpHeaderLen is the size of the header the server writes: no CSRC, no
// extension.
const rtpHeaderLen = 12

// seal writes this subscriber's header over the end of the publisher's,
// just before the payload, and encrypts header, payload and padding into
// dst. The payload is read in place: nothing is copied per subscriber.
func (d *DownTrack) seal(dst []byte, f *fastPath, b *binding, h *rtpparse.Header, pkt []byte) ([]byte, error) {
	plain := pkt[h.PayloadStart-rtpHeaderLen:]
	plain[0] = 0x80
	if h.PayloadEnd < len(pkt) {
		plain[0] |= 0x20 // padding
	}
	plain[1] = b.payloadType
	if h.Marker {
		plain[1] |= 0x80
	}
	binary.BigEndian.PutUint16(plain[2:], h.Seq)
	binary.BigEndian.PutUint32(plain[4:], h.Timestamp)
	binary.BigEndian.PutUint32(plain[8:], b.ssrc)

	d.srtpMu.Lock()
	defer d.srtpMu.Unlock()
	if d.srtpKeys != f.keys {
		ctx, err := f.keys.newContext()
		if err != nil {
			return nil, err
		}
		ctx.SetROC(b.ssrc, d.roc.Load())
		d.srtp, d.srtpKeys = ctx, f.keys
	}
	return d.srtp.EncryptRTP(dst, plain, &d.sealHeader)
}

// write rewrites the publisher's header for this subscriber into hdr and
// sends it through Pion with the payload, which stays where it is. Header
// extensions are dropped: their ids were negotiated with the publisher, not
// the subscriber.
func (d *DownTrack) write(b *binding, hdr *rtp.Header, h *rtpparse.Header, pkt []byte) int {
	hdr.Version = 2
	hdr.Marker = h.Marker
	hdr.PayloadType = b.payloadType
	hdr.SequenceNumber = h.Seq
	hdr.Timestamp = h.Timestamp
	hdr.SSRC = b.ssrc
	hdr.Padding = h.PayloadEnd < len(pkt)
	hdr.PaddingSize = byte(len(pkt) - h.PayloadEnd)
	payload := pkt[h.PayloadStart:h.PayloadEnd]
	if _, err := b.writer.WriteRTP(hdr, payload); err != nil {
		return 0
	}
	return len(payload)
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
				d.up.RequestKeyframe()
			}
		case *rtcp.FullIntraRequest:
			d.up.RequestKeyframe()
		case *rtcp.TransportLayerNack:
			if p.MediaSSRC != b.ssrc {
				continue
			}
			for _, pair := range p.Nacks {
				pair.Range(func(seq uint16) bool {
					d.resend(b, seq)
					return true
				})
			}
		case *rtcp.ReceiverReport:
			for _, r := range p.Reports {
				if r.SSRC == b.ssrc {
					d.stats.update(r, d.up.owner.engine.now())
				}
			}
		}
	}
}

// resend answers a NACK from the up track's cache.
func (d *DownTrack) resend(b *binding, seq uint16) {
	rt := &d.retransmit
	n := d.up.cache.Get(seq, rt.buf[:])
	if n == 0 || rtpparse.Parse(rt.buf[:n], &rt.parsed) != nil {
		return
	}
	if f := d.subscriber.fast.Load(); f != nil {
		if sealed, err := d.seal(rt.sealed[:0], f, b, &rt.parsed, rt.buf[:n]); err == nil {
			_, _ = f.socket.conn.WriteToUDPAddrPort(sealed, f.addrKey)
		}
		return
	}
	d.write(b, &rt.header, &rt.parsed, rt.buf[:n])
}

// senderReport describes what was sent so far, for RTCP.
func (d *DownTrack) senderReport(now int64) (*rtcp.SenderReport, bool) {
	b := d.binding.Load()
	packets := d.packets.Load()
	if b == nil || packets == 0 {
		return nil, false
	}
	rtpTime, ntpTime, ok := d.up.rtpTimeAt(now)
	if !ok {
		return nil, false
	}
	d.stats.sentReport(ntpTime, now)
	return &rtcp.SenderReport{SSRC: b.ssrc, NTPTime: ntpTime, RTPTime: rtpTime,
		PacketCount: packets, OctetCount: d.octets.Load()}, true
}

// Stats is what a subscriber reported about a track it receives.
type Stats struct {
	PacketsSent  uint32
	FractionLost float64 // 0 to 1, over the subscriber's last report interval
	Jitter       uint32  // in RTP timestamp units
	RTTMillis    float64 // 0 until measured
}

// Stats returns the latest figures for this track.
func (d *DownTrack) Stats() Stats {
	s := d.stats.snapshot()
	s.PacketsSent = d.packets.Load()
	return s
}

// receiverStats keeps the subscriber's receiver reports. The round-trip time
// needs the time each sender report left, found by its NTP middle bits.
type receiverStats struct {
	mu     sync.Mutex
	latest Stats
	sent   [4]struct {
		lsr uint32
		at  int64
	}
	next int
}

func (s *receiverStats) sentReport(ntpTime uint64, at int64) {
	s.mu.Lock()
	s.sent[s.next] = struct {
		lsr uint32
		at  int64
	}{uint32(ntpTime >> 16), at}
	s.next = (s.next + 1) % len(s.sent)
	s.mu.Unlock()
}

func (s *receiverStats) update(r rtcp.ReceptionReport, now int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latest.FractionLost = float64(r.FractionLost) / 256
	s.latest.Jitter = r.Jitter
	if r.LastSenderReport == 0 {
		return
	}
	for _, sent := range s.sent {
		if sent.lsr == r.LastSenderReport && sent.at != 0 {
			// DLSR is in units of 1/65536 s.
			rtt := float64(now-sent.at)/1e6 - float64(r.Delay)*1000/65536
			if rtt >= 0 {
				s.latest.RTTMillis = rtt
			}
			return
		}
	}
}

func (s *receiverStats) snapshot() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.latest
}
