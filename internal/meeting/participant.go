package meeting

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/visio-meet/visio/internal/protocol"
	"github.com/visio-meet/visio/internal/sfu"
)

// ErrLeft is returned by the methods of a participant who has left.
var ErrLeft = errors.New("the participant has left the meeting")

// ErrInvalidTracks is wrapped by Publish errors about the track declarations.
var ErrInvalidTracks = errors.New("invalid track declaration")

// Participant is someone in a meeting. Its methods are called by the
// participant's signalling session.
type Participant struct {
	id      ParticipantID
	name    string
	meeting *Meeting
	sink    *relay
	peer    *sfu.Peer
	log     *slog.Logger
	watcher bool // receives what it chose with Watch, not every track

	identity   Identity             // Role changes under meeting.mu
	iceServers []protocol.ICEServer // for the welcome, which may wait for a host

	// Guarded by meeting.mu.
	declared      map[string]protocol.TrackDeclaration // by mid, as the client last declared them
	published     map[protocol.Source]*publication     // declared tracks whose media has started
	view          map[viewedTrack]sfu.Layer            // what the client shows; nil until it says
	resumeToken   string                               // proves a new connection is this participant's (see Resume)
	awayTimer     *time.Timer                          // set while disconnected, waiting for a resume
	quality       protocol.Quality                     // the connection's rating; "" before one
	qualityRising protocol.Quality                     // a better rating seen once, not yet shown
	admitted      bool                                 // in the meeting, not waiting in the lobby
	handRaisedAt  time.Time                            // zero while the hand is down
	listener      *listener                            // hears the microphone for captions and transcripts; nil when off
	chat          chatter                              // rates and latest client ids of their messages
	left          bool
}

// viewedTrack names a track in a client's view.
type viewedTrack struct {
	participant ParticipantID
	source      protocol.Source
}

type publication struct {
	track *sfu.UpTrack
}

func sfuPeerID(id ParticipantID) sfu.PeerID { return sfu.PeerID(id) }

// ID returns the participant's identifier.
func (p *Participant) ID() ParticipantID { return p.id }

// Peer returns the participant's media peer.
func (p *Participant) Peer() *sfu.Peer { return p.peer }

func (p *Participant) infoLocked() protocol.Participant {
	tracks := []protocol.Track{}
	for src := range p.published {
		tracks = append(tracks, protocol.Track{Source: src, Muted: p.mutedLocked(src)})
	}
	slices.SortFunc(tracks, func(a, b protocol.Track) int { return cmp.Compare(a.Source, b.Source) })
	info := protocol.Participant{ID: string(p.id), Name: p.name, Tracks: tracks,
		Role: string(p.identity.Role), SignedIn: p.identity.SignedIn}
	if !p.handRaisedAt.IsZero() {
		info.HandRaisedAt = p.handRaisedAt.UnixMilli()
	}
	return info
}

func (p *Participant) mutedLocked(src protocol.Source) bool {
	for _, d := range p.declared {
		if d.Source == src {
			return d.Muted
		}
	}
	return false
}

