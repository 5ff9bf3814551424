package meeting

import (
	"context"
	"crypto/rand"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/visio-meet/visio/internal/protocol"
	"github.com/visio-meet/visio/internal/room"
	"github.com/visio-meet/visio/internal/speaker"
)

// Meeting is the live session of one room.
type Meeting struct {
	code     room.Code
	key      string // names this meeting apart from the room's others, for its files
	registry *Registry
	speakers *speaker.Detector
	ctx      context.Context
	stop     context.CancelFunc

	// mu guards the fields below and the mutable state of every participant.
	// Calls into the media plane made under mu must not wait for a peer to
	// close (Peer.Close is always called without it).
	mu           sync.Mutex
	participants []*Participant // in order of arrival
	lobby        []*Participant // waiting for a host, in order of arrival
	settings     room.Settings
	pinned       ParticipantID   // shown large for everyone; "" when nobody is
	banned       map[string]bool // ban keys banned during the meeting, which join tokens issued before do not know
	joining      int
	ended        bool
	speech       speechState
	chat         chatState
	moved        bool // taken over from a lost node (see Directory)
	handedOver   bool // given to another node (see HandOver)
	lasting      *lasting
}

func newMeeting(r *Registry, code room.Code, settings room.Settings) *Meeting {
	ctx, cancel := context.WithCancel(context.Background())
	key := string(code) + "_" + strings.ToLower(rand.Text()[:12])
	return &Meeting{code: code, key: key, registry: r, speakers: speaker.NewDetector(), ctx: ctx, stop: cancel, settings: settings,
		speech: speechState{origin: time.Now()}, lasting: newLasting(r.cfg.Lasting)}
}

// Participants returns who is in the meeting, in order of arrival.
func (m *Meeting) Participants() []*Participant {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.participants)
}

// join lets the arrival in, into the lobby, or not at all, as the room's
// rules say.
func (m *Meeting) join(a Arrival, sink Sink) (*Participant, error) {
	lastingErr := m.awaitLasting()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.joining--
	if lastingErr != nil {
		return nil, lastingErr
	}
	id := a.Identity
	banned := id.Banned || id.BanKey != "" && m.banned[id.BanKey]
	d := m.settings.Admit(room.Visitor{SignedIn: id.SignedIn, Role: id.Role, Banned: banned}, len(m.participants), m.serverCap())
	pid := newParticipantID()
	// Someone who was in this meeting before it moved to this node comes
	// back as the same participant, and was let in already.
	if r := a.Rejoin; r != nil && r.MeetingKey == m.key && m.findLocked(r.ID) == nil {
		pid = r.ID
		if d.Entry == room.Wait || d.Entry == room.Refuse && d.Reason != room.ReasonBanned {
			d.Entry = room.Enter
		}
	}
	switch {
	case d.Entry == room.Refuse && d.Reason == room.ReasonBanned:
		return nil, ErrBanned
	case d.Entry == room.Refuse:
		return nil, ErrRoomFull
	}
	p := &Participant{
		id:          pid,
		name:        a.Name,
		identity:    id,
		meeting:     m,
		sink:        newRelay(sink),
		resumeToken: newResumeToken(),
		watcher:     a.Watcher,
		iceServers:  a.ICEServers,
		declared:    map[string]protocol.TrackDeclaration{},
		published:   map[protocol.Source]*publication{},
		chat:        newChatter(),
	}
	p.log = m.registry.log.With("room", m.code, "participant", p.id)
	if d.Entry == room.Wait {
		m.lobby = append(m.lobby, p)
		p.sink.Send(&protocol.Waiting{Room: string(m.code)})
		m.tellHostsLocked(true)
		p.log.Info("participant waits in the lobby", "waiting", len(m.lobby))
		return p, nil
	}
	m.enterLocked(p)
	return p, nil
}

// serverCap is the server's own cap on a meeting's participants.
func (m *Meeting) serverCap() int {
	if c := m.registry.cfg.MaxParticipants; c > 0 {
		return c
	}
	return math.MaxInt
}

