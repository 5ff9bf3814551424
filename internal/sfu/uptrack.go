package sfu

import (
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/visio-meet/visio/internal/sfu/packetcache"
	"github.com/visio-meet/visio/internal/sfu/rtpparse"
)

// PeerID identifies a peer, and so the participant it belongs to.
type PeerID string

// TrackID identifies a published track across the whole server.
type TrackID string

// LevelObserver receives the audio level of each packet of an audio track, in
// -dBov (0 loudest, 127 silent). It is called on the forwarding path and must
// return at once.
type LevelObserver interface {
	Observe(level uint8)
}

// keyframeInterval bounds how often subscribers' keyframe requests reach a
// publisher: every new subscriber and every loss asks for one, and each
// keyframe costs the publisher several times a normal frame.
const keyframeInterval = 500 * time.Millisecond

// Cache sizes: about 3 s of a 1.5 Mbit/s video and 2.5 s of Opus, enough to
// repair a loss seen one round trip later, with room for keyframe bursts.
const (
	videoCachePackets = 512
	audioCachePackets = 128
)

// UpTrack is a track that a participant publishes: one reader goroutine takes
// its packets from Pion and hands them to every subscriber's DownTrack.
type UpTrack struct {
	id       TrackID
	owner    *Peer
	mid      string
	kind     webrtc.RTPCodecType
	codec    webrtc.RTPCodecParameters
	ssrc     uint32
	remote   *webrtc.TrackRemote
	receiver *webrtc.RTPReceiver
	cache    *packetcache.Cache
	levelExt uint8 // negotiated id of the audio level extension, 0 if none
	log      *slog.Logger

	levels        atomic.Pointer[levelBox]
	lastKeyframe  atomic.Int64 // engine time of the last keyframe request sent
	lastTimestamp atomic.Uint32
	lastArrival   atomic.Int64 // engine time of the newest packet
	reports       senderClock

	mu     sync.Mutex
	closed bool
	downs  atomic.Pointer[[]*DownTrack] // replaced, never modified: read without a lock
}

type levelBox struct{ LevelObserver }

func newUpTrack(owner *Peer, mid string, remote *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) *UpTrack {
	t := &UpTrack{
		id:       TrackID(string(owner.id) + "-" + mid),
		owner:    owner,
		mid:      mid,
		kind:     remote.Kind(),
		codec:    remote.Codec(),
		ssrc:     uint32(remote.SSRC()),
		remote:   remote,
		receiver: receiver,
	}
	t.log = owner.log.With("track", t.id, "kind", t.kind.String())
	size := videoCachePackets
	if t.kind == webrtc.RTPCodecTypeAudio {
		size = audioCachePackets
		for _, ext := range receiver.GetParameters().HeaderExtensions {
			if ext.URI == audioLevelURI && ext.ID > 0 && ext.ID < 256 {
				t.levelExt = uint8(ext.ID)
			}
		}
	}
	t.cache = packetcache.New(size)
	t.downs.Store(&[]*DownTrack{})
	return t
}

// ID returns the track's server-wide identifier.
func (t *UpTrack) ID() TrackID { return t.id }

// Owner returns the publishing peer.
func (t *UpTrack) Owner() PeerID { return t.owner.id }

// Mid returns the transceiver mid on the publisher's connection.
func (t *UpTrack) Mid() string { return t.mid }

// Kind returns "audio" or "video".
func (t *UpTrack) Kind() string { return t.kind.String() }

// ObserveLevels makes o receive the track's audio levels; nil stops it.
func (t *UpTrack) ObserveLevels(o LevelObserver) {
	if o == nil {
		t.levels.Store(nil)
		return
	}
	t.levels.Store(&levelBox{o})
}

