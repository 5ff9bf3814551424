package sfu

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/visio-meet/visio/internal/sfu/packetcache"
	"github.com/visio-meet/visio/internal/sfu/rtpparse"
)

// Cache sizes: about 3 s of a 1.5 Mbit/s video and 2.5 s of Opus, enough to
// repair a loss seen one round trip later, with room for keyframe bursts.
const (
	videoCachePackets = 512
	audioCachePackets = 128
)

// layer is one RTP stream of a published track.
type layer struct {
	track    *UpTrack
	index    Layer
	rid      string
	ssrc     uint32
	remote   *webrtc.TrackRemote
	receiver *webrtc.RTPReceiver
	cache    *packetcache.Cache
	levelExt uint8 // negotiated id of the audio level extension, 0 if none
	keyframe func(payload []byte) bool

	lastKeyframe  atomic.Int64 // engine time of the last keyframe request sent
	lastTimestamp atomic.Uint32
	lastArrival   atomic.Int64 // engine time of the newest packet
	reports       senderClock
	rate          rateMeter
	arrivals      arrivalCounter
	counters      layerCounters
}

func newLayer(t *UpTrack, index Layer, remote *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) *layer {
	l := &layer{track: t, index: index, rid: remote.RID(), ssrc: uint32(remote.SSRC()), remote: remote, receiver: receiver,
		keyframe: keyframeDetector(t.codec.MimeType)}
	size := videoCachePackets
	if t.kind == webrtc.RTPCodecTypeAudio {
		size = audioCachePackets
		for _, ext := range receiver.GetParameters().HeaderExtensions {
			if ext.URI == audioLevelURI && ext.ID > 0 && ext.ID < 256 {
				l.levelExt = uint8(ext.ID)
			}
		}
	}
	l.cache = packetcache.New(size)
	return l
}

// run forwards the layer's packets to the subscribers of the track until
// its stream ends.
func (l *layer) run() {
	defer l.track.layerEnded()
	in := newIntake()
	go l.read(in) // ends with the stream, and run after it
	round := make([]*inPacket, 0, intakeSlots)
	accepted := make([]*inPacket, 0, intakeSlots)
	for {
		round = in.next(round)
		if len(round) == 0 {
			return
		}
		accepted = accepted[:0]
		for _, p := range round {
			if l.accept(p) {
				accepted = append(accepted, p)
			}
		}
		l.forwardRound(accepted)
		in.release(round)
	}
}

// accept parses a packet, notes its arrival and keeps it for
// retransmissions; it reports false for a packet that is not RTP.
func (l *layer) accept(p *inPacket) bool {
	pkt, h := p.bytes(), &p.h
	if rtpparse.Parse(pkt, h) != nil {
		return false
	}
	t := l.track
	now := t.owner.engine.now()
	p.at = now
	l.lastTimestamp.Store(h.Timestamp)
	l.lastArrival.Store(now)
	l.rate.add(p.n, now)
	l.countArrival(h.Seq, h.PayloadEnd-h.PayloadStart)
	l.cache.Store(h.Seq, pkt)
	if l.levelExt != 0 {
		if box := t.levels.Load(); box != nil {
			if ext, ok := h.Extension(pkt, l.levelExt); ok {
				if level, _, ok := rtpparse.AudioLevel(ext); ok {
					box.Observe(level)
				}
			}
		}
	}
	if box := t.packets.Load(); box != nil {
		box.Packet(h.Seq, h.Timestamp, pkt[h.PayloadStart:h.PayloadEnd])
	}
	// Audio can be joined at any packet.
	p.keyframe = t.kind == webrtc.RTPCodecTypeAudio || l.keyframe(pkt[h.PayloadStart:h.PayloadEnd])
	return true
}

// forwardRound sends a round's packets to every subscriber, a subscriber
// at a time, so that each one's packets are queued together.
func (l *layer) forwardRound(round []*inPacket) {
	if len(round) == 0 {
		return
	}
	batches := &l.track.owner.engine.batches
	out := batches.get()
	for _, d := range *l.track.downs.Load() {
		for _, p := range round {
			d.forward(l, &p.h, p.bytes(), p.keyframe, p.at, out)
		}
	}
	out.flush()
	batches.put(out)
}

