package sfu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/visio-meet/visio/internal/sfu/bwe"
)

// Errors a client can cause; the signalling layer turns them into protocol
// errors.
var (
	ErrBadSDP       = errors.New("the SDP could not be applied")
	ErrBadCandidate = errors.New("the ICE candidate could not be applied")
	ErrOutOfOrder   = errors.New("no negotiation is in progress on that connection")
	ErrClosed       = errors.New("the peer is closed")
)

// maxPublishSections bounds the m-lines of a publisher's offer, so that an
// offer cannot make the server allocate thousands of transceivers.
const maxPublishSections = 16

// Subscribe-side timing.
const (
	negotiationDelay = 20 * time.Millisecond // gathers a burst of track changes into one offer
	reportInterval   = time.Second           // RTCP sender reports to subscribers
	gatherTimeout    = 5 * time.Second
	reportsPerPacket = 16 // keeps a compound RTCP packet under the MTU
)

// PeerEvents receives what happens to a peer. The methods are called from
// the peer's own goroutines and from Pion's; they must not call Close.
type PeerEvents interface {
	// TrackPublished reports a new track from the participant, once its first
	// packet arrived.
	TrackPublished(t *UpTrack)
	// TrackEnded reports that a published track stopped for good.
	TrackEnded(t *UpTrack)
	// Offer must be sent to the client, which answers with the SDP of its
	// subscribe connection.
	Offer(sdp string, tracks []OfferedTrack)
	// Failed reports that a media connection failed; the participant has to
	// be removed (which closes the peer).
	Failed(err error)
	// LayersWanted reports the highest layer of a published video track that
	// any subscriber wants (LayerNone: none), so that the publisher can stop
	// encoding the layers above. It is called with locks held: it must
	// neither block nor call the peer.
	LayersWanted(t *UpTrack, highest Layer)
}

// OfferedTrack tells which published track a transceiver carries.
type OfferedTrack struct {
	Mid   string
	Track *UpTrack
}

// Peer is one participant's media: a publish connection on which the client
// offers its tracks, and a subscribe connection on which the server offers
// the tracks of others. Keeping the two apart means each has one offerer, so
// renegotiation never collides.
type Peer struct {
	id     PeerID
	engine *Engine
	events PeerEvents
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	failed sync.Once

	pubMu sync.Mutex
	pub   *webrtc.PeerConnection
	ups   map[string]*UpTrack // by mid

	// Read at every packet sent to this peer, side by side.
	subConnected atomic.Bool
	transportSeq atomic.Uint32            // the last transport-wide sequence number given, towards this subscriber
	fast         atomic.Pointer[fastPath] // nil: packets to this peer take Pion's path

	sent        bwe.History
	bwe         *bwe.Estimator
	retransmits retransmitBudget
	secrets     dtlsSecrets // of the subscribe connection's DTLS handshake
	fastMu      sync.Mutex  // serialises updateFastPath
	keys        *srtpKeys   // derived once from secrets

	subMu              sync.Mutex
	sub                *webrtc.PeerConnection
	downs              map[*UpTrack]*DownTrack
	view               map[*UpTrack]Layer // nil until the subscriber sends one
	awaitingAnswer     bool
	renegotiateOnReply bool
	restartICE         bool // the next offer restarts ICE
	watcher            bool // the client offered the subscribe connection (Watch)
	closed             bool
	negotiate          chan struct{}
}

// NewPeer creates the media side of a participant. Its connections are made
// when first needed.
func (e *Engine) NewPeer(id PeerID, events PeerEvents) *Peer {
	ctx, cancel := context.WithCancel(context.Background())
	p := &Peer{
		id:        id,
		engine:    e,
		events:    events,
		log:       e.log.With("peer", id),
		ctx:       ctx,
		cancel:    cancel,
		ups:       map[string]*UpTrack{},
		downs:     map[*UpTrack]*DownTrack{},
		negotiate: make(chan struct{}, 1),
	}
	p.bwe = bwe.New(&p.sent)
	return p
}

// nextTransportSeq numbers a packet to this subscriber for congestion
// control feedback.
func (p *Peer) nextTransportSeq() uint16 { return uint16(p.transportSeq.Add(1)) }

