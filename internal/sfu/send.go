package sfu

import (
	"encoding/binary"
	"sync"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"

	"github.com/visio-meet/visio/internal/sfu/packetcache"
	"github.com/visio-meet/visio/internal/sfu/rtpparse"
	"github.com/visio-meet/visio/internal/sfu/udpout"
)

const transportCCURI = sdp.TransportCCURI

// The header the server writes: 12 bytes, and when the subscriber takes
// transport-wide congestion control feedback, one extension block with the
// transport-wide sequence number (RFC 8285 one-byte form: 0xBEDE, one word
// of length, id and length, two bytes of number, one of padding).
const (
	rtpHeaderLen      = 12
	rtpHeaderLenTWCC  = rtpHeaderLen + 8
	oneByteExtProfile = 0xBEDE
)

// wireOverhead is what a packet costs on the link beyond its payload: the
// header above, the SRTP tag, and UDP and IPv4 headers. The bandwidth
// estimate counts it, as the link does.
const wireOverhead = rtpHeaderLenTWCC + 16 + 8 + 20

// sendState is what a down track needs to send; d.mu guards it.
type sendState struct {
	header   rtp.Header // Pion's path
	extValue [2]byte
	scratch  [udpout.MaxDatagram]byte // a header and payload, when the publisher's header is too short to write over
}

// send sends one packet numbered seq and ts for the subscriber, and returns
// the payload bytes sent (0 if nothing was). On the fast path the packet
// waits in out until the round ends; with no out (a retransmission, on
// the track's RTCP goroutine) it leaves at once. d.mu is held.
func (d *DownTrack) send(b *binding, seq uint16, ts uint32, h *rtpparse.Header, pkt []byte, now int64, out *sendBatch) int {
	var transportSeq uint16
	if b.transportCC != 0 {
		transportSeq = d.subscriber.nextTransportSeq()
	}
	n := h.PayloadEnd - h.PayloadStart
	if f := d.subscriber.fast.Load(); f != nil && out != nil {
		q := out.queue(f.socket)
		q.Add(d.seal(q.Buffer(), f, b, seq, ts, transportSeq, h, pkt), &f.dest)
	} else if f != nil {
		sealed := d.seal(d.retransmit.sealed[:0], f, b, seq, ts, transportSeq, h, pkt)
		if err := f.socket.out.Send(sealed, &f.dest); err != nil {
			return 0
		}
	} else if n = d.write(b, seq, ts, transportSeq, h, pkt); n == 0 {
		return 0
	}
	if b.transportCC != 0 {
		d.subscriber.sent.Record(transportSeq, now/1000, n+wireOverhead)
	}
	return n
}

// seal writes this subscriber's header just before the payload, over the
// end of the publisher's header, and encrypts header, payload and padding
// into dst. The payload is read in place: nothing is copied per subscriber,
// unless the publisher's header is shorter than the one written.
func (d *DownTrack) seal(dst []byte, f *fastPath, b *binding, seq uint16, ts uint32, transportSeq uint16, h *rtpparse.Header, pkt []byte) []byte {
	hdrLen := rtpHeaderLen
	if b.transportCC != 0 {
		hdrLen = rtpHeaderLenTWCC
	}
	var plain []byte
	if h.PayloadStart >= hdrLen {
		plain = pkt[h.PayloadStart-hdrLen:]
	} else {
		n := copy(d.out.scratch[hdrLen:], pkt[h.PayloadStart:])
		plain = d.out.scratch[:hdrLen+n]
	}
	plain[0] = 0x80
	if h.PayloadEnd < len(pkt) {
		plain[0] |= 0x20 // padding
	}
	plain[1] = b.payloadType
	if h.Marker {
		plain[1] |= 0x80
	}
	binary.BigEndian.PutUint16(plain[2:], seq)
	binary.BigEndian.PutUint32(plain[4:], ts)
	binary.BigEndian.PutUint32(plain[8:], b.ssrc)
	if b.transportCC != 0 {
		plain[0] |= 0x10 // extension
		binary.BigEndian.PutUint16(plain[12:], oneByteExtProfile)
		binary.BigEndian.PutUint16(plain[14:], 1) // one 32-bit word
		plain[16] = b.transportCC<<4 | 1          // two bytes of value
		binary.BigEndian.PutUint16(plain[17:], transportSeq)
		plain[19] = 0
	}
	return f.seal(dst, plain, hdrLen, b.ssrc, d.rolloverCount(seq), seq)
}