// readRTCP takes the publisher's sender reports, which map its RTP clock to
// wall-clock time so that subscribers can keep audio and video in sync.
func (l *layer) readRTCP() {
	buf := make([]byte, packetcache.MaxPacketSize)
	for {
		var n int
		var err error
		if l.rid != "" {
			n, _, err = l.receiver.ReadSimulcast(buf, l.rid)
		} else {
			n, _, err = l.receiver.Read(buf)
		}
		if err != nil {
			return
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		for _, p := range pkts {
			if sr, ok := p.(*rtcp.SenderReport); ok && sr.SSRC == l.ssrc {
				l.reports.set(sr.NTPTime, sr.RTPTime, l.track.owner.engine.now())
			}
		}
	}
}

// rtpTimeAt returns the RTP timestamp and NTP time that correspond to the
// engine time now, on the publisher's clock when it has sent a sender report.
func (l *layer) rtpTimeAt(now int64) (rtpTime uint32, ntpTime uint64, ok bool) {
	rate := int64(l.track.codec.ClockRate)
	if rate == 0 {
		return 0, 0, false
	}
	if ntp, rtpAt, at, known := l.reports.get(); known {
		elapsed := max(now-at, 0)
		return rtpAt + uint32(elapsed*rate/int64(time.Second)), ntp + durationToNTP(elapsed), true
	}
	arrival := l.lastArrival.Load()
	if arrival == 0 {
		return 0, 0, false
	}
	elapsed := max(now-arrival, 0)
	return l.lastTimestamp.Load() + uint32(elapsed*rate/int64(time.Second)), l.track.owner.engine.ntpAt(now), true
}

// senderClock is the latest mapping a publisher gave between its RTP clock
// and NTP time.
type senderClock struct {
	mu      sync.Mutex
	ntp     uint64
	rtpTime uint32
	at      int64 // engine time of reception
}

func (c *senderClock) set(ntp uint64, rtpTime uint32, at int64) {
	c.mu.Lock()
	c.ntp, c.rtpTime, c.at = ntp, rtpTime, at
	c.mu.Unlock()
}

func (c *senderClock) get() (ntp uint64, rtpTime uint32, at int64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ntp, c.rtpTime, c.at, c.at != 0
}

// durationToNTP converts nanoseconds to the 32.32 fixed-point NTP format.
func durationToNTP(d int64) uint64 {
	secs := uint64(d / int64(time.Second))
	frac := uint64(d%int64(time.Second)) << 32 / uint64(time.Second)
	return secs<<32 | frac
}

// rateMeter measures a bitrate over the last second, in two half-second
// buckets, and tells whether packets have flowed for the whole of it. It is
// written by one goroutine and read by others.
type rateMeter struct {
	bucketStart atomic.Int64 // engine time the current bucket began
	current     atomic.Int64 // bytes in the current bucket
	previous    atomic.Int64 // bytes in the bucket before
	flowStart   atomic.Int64 // engine time packets began to flow after a gap of a whole window
	last        atomic.Int64 // engine time of the last packet
}

const rateBucket = int64(500 * time.Millisecond)

func (m *rateMeter) add(bytes int, now int64) {
	if last := m.last.Load(); last == 0 || now-last >= 2*rateBucket {
		m.flowStart.Store(now)
	}
	m.last.Store(now)
	start := m.bucketStart.Load()
	if now-start >= rateBucket {
		if now-start >= 2*rateBucket {
			m.previous.Store(0)
		} else {
			m.previous.Store(m.current.Load())
		}
		m.current.Store(0)
		m.bucketStart.Store(now)
	}
	m.current.Add(int64(bytes))
}

// bitsPerSecond returns the rate up to the last packet, and whether it
// measures a flow that has run for the whole window. A layer that has just
// resumed (its encoder ramps up) shows a fraction of what it costs.
func (m *rateMeter) bitsPerSecond(now int64) (bps int, steady bool) {
	start := m.bucketStart.Load()
	if now-start >= 2*rateBucket {
		return 0, false
	}
	// The previous bucket covers half a second; the current one, up to the
	// last packet, so that a layer that stopped keeps its rate until the
	// window empties instead of seeming to cost less and less.
	bytes := m.previous.Load() + m.current.Load()
	span := rateBucket + max(m.last.Load()-start, int64(time.Millisecond))
	return int(bytes * 8 * int64(time.Second) / span), now-m.flowStart.Load() >= 2*rateBucket
}