// ID returns the peer's identifier.
func (p *Peer) ID() PeerID { return p.id }

// newConnection makes one of the peer's connections. connectedChanged, when
// not nil, learns each change of the connection state to or from connected.
func (p *Peer) newConnection(api *webrtc.API, name string, connectedChanged func(bool)) (*webrtc.PeerConnection, error) {
	pc, err := api.NewPeerConnection(webrtc.Configuration{
		BundlePolicy:  webrtc.BundlePolicyMaxBundle,
		RTCPMuxPolicy: webrtc.RTCPMuxPolicyRequire,
	})
	if err != nil {
		return nil, fmt.Errorf("new %s connection: %w", name, err)
	}
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		p.log.Debug("connection state", "pc", name, "state", s.String())
		if connectedChanged != nil {
			connectedChanged(s == webrtc.PeerConnectionStateConnected)
		}
		closedByUs := p.ctx.Err() != nil
		if (s == webrtc.PeerConnectionStateFailed || s == webrtc.PeerConnectionStateClosed) && !closedByUs {
			p.failed.Do(func() { p.events.Failed(fmt.Errorf("%s connection %s", name, s)) })
		}
	})
	return pc, nil
}

// Publish applies the client's offer for its publish connection and returns
// the answer.
func (p *Peer) Publish(offer string) (string, error) {
	if err := checkSections(offer); err != nil {
		return "", err
	}
	p.pubMu.Lock()
	defer p.pubMu.Unlock()
	if p.ctx.Err() != nil {
		return "", ErrClosed
	}
	if p.pub == nil {
		pc, err := p.newConnection(p.engine.api, "publish", nil)
		if err != nil {
			return "", err
		}
		pc.OnTrack(p.onTrack)
		p.pub = pc
	}
	if err := p.pub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadSDP, err)
	}
	answer, err := p.pub.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadSDP, err)
	}
	if err := p.setLocalAndGather(p.pub, answer); err != nil {
		return "", err
	}
	return withOpusDTX(p.pub.LocalDescription().SDP), nil
}

// withOpusDTX adds usedtx=1 to the Opus parameters of an answer. Pion
// answers with the offer's parameters, and a browser uses DTX only when the
// other side's description asks for it.
func withOpusDTX(desc string) string {
	lines := strings.Split(desc, "\r\n")
	opus := map[string]bool{}
	for _, l := range lines {
		if pt, codec, ok := strings.Cut(strings.TrimPrefix(l, "a=rtpmap:"), " "); ok && l != pt && strings.HasPrefix(strings.ToLower(codec), "opus/") {
			opus[pt] = true
		}
	}
	for i, l := range lines {
		if pt, params, ok := strings.Cut(strings.TrimPrefix(l, "a=fmtp:"), " "); ok && l != pt && opus[pt] && !strings.Contains(params, "usedtx") {
			lines[i] = l + ";usedtx=1"
		}
	}
	return strings.Join(lines, "\r\n")
}

func checkSections(offer string) error {
	var parsed sdp.SessionDescription
	if err := parsed.UnmarshalString(offer); err != nil {
		return fmt.Errorf("%w: %v", ErrBadSDP, err)
	}
	if len(parsed.MediaDescriptions) > maxPublishSections {
		return fmt.Errorf("%w: %d media sections, at most %d", ErrBadSDP, len(parsed.MediaDescriptions), maxPublishSections)
	}
	return nil
}

// setLocalAndGather sets the local description and waits for the host
// candidates, so that the SDP sent to the client carries them all. With one
// UDP and one TCP socket gathering takes no network round trip.
func (p *Peer) setLocalAndGather(pc *webrtc.PeerConnection, desc webrtc.SessionDescription) error {
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(desc); err != nil {
		return fmt.Errorf("%w: %v", ErrBadSDP, err)
	}
	select {
	case <-gathered:
		return nil
	case <-time.After(gatherTimeout):
		return errors.New("ICE gathering timed out")
	case <-p.ctx.Done():
		return ErrClosed
	}
}