// write sends the packet through Pion with this subscriber's header, and the
// payload where it is. The publisher's header extensions are dropped: their
// ids were negotiated with the publisher, not the subscriber.
func (d *DownTrack) write(b *binding, seq uint16, ts uint32, transportSeq uint16, h *rtpparse.Header, pkt []byte) int {
	hdr := &d.out.header
	hdr.Version = 2
	hdr.Marker = h.Marker
	hdr.PayloadType = b.payloadType
	hdr.SequenceNumber = seq
	hdr.Timestamp = ts
	hdr.SSRC = b.ssrc
	hdr.Padding = h.PayloadEnd < len(pkt)
	hdr.PaddingSize = byte(len(pkt) - h.PayloadEnd)
	hdr.Extension, hdr.Extensions = false, hdr.Extensions[:0] // reuses the array: no allocation
	if b.transportCC != 0 {
		binary.BigEndian.PutUint16(d.out.extValue[:], transportSeq)
		_ = hdr.SetExtension(b.transportCC, d.out.extValue[:])
	}
	payload := pkt[h.PayloadStart:h.PayloadEnd]
	if _, err := b.writer.WriteRTP(hdr, payload); err != nil {
		return 0
	}
	return len(payload)
}

// Retransmission limits: a packet is sent again at most twice, not sooner
// than resendAfter after its last retransmission, and retransmissions take at
// most a quarter of the subscriber's estimated bandwidth. A subscriber on a
// lossy or narrow link (or a client that asks without measure) would
// otherwise fill its link with repairs and lose more.
const (
	maxResends          = 2
	maxResendAge        = 512 // packets behind the newest sent: browsers' SRTP replay window is 1,024
	resendAfter         = int64(100 * time.Millisecond)
	retransmitShare     = 0.25
	retransmitBurstTime = 0.1 // seconds of that share a burst may use
)

// resentPacket remembers the retransmissions of one sequence number.
type resentPacket struct {
	seq   uint16
	count uint8
	at    int64
}

// resend answers a NACK from the cache of the layer that carried seq. It
// runs on the track's RTCP goroutine.
func (d *DownTrack) resend(b *binding, seq uint16) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.up.owner.engine.now()
	log := &d.resent[int(seq)%len(d.resent)]
	if log.seq != seq || log.count == 0 {
		*log = resentPacket{seq: seq}
	}
	if log.count >= maxResends || (log.count > 0 && now-log.at < resendAfter) || d.sent.seq-seq > maxResendAge {
		return
	}
	var seg segment
	for _, s := range d.history {
		if s.valid && seq-s.start < 0x8000 {
			seg = s
			break
		}
	}
	l := d.up.layer(seg.layer)
	if !seg.valid || l == nil {
		return
	}
	rt := &d.retransmit
	n := l.cache.Get(seq-seg.offsets.seq, rt.buf[:])
	if n == 0 || rtpparse.Parse(rt.buf[:n], &rt.parsed) != nil || !d.subscriber.retransmits.take(n, now, d.subscriber.bwe.Estimate()) {
		return
	}
	log.count++
	log.at = now
	if d.send(b, seq, rt.parsed.Timestamp+seg.offsets.ts, &rt.parsed, rt.buf[:n], now, nil) > 0 {
		d.counters.retransmits.Add(1)
	}
}

// retransmitBudget is a token bucket, in bytes, shared by a subscriber's
// tracks.
type retransmitBudget struct {
	mu     sync.Mutex
	tokens float64
	last   int64
}

// take spends size bytes at now if the budget, refilled at a share of
// estimate bits per second, allows it.
func (r *retransmitBudget) take(size int, now int64, estimate int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	rate := float64(estimate) / 8 * retransmitShare
	burst := max(rate*retransmitBurstTime, packetcache.MaxPacketSize)
	if r.last == 0 {
		r.tokens = burst
	} else {
		r.tokens = min(burst, r.tokens+float64(now-r.last)/float64(time.Second)*rate)
	}
	r.last = now
	if r.tokens < float64(size) {
		return false
	}
	r.tokens -= float64(size)
	return true
}
