package meeting

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/visio-meet/visio/internal/protocol"
	"github.com/visio-meet/visio/internal/room"
)

// Errors of moderation.
var (
	ErrGuestRole = errors.New("only signed-in participants can be given a role")
	ErrOwner     = errors.New("the room's owner cannot be changed or removed by others")
)

// roomLocked is the room's rules and pin, as everyone is told.
func (m *Meeting) roomLocked() *protocol.Room {
	s := m.settings
	return &protocol.Room{Access: string(s.Access), MaxParticipants: s.MaxParticipants,
		Publishing: protocol.Publishing(s.Publishing), Pinned: string(m.pinned)}
}

// mayPublishLocked tells whether p may send src under the room's rules.
func (m *Meeting) mayPublishLocked(p *Participant, src protocol.Source) bool {
	if p.identity.Role.IsHost() {
		return true
	}
	switch src {
	case protocol.SourceMicrophone:
		return m.settings.Publishing.Microphone
	case protocol.SourceCamera:
		return m.settings.Publishing.Camera
	case protocol.SourceScreen, protocol.SourceScreenAudio:
		return m.settings.Publishing.Screen
	}
	return false
}

// Moderate carries out a host's action. The room's records (roles, bans)
// are written before the meeting changes, so that a storage failure changes
// nothing.
func (p *Participant) Moderate(ctx context.Context, a *protocol.Moderate) error {
	m := p.meeting
	m.mu.Lock()
	if err := p.hostLocked(); err != nil {
		m.mu.Unlock()
		return err
	}
	var target *Participant
	if a.Participant != "" {
		if target = m.findLocked(ParticipantID(a.Participant)); target == nil {
			m.mu.Unlock()
			return ErrNoSuchPerson
		}
		// Owners are changed through the room's members (REST), where a
		// room keeps at least one; and nobody changes their own role.
		if target.identity.Role == room.Owner && (a.Action == protocol.ActionRemove || a.Action == protocol.ActionRole) ||
			target == p && a.Action == protocol.ActionRole {
			m.mu.Unlock()
			return ErrOwner
		}
	}
	identity := Identity{}
	if target != nil {
		identity = target.identity
	}
	m.mu.Unlock()

	// Records first, outside the meeting's lock.
	rooms := m.registry.cfg.Rooms
	switch a.Action {
	case protocol.ActionRole:
		if !identity.SignedIn || identity.UserID == "" {
			return ErrGuestRole
		}
		if err := rooms.SetRole(ctx, m.code, identity.UserID, room.Role(a.Role)); err != nil {
			return fmt.Errorf("save role: %w", err)
		}
	case protocol.ActionRemove:
		if a.Ban && identity.BanKey != "" {
			if err := rooms.Ban(ctx, m.code, identity.BanKey); err != nil {
				return fmt.Errorf("save ban: %w", err)
			}
		}
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	if err := p.hostLocked(); err != nil {
		return err // removed or demoted meanwhile
	}
	if target != nil && target.left {
		return nil // gone meanwhile: nothing left to do
	}
	by := &protocol.Moderated{Action: a.Action, Source: a.Source, By: p.name}
	switch a.Action {
	case protocol.ActionMute:
		target.forceMuteLocked(a.Source, by)
	case protocol.ActionMuteAll:
		for _, o := range m.participants {
			if !o.identity.Role.IsHost() {
				o.forceMuteLocked(protocol.SourceMicrophone, &protocol.Moderated{Action: protocol.ActionMute, Source: protocol.SourceMicrophone, By: p.name})
			}
		}
	case protocol.ActionStop:
		target.stopLocked(a.Source, by)
		if a.Source == protocol.SourceScreen {
			target.stopLocked(protocol.SourceScreenAudio, nil)
		}
	case protocol.ActionRemove:
		reason := protocol.ReasonRemoved
		if a.Ban {
			reason = protocol.ReasonBanned
			if key := target.identity.BanKey; key != "" {
				if m.banned == nil {
					m.banned = map[string]bool{}
				}
				m.banned[key] = true
			}
		}
		target.sink.Close(reason) // the session ends and leaves with that reason
		p.log.Info("participant removed", "target", target.id, "ban", a.Ban)
	case protocol.ActionRole:
		wasHost := target.identity.Role.IsHost()
		before := target.infoLocked()
		target.identity.Role = room.Role(a.Role)
		target.announceIfChangedLocked(before)
		if target.identity.Role.IsHost() && !wasHost && len(m.lobby) > 0 {
			target.sink.Send(m.lobbyLocked(false))
		}
		target.reconcileLocked() // what they may publish may have changed
	case protocol.ActionPin:
		m.pinned = ParticipantID(a.Participant)
		m.broadcastLocked(nil, m.roomLocked())
	case protocol.ActionHand:
		for _, o := range m.participants {
			if (target == nil || o == target) && !o.handRaisedAt.IsZero() {
				before := o.infoLocked()
				o.handRaisedAt = time.Time{}
				o.announceIfChangedLocked(before)
				o.sink.Send(by)
			}
		}
	case protocol.ActionEnd:
		p.log.Info("meeting ended by a host")
		m.endLocked()
	}
	return nil
}

// forceMuteLocked mutes p's source for everyone and asks p's app to mute
// it. p may unmute again, as in any meeting, if the room lets them speak.
func (p *Participant) forceMuteLocked(src protocol.Source, by *protocol.Moderated) {
	for mid, d := range p.declared {
		if d.Source == src && !d.Muted {
			before := p.infoLocked()
			d.Muted = true
			p.declared[mid] = d
			p.announceIfChangedLocked(before)
			p.sink.Send(by)
		}
	}
}

// stopLocked stops forwarding p's source at once and, with by, asks p's app
// to stop sending it.
func (p *Participant) stopLocked(src protocol.Source, by *protocol.Moderated) {
	before := p.infoLocked()
	if _, ok := p.published[src]; ok {
		p.unpublishLocked(src)
	}
	for mid, d := range p.declared {
		if d.Source == src {
			delete(p.declared, mid)
		}
	}
	p.announceIfChangedLocked(before)
	if by != nil {
		p.sink.Send(by)
	}
}

// ChangeSettings applies a host's change of the room's rules, saves it, and
// tells everyone. Sources that participants may no longer send stop; people
// waiting whom the new rules let in enter.
func (p *Participant) ChangeSettings(ctx context.Context, c *protocol.RoomSettings) error {
	m := p.meeting
	m.mu.Lock()
	if err := p.hostLocked(); err != nil {
		m.mu.Unlock()
		return err
	}
	s := m.settings
	m.mu.Unlock()
	if c.Access != nil {
		s.Access = room.Access(*c.Access)
	}
	if c.MaxParticipants != nil {
		s.MaxParticipants = *c.MaxParticipants
	}
	if c.Publishing != nil {
		s.Publishing = room.Publishing(*c.Publishing)
	}
	if err := m.registry.cfg.Rooms.SaveSettings(ctx, m.code, s); err != nil {
		return fmt.Errorf("save room settings: %w", err)
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	if err := p.hostLocked(); err != nil {
		return err // removed or demoted meanwhile
	}
	m.applySettingsLocked(s, p.name)
	p.log.Info("room settings changed", "access", s.Access, "max_participants", s.MaxParticipants, "publishing", s.Publishing)
	return nil
}

// ApplySettings makes the meeting follow rules changed elsewhere (the REST
// API), which has saved them.
func (m *Meeting) ApplySettings(s room.Settings) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.applySettingsLocked(s, "")
}

// applySettingsLocked tells everyone the new rules; sources that
// participants may no longer send stop, and people waiting whom the new
// rules let in enter. by names the host who changed them.
func (m *Meeting) applySettingsLocked(s room.Settings, by string) {
	m.settings = s
	m.broadcastLocked(nil, m.roomLocked())
	for _, o := range m.participants {
		before := o.infoLocked()
		for src := range o.published {
			if !m.mayPublishLocked(o, src) {
				o.unpublishLocked(src)
				o.sink.Send(&protocol.Moderated{Action: protocol.ActionStop, Source: src, By: by})
			}
		}
		o.reconcileLocked() // and what is allowed again goes out again
		o.announceIfChangedLocked(before)
	}
	for _, w := range slices.Clone(m.lobby) {
		v := room.Visitor{SignedIn: w.identity.SignedIn, Role: w.identity.Role}
		if s.Admit(v, len(m.participants), m.serverCap()).Entry == room.Enter {
			m.lobby = slices.DeleteFunc(m.lobby, func(x *Participant) bool { return x == w })
			m.enterLocked(w)
		}
	}
	m.tellHostsLocked(false)
}

// SetRole gives user's participants the role the room's members now record
// for them (changed through the REST API): a demoted host stops being one at
// once.
func (m *Meeting) SetRole(user string, role room.Role) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range m.participants {
		if o.identity.UserID != user || o.identity.UserID == "" || o.identity.Role == role {
			continue
		}
		wasHost := o.identity.Role.IsHost()
		before := o.infoLocked()
		o.identity.Role = role
		o.announceIfChangedLocked(before)
		o.sink.Send(m.speechFor(o)) // hosts see the engine's health
		if role.IsHost() && !wasHost && len(m.lobby) > 0 {
			o.sink.Send(m.lobbyLocked(false))
		}
		o.reconcileLocked()
	}
}

// End ends the meeting for everyone in it or waiting to enter.
func (m *Meeting) End() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.endLocked()
}

func (m *Meeting) endLocked() {
	for _, o := range slices.Concat(m.participants, m.lobby) {
		if o.sink.attached() {
			o.sink.Close(protocol.ReasonEnded) // the session ends, then leaves
		} else if o.awayTimer != nil {
			o.awayTimer.Reset(0) // waiting to reconnect: there is nothing to come back to
		}
	}
}

// Info is a summary of a meeting.
type Info struct {
	Participants []protocol.Participant
	Waiting      int
}

// Info returns who is in the meeting, and how many wait.
func (m *Meeting) Info() Info {
	m.mu.Lock()
	defer m.mu.Unlock()
	info := Info{Waiting: len(m.lobby)}
	for _, p := range m.participants {
		info.Participants = append(info.Participants, p.infoLocked())
	}
	return info
}