// Publish renegotiates the publish connection when offer is not empty, and
// then records the tracks the client declares. Nothing changes if either is
// refused.
func (p *Participant) Publish(offer string, tracks []protocol.TrackDeclaration) (string, error) {
	m := p.meeting
	peer, err := p.checkDeclarations(tracks)
	if err != nil {
		return "", err
	}
	answer := ""
	if offer != "" {
		if answer, err = peer.Publish(offer); err != nil {
			return "", err
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if p.left {
		return "", ErrLeft
	}
	if err := p.checkDeclarationsLocked(tracks); err != nil {
		return "", err // a concurrent Publish changed them; the client sends one at a time
	}
	before := p.infoLocked()
	p.declared = make(map[string]protocol.TrackDeclaration, len(tracks))
	for _, t := range tracks {
		p.declared[t.Mid] = t
	}
	p.reconcileLocked()
	p.announceIfChangedLocked(before)
	return answer, nil
}

func (p *Participant) checkDeclarations(tracks []protocol.TrackDeclaration) (*sfu.Peer, error) {
	p.meeting.mu.Lock()
	defer p.meeting.mu.Unlock()
	if err := p.inLocked(); err != nil {
		return nil, err
	}
	return p.peer, p.checkDeclarationsLocked(tracks)
}

// inLocked checks that the participant is in the meeting: not gone, and not
// waiting in the lobby.
func (p *Participant) inLocked() error {
	switch {
	case p.left:
		return ErrLeft
	case !p.admitted:
		return ErrNotAdmitted
	}
	return nil
}

// media returns the participant's media peer, once they are in.
func (p *Participant) media() (*sfu.Peer, error) {
	p.meeting.mu.Lock()
	defer p.meeting.mu.Unlock()
	if err := p.inLocked(); err != nil {
		return nil, err
	}
	return p.peer, nil
}

// checkDeclarationsLocked refuses to let a transceiver change what it carries.
func (p *Participant) checkDeclarationsLocked(tracks []protocol.TrackDeclaration) error {
	for _, t := range tracks {
		if old, ok := p.declared[t.Mid]; ok && old.Source != t.Source {
			return fmt.Errorf("%w: mid %q carries %s and cannot become %s", ErrInvalidTracks, t.Mid, old.Source, t.Source)
		}
	}
	return nil
}

// reconcileLocked makes the published tracks match the declarations.
func (p *Participant) reconcileLocked() {
	for src, pub := range p.published {
		d, ok := p.declared[pub.track.Mid()]
		if !ok || d.Source != src {
			p.unpublishLocked(src)
		}
	}
	for mid, d := range p.declared {
		if _, ok := p.published[d.Source]; ok {
			continue
		}
		if t := p.peer.Track(mid); t != nil && t.Kind() == d.Source.Kind() {
			p.publishLocked(d.Source, t)
		}
	}
}

func (p *Participant) publishLocked(src protocol.Source, t *sfu.UpTrack) {
	m := p.meeting
	if !m.mayPublishLocked(p, src) {
		p.log.Info("track not forwarded: the room does not let participants send it", "source", src)
		return
	}
	p.published[src] = &publication{track: t}
	if src == protocol.SourceMicrophone {
		t.ObserveLevels(m.speakers.Meter(string(p.id)))
		m.updateListenersLocked()
	}
	for _, o := range m.participants {
		if o != p {
			o.subscribeLocked(t)
			o.applyViewLocked() // the client may show the track already
		}
	}
	p.log.Debug("track published", "source", src, "track", t.ID())
}

func (p *Participant) unpublishLocked(src protocol.Source) {
	if src == protocol.SourceMicrophone && p.listener != nil {
		p.stopListeningLocked()
	}
	pub := p.published[src]
	delete(p.published, src)
	pub.track.ObserveLevels(nil)
	pub.track.RemoveSubscribers()
	p.log.Debug("track unpublished", "source", src, "track", pub.track.ID())
}

func (p *Participant) subscribeLocked(t *sfu.UpTrack) {
	if p.watcher {
		return
	}
	if err := p.peer.Subscribe(t); err != nil && !errors.Is(err, sfu.ErrClosed) {
		p.log.Error("subscribe failed", "track", t.ID(), "err", err)
	}
}

func (p *Participant) announceIfChangedLocked(before protocol.Participant) {
	after := p.infoLocked()
	if slices.Equal(before.Tracks, after.Tracks) && before.HandRaisedAt == after.HandRaisedAt && before.Role == after.Role {
		return
	}
	p.meeting.broadcastLocked(nil, &protocol.ParticipantUpdated{Participant: after})
}

// SetMuted changes the mute state of a declared track and tells everyone.
func (p *Participant) SetMuted(src protocol.Source, muted bool) error {
	m := p.meeting
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := p.inLocked(); err != nil {
		return err
	}
	for mid, d := range p.declared {
		if d.Source != src {
			continue
		}
		before := p.infoLocked()
		d.Muted = muted
		p.declared[mid] = d
		p.announceIfChangedLocked(before)
		if pub, ok := p.published[src]; ok && !muted {
			for _, l := range pub.track.Layers() {
				pub.track.RequestKeyframe(l) // subscribers may have dropped the last frames
			}
		}
		return nil
	}
	return fmt.Errorf("%w: no %s track is declared", ErrInvalidTracks, src)
}

// SetHand raises or lowers the participant's hand, and tells everyone.
func (p *Participant) SetHand(raised bool) error {
	m := p.meeting
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := p.inLocked(); err != nil {
		return err
	}
	before := p.infoLocked()
	switch {
	case raised && p.handRaisedAt.IsZero():
		p.handRaisedAt = time.Now()
	case !raised:
		p.handRaisedAt = time.Time{}
	}
	p.announceIfChangedLocked(before)
	return nil
}

// ErrNothingToWatch is returned by Watch when nobody publishes what a
// watcher asks for.
var ErrNothingToWatch = errors.New("nobody publishes in this meeting yet")

// Watch gives a watcher the tracks of one participant, the one named, or
// else the first (in order of arrival) who shares a screen or a camera, or
// else the first who speaks: one audio track (microphone, or the screen's
// sound) and one video (the screen, or else the camera). offer is the
// watcher's, and the answer goes back to it.
func (p *Participant) Watch(offer string, target ParticipantID) (string, error) {
	m := p.meeting
	m.mu.Lock()
	if err := p.inLocked(); err != nil {
		m.mu.Unlock()
		return "", err
	}
	var tracks []*sfu.UpTrack
	if owner := m.watchedLocked(p, target); owner != nil {
		for _, sources := range [][]protocol.Source{
			{protocol.SourceMicrophone, protocol.SourceScreenAudio},
			{protocol.SourceScreen, protocol.SourceCamera},
		} {
			for _, src := range sources {
				if pub, ok := owner.published[src]; ok {
					tracks = append(tracks, pub.track)
					break
				}
			}
		}
	}
	m.mu.Unlock()
	if len(tracks) == 0 {
		return "", ErrNothingToWatch
	}
	return p.peer.Watch(offer, tracks)
}

// watchedLocked picks whom watcher w sees.
func (m *Meeting) watchedLocked(w *Participant, target ParticipantID) *Participant {
	if target != "" {
		return m.findLocked(target)
	}
	for _, kinds := range [][]protocol.Source{{protocol.SourceScreen, protocol.SourceCamera}, {protocol.SourceMicrophone}} {
		for _, o := range m.participants {
			for _, src := range kinds {
				if _, ok := o.published[src]; ok && o != w {
					return o
				}
			}
		}
	}
	return nil
}

// RestartICE restarts ICE on the subscribe connection, after the client's
// network changed.
func (p *Participant) RestartICE() error {
	peer, err := p.media()
	if err != nil {
		return err
	}
	peer.RestartICE(false)
	return nil
}

// Answer applies the client's answer on its subscribe connection.
func (p *Participant) Answer(sdp string) error {
	peer, err := p.media()
	if err != nil {
		return err
	}
	return peer.Answer(sdp)
}

// AddICECandidate applies a candidate the client trickled.
func (p *Participant) AddICECandidate(target protocol.Target, c protocol.ICECandidate) error {
	peer, err := p.media()
	if err != nil {
		return err
	}
	return peer.AddICECandidate(target == protocol.TargetSubscribe, webrtc.ICECandidateInit{
		Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex, UsernameFragment: c.UsernameFragment,
	})
}

// Leave removes the participant, tells the others why, and releases its
// media. It is safe to call more than once.
func (p *Participant) Leave(reason string) {
	m := p.meeting
	m.mu.Lock()
	if p.left {
		m.mu.Unlock()
		return
	}
	p.left = true
	if p.awayTimer != nil {
		p.awayTimer.Stop()
	}
	if !p.admitted {
		m.lobby = slices.DeleteFunc(m.lobby, func(x *Participant) bool { return x == p })
		m.tellHostsLocked(false)
		m.mu.Unlock()
		p.log.Info("left the lobby", "reason", reason)
		m.registry.releaseIfEmpty(m)
		return
	}
	if p.listener != nil {
		p.stopListeningLocked()
	}
	m.remove(p)
	m.speakers.Remove(string(p.id))
	for _, pub := range p.published {
		pub.track.ObserveLevels(nil)
	}
	m.broadcastLocked(p, &protocol.ParticipantLeft{ID: string(p.id), Reason: reason})
	if m.pinned == p.id {
		m.pinned = ""
		m.broadcastLocked(p, m.roomLocked())
	}
	remaining := len(m.participants)
	m.mu.Unlock()

	p.peer.Close()
	p.log.Info("participant left", "reason", reason, "participants", remaining)
	m.registry.releaseIfEmpty(m)
}

// peerEvents receives the media plane's events for one participant.
type peerEvents struct{ p *Participant }

func (e peerEvents) TrackPublished(t *sfu.UpTrack) {
	p := e.p
	m := p.meeting
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := p.declared[t.Mid()]
	if p.left || !ok || t.Kind() != d.Source.Kind() {
		return // published once the client declares it
	}
	before := p.infoLocked()
	if old, ok := p.published[d.Source]; ok && old.track != t {
		p.unpublishLocked(d.Source)
	}
	if _, ok := p.published[d.Source]; !ok {
		p.publishLocked(d.Source, t)
	}
	p.announceIfChangedLocked(before)
}

func (e peerEvents) TrackEnded(t *sfu.UpTrack) {
	p := e.p
	m := p.meeting
	m.mu.Lock()
	defer m.mu.Unlock()
	before := p.infoLocked()
	for src, pub := range p.published {
		if pub.track == t {
			delete(p.published, src)
			t.ObserveLevels(nil)
		}
	}
	if !p.left {
		p.announceIfChangedLocked(before)
	}
}

func (e peerEvents) Offer(sdp string, tracks []sfu.OfferedTrack) {
	p := e.p
	m := p.meeting
	m.mu.Lock()
	defer m.mu.Unlock()
	if p.left {
		return
	}
	offered := make([]protocol.OfferedTrack, 0, len(tracks))
	for _, ot := range tracks {
		owner := m.findLocked(ParticipantID(ot.Track.Owner()))
		if owner == nil {
			continue
		}
		for src, pub := range owner.published {
			if pub.track == ot.Track {
				offered = append(offered, protocol.OfferedTrack{Mid: ot.Mid, Participant: string(owner.id), Source: src})
			}
		}
	}
	p.sink.Send(&protocol.Offer{SDP: sdp, Tracks: offered})
}

func (e peerEvents) LayersWanted(t *sfu.UpTrack, highest sfu.Layer) {
	active := []string{}
	for i := sfu.LayerLow; i <= highest; i++ {
		active = append(active, i.RID())
	}
	// Called with the media plane's locks held, maybe under m.mu: the sink
	// takes no lock and never blocks.
	e.p.sink.Send(&protocol.Layers{Mid: t.Mid(), Active: active})
}

// SetView tells which video tracks the participant shows, and how large.
// Tracks not published yet are kept, and take effect when they are.
func (p *Participant) SetView(tracks []protocol.ViewedTrack) error {
	m := p.meeting
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := p.inLocked(); err != nil {
		return err
	}
	p.view = make(map[viewedTrack]sfu.Layer, len(tracks))
	for _, v := range tracks {
		p.view[viewedTrack{ParticipantID(v.Participant), v.Source}] = layerForTile(v.Height)
	}
	p.applyViewLocked()
	return nil
}

// applyViewLocked tells the media plane which of the tracks it receives the
// participant shows.
func (p *Participant) applyViewLocked() {
	if p.view == nil {
		return
	}
	resolved := make(map[*sfu.UpTrack]sfu.Layer, len(p.view))
	for v, layer := range p.view {
		if owner := p.meeting.findLocked(v.participant); owner != nil {
			if pub, ok := owner.published[v.source]; ok {
				resolved[pub.track] = layer
			}
		}
	}
	p.peer.SetView(resolved)
}

// layerForTile picks the simulcast layer for a tile of that height in
// device pixels, for a camera sending 720p, 360p and 180p.
func layerForTile(height int) sfu.Layer {
	switch {
	case height <= 0:
		return sfu.LayerNone
	case height <= 200:
		return sfu.LayerLow
	case height <= 400:
		return sfu.LayerMedium
	}
	return sfu.LayerHigh
}

func (e peerEvents) Failed(err error) {
	e.p.log.Warn("media connection failed", "err", err)
	if e.p.sink.attached() {
		e.p.sink.Close(protocol.ReasonConnectionFailed) // the session ends, then leaves
		return
	}
	go e.p.Leave(protocol.ReasonConnectionFailed) // not from the peer's goroutine: Leave closes it
}

func (m *Meeting) findLocked(id ParticipantID) *Participant {
	for _, p := range m.participants {
		if p.id == id {
			return p
		}
	}
	return nil
}
