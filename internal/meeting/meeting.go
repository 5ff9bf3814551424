package meeting

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/visio-meet/visio/internal/protocol"
	"github.com/visio-meet/visio/internal/room"
	"github.com/visio-meet/visio/internal/speaker"
)

// Meeting is the live session of one room.
type Meeting struct {
	code     room.Code
	registry *Registry
	speakers *speaker.Detector
	ctx      context.Context
	stop     context.CancelFunc

	// mu guards the fields below and the mutable state of every participant.
	// Calls into the media plane made under mu must not wait for a peer to
	// close (Peer.Close is always called without it).
	mu           sync.Mutex
	participants []*Participant // in order of arrival
	joining      int
	ended        bool
}

func newMeeting(r *Registry, code room.Code) *Meeting {
	ctx, cancel := context.WithCancel(context.Background())
	return &Meeting{code: code, registry: r, speakers: speaker.NewDetector(), ctx: ctx, stop: cancel}
}

// Participants returns who is in the meeting, in order of arrival.
func (m *Meeting) Participants() []*Participant {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.participants)
}

func (m *Meeting) join(a Arrival, sink Sink) (*Participant, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.joining--
	if max := m.registry.cfg.MaxParticipants; max > 0 && len(m.participants) >= max {
		return nil, ErrRoomFull
	}
	p := &Participant{
		id:          newParticipantID(),
		name:        a.Name,
		meeting:     m,
		sink:        newRelay(sink),
		resumeToken: newResumeToken(),
		watcher:     a.Watcher,
		declared:    map[string]protocol.TrackDeclaration{},
		published:   map[protocol.Source]*publication{},
	}
	p.log = m.registry.log.With("room", m.code, "participant", p.id)
	p.peer = m.registry.media.NewPeer(sfuPeerID(p.id), peerEvents{p})

	m.participants = append(m.participants, p)
	m.sendWelcomeLocked(p, a.ICEServers, false)
	m.broadcastLocked(p, &protocol.ParticipantJoined{Participant: p.infoLocked()})
	for _, o := range m.participants {
		for _, pub := range o.published {
			p.subscribeLocked(pub.track)
		}
	}
	p.log.Info("participant joined", "participants", len(m.participants), "watcher", p.watcher)
	return p, nil
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
	p.sink.Send(&protocol.Welcome{Protocol: protocol.Version, Room: string(m.code), You: p.infoLocked(), Participants: others,
		ICEServers: iceServers, ResumeToken: p.resumeToken, ResumeWithinMS: m.registry.cfg.ReconnectGrace.Milliseconds(), Resumed: resumed})
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
