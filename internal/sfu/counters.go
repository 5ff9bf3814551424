package sfu

import (
	"sync"
	"sync/atomic"

	"github.com/pion/webrtc/v4"
)

// EngineStats sums what the media plane has moved since it started. The
// totals never go down: a stream that ends leaves its counts behind.
type EngineStats struct {
	AudioTracks int // published audio tracks now flowing
	VideoTracks int // published video tracks now flowing
	DownTracks  int // tracks now sent to a subscriber, one per track and subscriber

	// What publishers sent that reached the server: RTP packets, and their
	// payload bytes (without RTP headers, padding, SRTP, UDP or IP).
	PacketsIn, BytesIn uint64
	// What was forwarded to subscribers, counted the same way; packets sent
	// again on request are counted apart, in Retransmits.
	PacketsOut, BytesOut uint64
	// PacketsLostIn counts the packets publishers sent that never reached
	// the server: gaps in the sequence numbers of their streams, less the
	// packets that arrived late or were repaired by retransmission.
	PacketsLostIn uint64
	// PacketsLostOut counts the packets subscribers report lost (in RTCP
	// receiver reports), after repairs: what they never got.
	PacketsLostOut uint64
	// NACKs counts the packets subscribers asked to be sent again; some are
	// refused (too old, no longer cached, over the subscriber's budget).
	NACKs uint64
	// Retransmits counts the packets sent again from the cache.
	Retransmits uint64
}

// add accumulates the counters of o; the gauges are left alone.
func (s *EngineStats) add(o EngineStats) {
	s.PacketsIn += o.PacketsIn
	s.BytesIn += o.BytesIn
	s.PacketsOut += o.PacketsOut
	s.BytesOut += o.BytesOut
	s.PacketsLostIn += o.PacketsLostIn
	s.PacketsLostOut += o.PacketsLostOut
	s.NACKs += o.NACKs
	s.Retransmits += o.Retransmits
}

// Each stream counts on its own fields, written only by the goroutine that
// already handles its packets, so that no cache line is shared between
// forwarding goroutines. The engine keeps the streams that are live and
// sums them when asked.

// layerCounters are written by the layer's reader goroutine.
type layerCounters struct {
	bytes atomic.Uint64 // payload bytes received
}

// downCounters are written by the down track's RTCP goroutine; what is
// forwarded is counted in DownTrack.packets and octets.
type downCounters struct {
	nacks        atomic.Uint64
	retransmits  atomic.Uint64
	reportedLost atomic.Uint64 // the subscriber's cumulative count, as last reported
}

// reportLost records the cumulative number of packets a receiver report
// says were lost. The field is a signed 24-bit number: duplicates make it
// negative, which counts as none lost.
func (c *downCounters) reportLost(cumulative uint32) {
	if cumulative >= 1<<23 {
		cumulative = 0
	}
	c.reportedLost.Store(uint64(cumulative))
}

// countArrival counts a packet from the publisher, on the reader goroutine.
func (l *layer) countArrival(seq uint16, payloadBytes int) {
	l.arrivals.add(seq)
	l.counters.bytes.Add(uint64(payloadBytes))
}

// streamRegistry knows the live streams of an engine, and the totals of
// those that ended. Streams join and leave it when they start and stop,
// never per packet.
type streamRegistry struct {
	mu      sync.Mutex
	layers  map[*layer]struct{}
	downs   map[*DownTrack]struct{}
	retired EngineStats // counts of the streams that ended
	// The highest losses returned: see Stats.
	lostIn, lostOut uint64
}

func (r *streamRegistry) addLayer(l *layer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.layers == nil {
		r.layers = map[*layer]struct{}{}
	}
	r.layers[l] = struct{}{}
}

// retireLayer folds the counts of a layer whose reader has returned, so
// they are final.
func (r *streamRegistry) retireLayer(l *layer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.layers[l]; !ok {
		return
	}
	delete(r.layers, l)
	r.retired.add(l.stats())
}

func (r *streamRegistry) addDown(d *DownTrack) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.downs == nil {
		r.downs = map[*DownTrack]struct{}{}
	}
	r.downs[d] = struct{}{}
}

// retireDown folds the counts of a down track whose RTCP goroutine has
// returned. A packet being forwarded at that moment may go uncounted.
func (r *streamRegistry) retireDown(d *DownTrack) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.downs[d]; !ok {
		return
	}
	delete(r.downs, d)
	r.retired.add(d.counts())
}

// Stats returns the media plane's totals since it started, and what flows
// now. It reads each live stream's counters, which their goroutines keep
// writing meanwhile: the figures are a moment's, not a consistent cut.
func (e *Engine) Stats() EngineStats {
	r := &e.streams
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.retired
	tracks := make(map[*UpTrack]struct{}, len(r.layers))
	for l := range r.layers {
		s.add(l.stats())
		if _, seen := tracks[l.track]; !seen {
			tracks[l.track] = struct{}{}
			if l.track.kind == webrtc.RTPCodecTypeAudio {
				s.AudioTracks++
			} else {
				s.VideoTracks++
			}
		}
	}
	for d := range r.downs {
		s.add(d.counts())
	}
	s.DownTracks = len(r.downs)
	// A repair arriving after its gap was counted lowers a live stream's
	// loss, and so can a subscriber's report; a counter must not go down,
	// so losses are held at their highest.
	r.lostIn = max(r.lostIn, s.PacketsLostIn)
	r.lostOut = max(r.lostOut, s.PacketsLostOut)
	s.PacketsLostIn, s.PacketsLostOut = r.lostIn, r.lostOut
	return s
}

// stats reads the counters of a layer.
func (l *layer) stats() EngineStats {
	// highest first: packets counted after it can only lower the loss seen
	// now, never raise it above the truth.
	highest := l.arrivals.highest.Load()
	first := l.arrivals.first.Load()
	received := l.arrivals.received.Load()
	s := EngineStats{PacketsIn: received, BytesIn: l.counters.bytes.Load()}
	if highest != 0 {
		if expected := highest - first; expected > received {
			s.PacketsLostIn = expected - received
		}
	}
	return s
}

// counts reads the counters of a down track.
func (d *DownTrack) counts() EngineStats {
	return EngineStats{
		PacketsOut:     d.packets.Load(),
		BytesOut:       d.octets.Load(),
		NACKs:          d.counters.nacks.Load(),
		Retransmits:    d.counters.retransmits.Load(),
		PacketsLostOut: d.counters.reportedLost.Load(),
	}
}