func (p *Peer) onTrack(remote *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) {
	p.pubMu.Lock()
	mid := ""
	for _, tr := range p.pub.GetTransceivers() {
		if tr.Receiver() == receiver {
			mid = tr.Mid()
		}
	}
	if p.ctx.Err() != nil || mid == "" {
		p.pubMu.Unlock()
		return
	}
	t, existed := p.ups[mid]
	if !existed {
		t = newUpTrack(p, mid, remote)
		p.ups[mid] = t
	}
	// A simulcast track fires OnTrack once per layer.
	index, ok := ridLayer(remote.RID(), func(i Layer) bool { return t.layer(i) != nil })
	l := newLayer(t, index, remote, receiver)
	if !ok || !t.addLayer(l) {
		p.pubMu.Unlock()
		return
	}
	p.engine.streams.addLayer(l)
	p.wg.Add(2)
	p.pubMu.Unlock()

	go func() { defer p.wg.Done(); l.readRTCP() }()
	if existed {
		t.layersChanged()
	} else {
		p.events.TrackPublished(t)
	}
	go func() { defer p.wg.Done(); l.run(); p.engine.streams.retireLayer(l) }()
}

func (p *Peer) trackEnded(t *UpTrack) {
	p.pubMu.Lock()
	if p.ups[t.mid] == t {
		delete(p.ups, t.mid)
	}
	p.pubMu.Unlock()
	p.events.TrackEnded(t)
}

// Track returns the published track on the transceiver mid, if it has started.
func (p *Peer) Track(mid string) *UpTrack {
	p.pubMu.Lock()
	defer p.pubMu.Unlock()
	return p.ups[mid]
}

func (p *Peer) writePublisherRTCP(pkts []rtcp.Packet) error {
	p.pubMu.Lock()
	pc := p.pub
	p.pubMu.Unlock()
	if pc == nil {
		return ErrClosed
	}
	return pc.WriteRTCP(pkts)
}

// Subscribe starts sending t to this peer; the client gets an offer shortly.
func (p *Peer) Subscribe(t *UpTrack) error {
	p.subMu.Lock()
	defer p.subMu.Unlock()
	if p.closed {
		return ErrClosed
	}
	if _, ok := p.downs[t]; ok {
		return nil
	}
	if p.sub == nil {
		if err := p.openSubscribeLocked(p.engine.subscriberAPI(&p.secrets, false)); err != nil {
			return err
		}
	}
	if err := p.attachLocked(t); err != nil {
		return err
	}
	p.requestNegotiation()
	return nil
}

// openSubscribeLocked makes the subscribe connection. p.subMu is held.
func (p *Peer) openSubscribeLocked(api *webrtc.API) error {
	pc, err := p.newConnection(api, "subscribe", func(connected bool) {
		p.subConnected.Store(connected)
		if connected {
			p.updateFastPath()
			// Keyframes sent before the connection was up were lost: ask again.
			for _, d := range p.Subscriptions() {
				d.up.RequestKeyframe(Layer(d.target.Load()))
			}
		}
	})
	if err != nil {
		return err
	}
	pc.SCTP().Transport().ICETransport().OnSelectedCandidatePairChange(func(*webrtc.ICECandidatePair) {
		if p.subConnected.Load() {
			p.updateFastPath()
		}
	})
	p.sub = pc
	p.wg.Add(1)
	go func() { defer p.wg.Done(); p.subscriberLoop() }()
	return nil
}

// attachLocked adds a down track for t to the subscribe connection. p.subMu
// is held.
func (p *Peer) attachLocked(t *UpTrack) error {
	d := newDownTrack(t, p)
	d.want.Store(int32(p.wantFor(t)))
	d.target.Store(int32(t.bestLayer(p.wantFor(t))))
	sender, err := p.sub.AddTrack(d)
	if err != nil {
		return fmt.Errorf("subscribe to %s: %w", t.id, err)
	}
	d.sender = sender
	if !t.addDown(d) {
		_ = p.sub.RemoveTrack(sender)
		return nil // the track ended meanwhile
	}
	p.downs[t] = d
	p.engine.streams.addDown(d)
	p.wg.Add(1)
	go func() { defer p.wg.Done(); d.readRTCP(); p.engine.streams.retireDown(d) }()
	t.updateWanted()
	return nil
}