// run reads packets until the publisher's track ends.
func (t *UpTrack) run() {
	defer t.close()
	buf := make([]byte, packetcache.MaxPacketSize)
	var h rtpparse.Header
	var out sendBatch
	for {
		n, _, err := t.remote.Read(buf)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrClosedPipe) {
				t.log.Debug("track read ended", "err", err)
			}
			return
		}
		pkt := buf[:n]
		if rtpparse.Parse(pkt, &h) != nil {
			continue
		}
		t.lastTimestamp.Store(h.Timestamp)
		t.lastArrival.Store(t.owner.engine.now())
		t.cache.Store(h.Seq, pkt)
		if t.levelExt != 0 {
			if box := t.levels.Load(); box != nil {
				if ext, ok := h.Extension(pkt, t.levelExt); ok {
					if level, _, ok := rtpparse.AudioLevel(ext); ok {
						box.Observe(level)
					}
				}
			}
		}
		for _, d := range *t.downs.Load() {
			d.forward(&h, pkt, &out)
		}
		out.flush()
	}
}

// readRTCP takes the publisher's sender reports, which map its RTP clock to
// wall-clock time so that subscribers can keep audio and video in sync.
func (t *UpTrack) readRTCP() {
	buf := make([]byte, packetcache.MaxPacketSize)
	for {
		n, _, err := t.receiver.Read(buf)
		if err != nil {
			return
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		for _, p := range pkts {
			if sr, ok := p.(*rtcp.SenderReport); ok && sr.SSRC == t.ssrc {
				t.reports.set(sr.NTPTime, sr.RTPTime, t.owner.engine.now())
			}
		}
	}
}

// RequestKeyframe asks the publisher for a keyframe, at most once per
// keyframeInterval whoever asks.
func (t *UpTrack) RequestKeyframe() {
	if t.kind != webrtc.RTPCodecTypeVideo {
		return
	}
	now := t.owner.engine.now()
	last := t.lastKeyframe.Load()
	if last != 0 && now-last < int64(keyframeInterval) || !t.lastKeyframe.CompareAndSwap(last, now) {
		return
	}
	if err := t.owner.writePublisherRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: t.ssrc}}); err != nil {
		t.log.Debug("keyframe request not sent", "err", err)
	}
}

// addDown adds a subscriber; it fails once the track has ended.
func (t *UpTrack) addDown(d *DownTrack) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	old := *t.downs.Load()
	next := make([]*DownTrack, len(old), len(old)+1)
	copy(next, old)
	next = append(next, d)
	t.downs.Store(&next)
	return true
}

func (t *UpTrack) removeDown(d *DownTrack) {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := *t.downs.Load()
	next := make([]*DownTrack, 0, len(old))
	for _, x := range old {
		if x != d {
			next = append(next, x)
		}
	}
	t.downs.Store(&next)
}

// RemoveSubscribers stops forwarding the track to anyone; the publisher keeps
// sending and the track can be subscribed to again.
func (t *UpTrack) RemoveSubscribers() {
	t.mu.Lock()
	downs := *t.downs.Load()
	t.downs.Store(&[]*DownTrack{})
	t.mu.Unlock()
	for _, d := range downs {
		d.subscriber.Unsubscribe(t)
	}
}

func (t *UpTrack) close() {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	t.RemoveSubscribers()
	t.owner.trackEnded(t)
}

// rtpTimeAt returns the RTP timestamp and NTP time that correspond to the
// engine time now, on the publisher's clock when it has sent a sender report.
func (t *UpTrack) rtpTimeAt(now int64) (rtpTime uint32, ntpTime uint64, ok bool) {
	rate := int64(t.codec.ClockRate)
	if rate == 0 {
		return 0, 0, false
	}
	if ntp, rtpAt, at, known := t.reports.get(); known {
		elapsed := max(now-at, 0)
		return rtpAt + uint32(elapsed*rate/int64(time.Second)), ntp + durationToNTP(elapsed), true
	}
	arrival := t.lastArrival.Load()
	if arrival == 0 {
		return 0, 0, false
	}
	elapsed := max(now-arrival, 0)
	return t.lastTimestamp.Load() + uint32(elapsed*rate/int64(time.Second)), t.owner.engine.ntpAt(now), true
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
