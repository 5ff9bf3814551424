package sfu

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
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

// PacketObserver receives the packets of an audio track, for speech
// recognition. It is called on the forwarding path with the packet's
// fields; payload is only valid during the call. It must copy what it keeps
// and return at once.
type PacketObserver interface {
	Packet(seq uint16, timestamp uint32, payload []byte)
}

// Layer ranks the simulcast encodings of a video track, lowest first.
type Layer int

// The layers browsers send for a camera, and their RTP stream ids in the
// web app. A track without simulcast has only LayerLow.
const (
	LayerNone   Layer = -1 // nothing: the track is paused for a subscriber
	LayerLow    Layer = 0  // rid "q": a quarter of the camera's resolution
	LayerMedium Layer = 1  // rid "h": half
	LayerHigh   Layer = 2  // rid "f": full
	maxLayers         = 3
)

// RID returns the RTP stream id the web app gives the layer.
func (l Layer) RID() string {
	switch l {
	case LayerLow:
		return "q"
	case LayerMedium:
		return "h"
	case LayerHigh:
		return "f"
	}
	return ""
}

// keyframeInterval bounds how often keyframe requests reach a publisher's
// layer: every new subscriber, switch and loss asks for one, and each
// keyframe costs the publisher several times a normal frame.
const keyframeInterval = 500 * time.Millisecond

// UpTrack is a track that a participant publishes. A simulcast video track
// has up to three layers, each its own RTP stream with its own reader
// goroutine; every subscriber's DownTrack forwards one of them.
type UpTrack struct {
	id    TrackID
	owner *Peer
	mid   string
	kind  webrtc.RTPCodecType
	codec webrtc.RTPCodecParameters
	log   *slog.Logger

	levels  atomic.Pointer[levelBox]
	packets atomic.Pointer[packetBox]

	mu     sync.Mutex
	closed bool
	layers [maxLayers]*layer // guarded by mu; a layer never changes once set
	live   int               // layers whose reader still runs
	wanted Layer             // highest layer a subscriber wants, reported to the publisher
	lower  *time.Timer       // reports a lower wanted layer once it has lasted pauseAfter
	downs  atomic.Pointer[[]*DownTrack]
}

type levelBox struct{ LevelObserver }

type packetBox struct{ PacketObserver }

func newUpTrack(owner *Peer, mid string, remote *webrtc.TrackRemote) *UpTrack {
	t := &UpTrack{
		id:     TrackID(string(owner.id) + "-" + mid),
		owner:  owner,
		mid:    mid,
		kind:   remote.Kind(),
		codec:  remote.Codec(),
		wanted: LayerNone,
	}
	t.log = owner.log.With("track", t.id, "kind", t.kind.String())
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

// ObservePackets makes o receive the track's packets; nil stops it.
func (t *UpTrack) ObservePackets(o PacketObserver) {
	if o == nil {
		t.packets.Store(nil)
		return
	}
	t.packets.Store(&packetBox{o})
}

// addLayer registers the RTP stream of one layer; it reports false when the
// track has ended or already has that layer.
func (t *UpTrack) addLayer(l *layer) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed || t.layers[l.index] != nil {
		return false
	}
	t.layers[l.index] = l
	t.live++
	return true
}