// wantFor returns the highest layer of t this peer should get: what its
// view asks for once it has sent one, everything otherwise. p.subMu is held.
func (p *Peer) wantFor(t *UpTrack) Layer {
	if t.kind != webrtc.RTPCodecTypeVideo || p.view == nil {
		return LayerHigh
	}
	if want, ok := p.view[t]; ok {
		return want
	}
	return LayerNone // not on screen
}

// SetView says which video tracks the subscriber shows and at which layer;
// video tracks left out are paused. Before the first call, every track is
// sent at its highest layer.
func (p *Peer) SetView(view map[*UpTrack]Layer) {
	p.subMu.Lock()
	p.view = view
	downs := make([]*DownTrack, 0, len(p.downs))
	wants := make([]Layer, 0, len(p.downs))
	for t, d := range p.downs {
		downs = append(downs, d)
		wants = append(wants, p.wantFor(t))
	}
	p.subMu.Unlock()
	for i, d := range downs {
		d.setWant(wants[i])
	}
}

// Unsubscribe stops sending t to this peer.
func (p *Peer) Unsubscribe(t *UpTrack) {
	p.subMu.Lock()
	defer p.subMu.Unlock()
	d, ok := p.downs[t]
	if !ok {
		return
	}
	delete(p.downs, t)
	t.removeDown(d)
	if !p.closed {
		if err := p.sub.RemoveTrack(d.sender); err != nil {
			p.log.Debug("remove track", "track", t.id, "err", err)
		}
		p.requestNegotiation()
	}
}

// Subscriptions returns the tracks this peer receives.
func (p *Peer) Subscriptions() []*DownTrack {
	p.subMu.Lock()
	defer p.subMu.Unlock()
	out := make([]*DownTrack, 0, len(p.downs))
	for _, d := range p.downs {
		out = append(out, d)
	}
	return out
}

// updateFastPath decides how packets reach this peer, once its subscribe
// connection is up and whenever its selected candidate pair changes.
func (p *Peer) updateFastPath() {
	p.fastMu.Lock()
	defer p.fastMu.Unlock()
	p.subMu.Lock()
	pc := p.sub
	p.subMu.Unlock()
	if p.keys == nil {
		keys, err := p.secrets.serverKeys()
		if err != nil {
			p.log.Debug("packets take Pion's path", "reason", err)
			return
		}
		p.keys = keys
	}
	pair, err := pc.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil {
		p.fast.Store(nil)
		return
	}
	f := p.engine.newFastPath(pair, p.keys)
	p.fast.Store(f)
	p.log.Debug("egress path", "fast", f != nil, "pair", pair.String())
}

func (p *Peer) requestNegotiation() {
	if p.watcher {
		return // its one negotiation was the client's offer
	}
	select {
	case p.negotiate <- struct{}{}:
	default:
	}
}

// subscriberLoop makes offers when subscriptions change and sends RTCP
// sender reports, until the peer closes.
func (p *Peer) subscriberLoop() {
	reports := time.NewTicker(reportInterval)
	defer reports.Stop()
	allocation := time.NewTicker(allocateInterval)
	defer allocation.Stop()
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-allocation.C:
			p.allocate()
		case <-reports.C:
			p.sendReports()
			for _, d := range p.Subscriptions() {
				d.selectLayer() // layers the publisher paused or resumed
			}
		case <-p.negotiate:
			select {
			case <-time.After(negotiationDelay):
			case <-p.ctx.Done():
				return
			}
			p.makeOffer()
		}
	}
}

