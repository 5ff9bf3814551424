package sfu

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
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

	// header is used only by the up track's reader goroutine, retransmit only
	// by this track's RTCP goroutine, so neither needs a lock.
	header     rtp.Header
	retransmit struct {
		header rtp.Header
		parsed rtpparse.Header
		buf    [packetcache.MaxPacketSize]byte
	}

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

// forward sends one packet from the publisher. h describes pkt, which belongs
// to the up track's reader and is only borrowed.
func (d *DownTrack) forward(h *rtpparse.Header, pkt []byte) {
	b := d.binding.Load()
	if b == nil {
		return
	}
	n := d.write(b, &d.header, h, pkt)
	if n > 0 {
		d.packets.Add(1)
		d.octets.Add(uint32(n))
	}
}

// write rewrites the publisher's header for this subscriber into hdr and
// sends it with the payload, which stays where it is. Header extensions are
// dropped: their ids were negotiated with the publisher, not the subscriber.
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
