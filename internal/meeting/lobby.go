package meeting

import (
	"errors"
	"slices"

	"github.com/visio-meet/visio/internal/protocol"
)

// Errors of hosts' actions.
var (
	ErrNotHost      = errors.New("only the room's hosts may do this")
	ErrNotAdmitted  = errors.New("a host has not let this participant in yet")
	ErrNoSuchPerson = errors.New("nobody with that id is waiting or in the meeting")
)

// lobbyLocked is what hosts are told about the lobby.
func (m *Meeting) lobbyLocked(knock bool) *protocol.Lobby {
	waiting := make([]protocol.Visitor, 0, len(m.lobby))
	for _, w := range m.lobby {
		waiting = append(waiting, protocol.Visitor{ID: string(w.id), Name: w.name, SignedIn: w.identity.SignedIn})
	}
	return &protocol.Lobby{Waiting: waiting, Knock: knock}
}

// tellHostsLocked sends the lobby to every host in the meeting; knock when
// someone has just arrived.
func (m *Meeting) tellHostsLocked(knock bool) {
	msg := m.lobbyLocked(knock)
	for _, p := range m.participants {
		if p.identity.Role.IsHost() {
			p.sink.Send(msg)
		}
	}
}

// hostLocked checks that p may act as a host.
func (p *Participant) hostLocked() error {
	switch {
	case p.left:
		return ErrLeft
	case !p.admitted:
		return ErrNotAdmitted
	case !p.identity.Role.IsHost():
		return ErrNotHost
	}
	return nil
}

// Admit lets a waiting participant in (or, with id empty, everyone
// waiting), as far as the meeting's cap allows.
func (p *Participant) Admit(id ParticipantID) error {
	m := p.meeting
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := p.hostLocked(); err != nil {
		return err
	}
	admitted := 0
	for _, w := range slices.Clone(m.lobby) {
		if id != "" && w.id != id {
			continue
		}
		if len(m.participants) >= m.settings.Cap(m.serverCap()) {
			m.tellHostsLocked(false)
			return ErrRoomFull
		}
		m.lobby = slices.DeleteFunc(m.lobby, func(x *Participant) bool { return x == w })
		m.enterLocked(w)
		w.log.Info("admitted from the lobby", "by", p.id)
		admitted++
	}
	if id != "" && admitted == 0 {
		return ErrNoSuchPerson
	}
	m.tellHostsLocked(false)
	return nil
}

// Deny sends a waiting participant away.
func (p *Participant) Deny(id ParticipantID) error {
	m := p.meeting
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := p.hostLocked(); err != nil {
		return err
	}
	i := slices.IndexFunc(m.lobby, func(w *Participant) bool { return w.id == id })
	if i < 0 {
		return ErrNoSuchPerson
	}
	w := m.lobby[i]
	m.lobby = slices.Delete(m.lobby, i, i+1)
	w.left = true
	w.sink.Close(protocol.ReasonDenied) // its session ends, and Leave has nothing left to do
	w.log.Info("denied entry", "by", p.id)
	m.tellHostsLocked(false)
	return nil
}
