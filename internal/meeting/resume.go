package meeting

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"sync/atomic"
	"time"

	"github.com/visio-meet/visio/internal/protocol"
)

// A participant whose signalling connection drops without a goodbye keeps
// their place for a while (Config.ReconnectGrace): their media goes on, and
// their app may come back on a new connection with the resume token of its
// welcome, as the same participant, without joining again.

// ErrNoResume is returned by Resume when there is nobody to resume: the
// participant left, the grace period ended, or the token is wrong.
var ErrNoResume = errors.New("no participant to resume")

// relay is a participant's sink: the current session's, or none while the
// participant is between two connections. It may be used with or without
// the meeting's lock.
type relay struct {
	current atomic.Pointer[sinkBox]
}

type sinkBox struct{ Sink }

func newRelay(s Sink) *relay {
	r := &relay{}
	r.current.Store(&sinkBox{s})
	return r
}

// Send implements Sink: what happens while nobody is connected is dropped;
// the next welcome brings the client up to date.
func (r *relay) Send(m protocol.Message) {
	if b := r.current.Load(); b != nil {
		b.Send(m)
	}
}

// Close implements Sink.
func (r *relay) Close(reason string) {
	if b := r.current.Load(); b != nil {
		b.Close(reason)
	}
}

// attached reports whether a session is connected.
func (r *relay) attached() bool { return r.current.Load() != nil }

// detach disconnects s, if it is still the current session.
func (r *relay) detach(s Sink) bool {
	b := r.current.Load()
	return b != nil && b.Sink == s && r.current.CompareAndSwap(b, nil)
}

// replace connects s, and returns the session it replaces, if any.
func (r *relay) replace(s Sink) Sink {
	if old := r.current.Swap(&sinkBox{s}); old != nil {
		return old.Sink
	}
	return nil
}

func newResumeToken() string { return rand.Text() }

// Disconnected is called by session s when its connection dropped without a
// goodbye. Unless another session took over already, the participant is
// kept for the grace period, then leaves.
func (p *Participant) Disconnected(s Sink) {
	m := p.meeting
	m.mu.Lock()
	if !p.admitted {
		// Someone waiting in the lobby has no resume token: nothing to
		// come back to, so hosts must not see them waiting any longer.
		m.mu.Unlock()
		p.Leave(protocol.ReasonConnectionLost)
		return
	}
	defer m.mu.Unlock()
	if p.left || !p.sink.detach(s) {
		return
	}
	grace := m.registry.cfg.ReconnectGrace
	if m.registry.closing.Load() {
		grace = 0 // the server is stopping: nothing to come back to
	}
	p.log.Info("participant disconnected, waiting for them to reconnect", "grace", grace)
	p.awayTimer = time.AfterFunc(grace, func() { p.Leave(protocol.ReasonConnectionLost) })
}

// Resume reattaches a participant who lost their connection to a new
// session: it checks the token of their welcome, sends a new welcome with
// the meeting as it is now, and restarts ICE on their subscribe connection.
// A session still connected is replaced, and told so.
func (r *Registry) Resume(id ParticipantID, token string, a Arrival, sink Sink) (*Participant, error) {
	for _, m := range r.live() {
		m.mu.Lock()
		p := m.findLocked(id)
		if p == nil {
			m.mu.Unlock()
			continue
		}
		if p.left || !p.ownsToken(token) {
			m.mu.Unlock()
			return nil, ErrNoResume
		}
		if p.awayTimer != nil {
			p.awayTimer.Stop()
			p.awayTimer = nil
		}
		old := p.sink.replace(sink)
		m.sendWelcomeLocked(p, a.ICEServers, true)
		m.mu.Unlock()
		if old != nil {
			old.Close(protocol.ReasonReplaced)
		}
		p.peer.RestartICE(true)
		p.log.Info("participant reconnected")
		return p, nil
	}
	return nil, ErrNoResume
}

// ownsToken tells whether token is p's resume token, in constant time.
func (p *Participant) ownsToken(token string) bool {
	return subtle.ConstantTimeCompare([]byte(token), []byte(p.resumeToken)) == 1
}