// layer returns the layer with that index, or nil.
func (t *UpTrack) layer(i Layer) *layer {
	if i < 0 || i >= maxLayers {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.layers[i]
}

// Layers returns the indexes of the layers the publisher sends.
func (t *UpTrack) Layers() []Layer {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []Layer
	for i, l := range t.layers {
		if l != nil {
			out = append(out, Layer(i))
		}
	}
	return out
}

// liveFor is how recently a layer must have sent a packet to be chosen over
// one that did not: publishers pause layers nobody wants.
const liveFor = int64(1500 * time.Millisecond)

// bestLayer returns the highest layer at or below want that the publisher
// sends, or the lowest one above it if there is none below. Layers that sent
// recently come first; a paused one is chosen only when none is flowing,
// and then the publisher is asked to resume it.
func (t *UpTrack) bestLayer(want Layer) Layer {
	if want == LayerNone {
		return LayerNone
	}
	now := t.owner.engine.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, live := range []bool{true, false} {
		ok := func(l *layer) bool { return l != nil && (!live || now-l.lastArrival.Load() < liveFor) }
		for i := min(want, maxLayers-1); i >= 0; i-- {
			if ok(t.layers[i]) {
				return i
			}
		}
		for i := want + 1; i < maxLayers; i++ {
			if ok(t.layers[i]) {
				return i
			}
		}
	}
	return LayerNone
}

// nextLayer returns the lowest layer above l that the publisher sends, or
// LayerNone.
func (t *UpTrack) nextLayer(l Layer) Layer {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := l + 1; i < maxLayers; i++ {
		if i >= 0 && t.layers[i] != nil {
			return i
		}
	}
	return LayerNone
}

// layerRate returns the measured bitrate of layer i once it has flowed for
// a second, and otherwise (paused, resuming, just started) at least what it
// is assumed to cost: a layer measured as it starts looks cheap, and would
// be given to subscribers whose link cannot carry it.
func (t *UpTrack) layerRate(i Layer) int {
	l := t.layer(i)
	if l == nil {
		return 0
	}
	measured, steady := l.rate.bitsPerSecond(t.owner.engine.now())
	if steady {
		return measured
	}
	// What the web app asks of each layer of a camera.
	assumed := 1_500_000 // the full layer, or a camera or screen without simulcast
	switch {
	case t.kind == webrtc.RTPCodecTypeAudio:
		assumed = 50_000
	case i == LayerLow && t.nextLayer(LayerLow) != LayerNone:
		assumed = 150_000
	case i == LayerMedium:
		assumed = 500_000
	}
	return max(measured, assumed)
}

// RequestKeyframe asks the publisher for a keyframe on a layer, at most once
// per keyframeInterval whoever asks.
func (t *UpTrack) RequestKeyframe(i Layer) {
	l := t.layer(i)
	if l == nil || t.kind != webrtc.RTPCodecTypeVideo {
		return
	}
	now := t.owner.engine.now()
	last := l.lastKeyframe.Load()
	if last != 0 && now-last < int64(keyframeInterval) || !l.lastKeyframe.CompareAndSwap(last, now) {
		return
	}
	if err := t.owner.writePublisherRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: l.ssrc}}); err != nil {
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
	old := *t.downs.Load()
	next := make([]*DownTrack, 0, len(old))
	for _, x := range old {
		if x != d {
			next = append(next, x)
		}
	}
	t.downs.Store(&next)
	t.mu.Unlock()
	t.updateWanted()
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
	t.updateWanted()
}

// pauseAfter is how long the highest wanted layer must stay lower before
// the publisher is told to pause what is above it. Each pause or resume
// reconfigures the publisher's encoder: a browser then sends a keyframe on
// every layer at once and its bandwidth estimate suffers, so a subscriber
// whose estimate dips, or whose tile is laid out again, must not cause one.
const pauseAfter = 3 * time.Second

// updateWanted works out the highest layer any subscriber wants (and has
// the bandwidth for) and tells the publisher when it changes, so that it
// stops encoding what nobody receives: at once for more, after pauseAfter
// for less.
func (t *UpTrack) updateWanted() { t.reportWanted(false) }

// reportLower runs pauseAfter after the wanted layer went down.
func (t *UpTrack) reportLower() {
	t.mu.Lock()
	t.lower = nil
	t.mu.Unlock()
	t.reportWanted(true)
}

func (t *UpTrack) reportWanted(lowerIsDue bool) {
	if t.kind != webrtc.RTPCodecTypeVideo {
		return
	}
	wanted := LayerNone
	for _, d := range *t.downs.Load() {
		wanted = max(wanted, min(Layer(d.want.Load()), Layer(d.limit.Load())))
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	if wanted < t.wanted && !lowerIsDue {
		if t.lower == nil {
			t.lower = time.AfterFunc(pauseAfter, t.reportLower)
		}
		return
	}
	t.stopLower()
	if wanted != t.wanted {
		t.wanted = wanted
		t.owner.events.LayersWanted(t, wanted) // under t.mu, so that reports keep their order
	}
}

// stopLower cancels a pending report of a lower layer; t.mu is held.
func (t *UpTrack) stopLower() {
	if t.lower != nil {
		t.lower.Stop()
		t.lower = nil
	}
}

// layersChanged makes every subscriber pick its layer again.
func (t *UpTrack) layersChanged() {
	for _, d := range *t.downs.Load() {
		d.selectLayer()
	}
}

// Wanted returns the highest layer a subscriber wants, LayerNone if none.
func (t *UpTrack) Wanted() Layer {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.wanted
}

// layerEnded is called by a layer's reader when its stream stops; the track
// ends with its last layer.
func (t *UpTrack) layerEnded() {
	t.mu.Lock()
	t.live--
	last := t.live == 0 && !t.closed
	if last {
		t.closed = true
		t.stopLower()
	}
	t.mu.Unlock()
	if last {
		t.RemoveSubscribers()
		t.owner.trackEnded(t)
	}
}

// ridLayer maps an RTP stream id to a layer: the web app's q, h and f, else
// the order in which streams appear.
func ridLayer(rid string, taken func(Layer) bool) (Layer, bool) {
	for i := range Layer(maxLayers) {
		if i.RID() == rid {
			return i, !taken(i)
		}
	}
	for i := range Layer(maxLayers) {
		if !taken(i) {
			return i, true
		}
	}
	return LayerNone, false
}