func (p *Peer) makeOffer() {
	p.subMu.Lock()
	if p.closed {
		p.subMu.Unlock()
		return
	}
	if p.awaitingAnswer {
		p.renegotiateOnReply = true
		p.subMu.Unlock()
		return
	}
	offer, err := p.sub.CreateOffer(&webrtc.OfferOptions{ICERestart: p.restartICE})
	p.restartICE = false
	if err == nil {
		err = p.setLocalAndGather(p.sub, offer)
	}
	if err != nil {
		p.subMu.Unlock()
		// A connection closed under the offer is a participant leaving.
		if !errors.Is(err, ErrClosed) && !errors.Is(err, webrtc.ErrConnectionClosed) && p.sub.ConnectionState() != webrtc.PeerConnectionStateClosed {
			p.log.Error("subscribe offer failed", "err", err)
			p.failed.Do(func() { p.events.Failed(fmt.Errorf("subscribe offer: %w", err)) })
		}
		return
	}
	var tracks []OfferedTrack
	for _, tr := range p.sub.GetTransceivers() {
		if sender := tr.Sender(); sender != nil {
			if d, ok := sender.Track().(*DownTrack); ok && tr.Mid() != "" {
				tracks = append(tracks, OfferedTrack{Mid: tr.Mid(), Track: d.up})
			}
		}
	}
	p.awaitingAnswer = true
	sdpText := p.sub.LocalDescription().SDP
	p.subMu.Unlock()
	p.events.Offer(sdpText, tracks)
}

// RestartICE makes the next subscribe offer restart ICE, for a client whose
// network changed. offerLost says the client cannot answer the offer in
// flight, if any (it reconnected after missing it): a new one is made now.
func (p *Peer) RestartICE(offerLost bool) {
	p.subMu.Lock()
	defer p.subMu.Unlock()
	if p.closed || p.sub == nil {
		return
	}
	p.restartICE = true
	if offerLost && p.awaitingAnswer {
		p.awaitingAnswer = false
		if err := p.sub.SetLocalDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeRollback}); err != nil {
			p.log.Debug("roll back the lost offer", "err", err)
		}
	}
	if p.awaitingAnswer {
		p.renegotiateOnReply = true
		return
	}
	p.requestNegotiation()
}

// Answer applies the client's answer to the latest subscribe offer.
func (p *Peer) Answer(answer string) error {
	p.subMu.Lock()
	defer p.subMu.Unlock()
	if p.closed {
		return ErrClosed
	}
	if !p.awaitingAnswer {
		return ErrOutOfOrder
	}
	if err := p.sub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		return fmt.Errorf("%w: %v", ErrBadSDP, err)
	}
	p.awaitingAnswer = false
	if p.renegotiateOnReply {
		p.renegotiateOnReply = false
		p.requestNegotiation()
	}
	return nil
}

// AddICECandidate applies a candidate trickled by the client; subscribe
// selects the connection.
func (p *Peer) AddICECandidate(subscribe bool, c webrtc.ICECandidateInit) error {
	var pc *webrtc.PeerConnection
	if subscribe {
		p.subMu.Lock()
		pc = p.sub
		p.subMu.Unlock()
	} else {
		p.pubMu.Lock()
		pc = p.pub
		p.pubMu.Unlock()
	}
	if pc == nil || pc.RemoteDescription() == nil {
		return ErrOutOfOrder
	}
	if err := pc.AddICECandidate(c); err != nil {
		return fmt.Errorf("%w: %v", ErrBadCandidate, err)
	}
	return nil
}

func (p *Peer) sendReports() {
	now := p.engine.now()
	p.subMu.Lock()
	pc := p.sub
	reports := make([]rtcp.Packet, 0, len(p.downs))
	for _, d := range p.downs {
		if sr, ok := d.senderReport(now); ok {
			reports = append(reports, sr)
		}
	}
	p.subMu.Unlock()
	for len(reports) > 0 {
		n := min(len(reports), reportsPerPacket)
		if err := pc.WriteRTCP(reports[:n]); err != nil {
			return
		}
		reports = reports[n:]
	}
}

// Close tears the peer down and waits for its goroutines. Tracks it
// published are removed from their subscribers.
func (p *Peer) Close() {
	p.cancel()
	p.subMu.Lock()
	p.closed = true
	for t, d := range p.downs {
		t.removeDown(d)
	}
	clear(p.downs)
	sub := p.sub
	p.subMu.Unlock()

	p.pubMu.Lock()
	pub := p.pub
	p.pubMu.Unlock()
	for _, pc := range []*webrtc.PeerConnection{sub, pub} {
		if pc != nil {
			if err := pc.Close(); err != nil {
				p.log.Debug("close connection", "err", err)
			}
		}
	}
	p.wg.Wait()
}