// enterLocked puts p into the meeting: media, welcome, and everyone told.
func (m *Meeting) enterLocked(p *Participant) {
	p.peer = m.registry.media.NewPeer(sfuPeerID(p.id), peerEvents{p})
	p.admitted = true
	m.participants = append(m.participants, p)
	m.sendWelcomeLocked(p, p.iceServers, false)
	m.broadcastLocked(p, &protocol.ParticipantJoined{Participant: p.infoLocked()})
	for _, o := range m.participants {
		for _, pub := range o.published {
			p.subscribeLocked(pub.track)
		}
	}
	p.log.Info("participant joined", "participants", len(m.participants), "watcher", p.watcher, "role", p.identity.Role)
}

// sendWelcomeLocked tells p who is in the meeting and what is going on, on
// joining or on coming back (resumed).
func (m *Meeting) sendWelcomeLocked(p *Participant, iceServers []protocol.ICEServer, resumed bool) {
	others := make([]protocol.Participant, 0, len(m.participants))
	for _, o := range m.participants {
		if o != p {
			others = append(others, o.infoLocked())
		}
	}
	cfg := &m.registry.cfg
	// A resumed participant keeps the microphone as they left it.
	startMuted := !resumed && cfg.MutedJoinFrom > 0 && len(others) >= cfg.MutedJoinFrom
	rejoin := ""
	if cfg.RejoinToken != nil {
		rejoin = cfg.RejoinToken(m.code, p.id, m.key)
	}
	p.sink.Send(&protocol.Welcome{Protocol: protocol.Version, Room: string(m.code), You: p.infoLocked(), Participants: others,
		ICEServers: iceServers, ResumeToken: p.resumeToken, ResumeWithinMS: cfg.ReconnectGrace.Milliseconds(), Resumed: resumed,
		StartMuted: startMuted, QuietAbove: cfg.QuietAbove, RejoinToken: rejoin})
	p.sink.Send(m.roomLocked())
	p.sink.Send(m.speechFor(p))
	p.sink.Send(m.chatHistoryLocked(p))
	if p.identity.Role.IsHost() && len(m.lobby) > 0 {
		p.sink.Send(m.lobbyLocked(false))
	}
	if a := m.lastSpeakers(); a != nil {
		p.sink.Send(a)
	}
	if q := m.qualityLocked(); len(q.Participants) > 0 {
		p.sink.Send(q)
	}
}

// broadcastLocked sends msg to everyone but except (which may be nil).
func (m *Meeting) broadcastLocked(except *Participant, msg protocol.Message) {
	for _, p := range m.participants {
		if p != except {
			p.sink.Send(msg)
		}
	}
}

func (m *Meeting) remove(p *Participant) {
	m.participants = slices.DeleteFunc(m.participants, func(x *Participant) bool { return x == p })
}

// every runs f every interval while the meeting lasts.
func (m *Meeting) every(interval time.Duration, f func()) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-m.ctx.Done():
			return
		case <-ticker.C:
			f()
		}
	}
}

// updateSpeakers reports the active speaker to everyone when it changes.
func (m *Meeting) updateSpeakers() {
	result, changed := m.speakers.Update()
	if !changed {
		return
	}
	m.mu.Lock()
	m.broadcastLocked(nil, speakersMessage(result))
	m.mu.Unlock()
}

// lastSpeakers returns the current speakers for a newcomer, or nil when
// nobody has spoken yet.
func (m *Meeting) lastSpeakers() *protocol.Speakers {
	r := m.speakers.Last()
	if r.Active == "" {
		return nil
	}
	return speakersMessage(r)
}

func speakersMessage(r speaker.Result) *protocol.Speakers {
	speaking := r.Speaking
	if speaking == nil {
		speaking = []string{}
	}
	return &protocol.Speakers{Active: r.Active, Speaking: speaking}
}
