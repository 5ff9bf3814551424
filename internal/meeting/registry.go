// Package meeting holds the live meetings of this server: who is in which
// room, what each participant publishes, and who receives what. It routes
// tracks through the media plane (package sfu) and tells every participant
// what changes, in the vocabulary of the signalling protocol.
//
// A meeting exists while someone is in it. Which server hosts a room is asked
// of a Directory, the seam where a cluster can place rooms on other nodes.
package meeting

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/visio-meet/visio/internal/protocol"
	"github.com/visio-meet/visio/internal/room"
	"github.com/visio-meet/visio/internal/sfu"
)

// ParticipantID identifies a participant for the life of their session.
type ParticipantID string

// Errors of Join.
var (
	ErrRoomFull = errors.New("the meeting is full")
	ErrClosed   = errors.New("the server is shutting down")
	ErrBanned   = errors.New("a host banned this participant from the room")
	ErrNoRoom   = errors.New("no such room")
)

// Rooms is where rooms and their rules are kept. A meeting reads its room's
// rules when it starts, and writes back what its hosts change.
type Rooms interface {
	// Settings returns the rules of a room, or an error wrapping ErrNoRoom.
	Settings(ctx context.Context, code room.Code) (room.Settings, error)
	SaveSettings(ctx context.Context, code room.Code, s room.Settings) error
	SetRole(ctx context.Context, code room.Code, user string, role room.Role) error
	Ban(ctx context.Context, code room.Code, key string) error
	IsBanned(ctx context.Context, code room.Code, key string) (bool, error)
}

// openRooms is every room public with the server's defaults, for a
// registry without storage.
type openRooms struct{}

func (openRooms) Settings(context.Context, room.Code) (room.Settings, error) {
	return room.Settings{Access: room.Public, Publishing: room.Everything}, nil
}
func (openRooms) SaveSettings(context.Context, room.Code, room.Settings) error { return nil }
func (openRooms) SetRole(context.Context, room.Code, string, room.Role) error  { return nil }
func (openRooms) Ban(context.Context, room.Code, string) error                 { return nil }
func (openRooms) IsBanned(context.Context, room.Code, string) (bool, error)    { return false, nil }

// Directory says which node hosts a room. A cluster implementation places
// each room on one node; Host returns an error wrapping ErrElsewhere when the
// room lives on another node. starting says a meeting is about to start
// here. Moved is true when this node takes the room over from a node that
// was lost: its meeting then continues the lost one (chat history,
// transcription) instead of starting afresh.
type Directory interface {
	Host(ctx context.Context, code room.Code, starting bool) (moved bool, err error)
	Release(code room.Code)
}

// ErrElsewhere is wrapped by Directory errors for rooms hosted by another node.
var ErrElsewhere = room.ErrElsewhere

// ErrUnplaced is wrapped by Join's error when the Directory failed to say
// where the room lives (a cluster electing a new leader, say): the join
// may work a moment later.
var ErrUnplaced = errors.New("the meeting cannot be placed on a server right now")

// Sink receives what a participant's client must be told. Send must not
// block: a client that cannot keep up is disconnected by its sink.
type Sink interface {
	Send(m protocol.Message)
	// Close asks the session to end with the given reason (for example
	// protocol.ReasonConnectionFailed); the session then calls Leave.
	Close(reason string)
}

// Config tunes meetings.
type Config struct {
	MaxParticipants int           // per meeting; 0 means no cap
	SpeakerInterval time.Duration // how often the active speaker is computed; default 300 ms
	QualityInterval time.Duration // how often connections are rated; default 2 s
	// ReconnectGrace is how long a participant whose signalling connection
	// dropped keeps their place, for their app to resume; default 20 s.
	ReconnectGrace time.Duration
	// MutedJoinFrom: who joins a meeting that already has this many
	// people or more starts with the microphone off; 0 never.
	MutedJoinFrom int
	// QuietAbove: the apps play no notification sounds in meetings of more
	// people than this; 0 never play them.
	QuietAbove int
	// Rooms keeps the rooms' rules; nil makes every room public.
	Rooms Rooms
	// Speech captions and transcribes meetings; its zero value turns both off.
	Speech Speech
	// Files keeps the files shared in chats; its zero value turns file
	// sharing off.
	Files ChatFiles
	// RejoinToken, when set, makes the token each welcome carries that lets
	// the participant back in as themselves if the meeting moves to another
	// node (which then knows neither them nor their resume token).
	RejoinToken func(code room.Code, id ParticipantID, meetingKey string) string
	// Lasting keeps what a meeting must not lose with its node, for
	// another node to continue it; nil keeps meetings in memory only.
	Lasting LastingState
}

// Registry holds the meetings of this node.
type Registry struct {
	cfg   Config
	media *sfu.Engine
	dir   Directory
	log   *slog.Logger

	mu       sync.Mutex
	meetings map[room.Code]*Meeting
	closed   bool
	closing  atomic.Bool // closed, readable under a meeting's lock
	wg       sync.WaitGroup
}

// NewRegistry returns an empty registry.
func NewRegistry(cfg Config, media *sfu.Engine, dir Directory, log *slog.Logger) *Registry {
	if cfg.SpeakerInterval <= 0 {
		cfg.SpeakerInterval = 300 * time.Millisecond
	}
	if cfg.QualityInterval <= 0 {
		cfg.QualityInterval = qualityInterval
	}
	if cfg.ReconnectGrace <= 0 {
		cfg.ReconnectGrace = 20 * time.Second
	}
	if cfg.Rooms == nil {
		cfg.Rooms = openRooms{}
	}
	return &Registry{cfg: cfg, media: media, dir: dir, log: log.With("component", "meeting"),
		meetings: map[room.Code]*Meeting{}}
}

// Arrival is who joins, and what their client needs to connect.
type Arrival struct {
	Name       string
	Identity   Identity
	ICEServers []protocol.ICEServer // handed to the client in the welcome
	// Watcher is a client that chooses once what it receives (Watch), such
	// as a WHEP player, instead of receiving every track as they come.
	Watcher bool
	// Rejoin, when set, is a participant coming back after their meeting
	// moved to this node (see Config.RejoinToken).
	Rejoin *Rejoin
}

// Rejoin names a participant of a meeting, as a rejoin token says.
type Rejoin struct {
	ID         ParticipantID
	MeetingKey string
}

// Identity is who a participant is in the room, as the edge found out from
// their login and the room's records.
type Identity struct {
	UserID   string // the signed-in user; "" for a guest
	SignedIn bool
	Role     room.Role
	// BanKey names them for a ban: the user, or else the guest's browser.
	BanKey string
	Banned bool
}

// Join adds a participant to the meeting in room code, creating the meeting
// if needed. The sink receives protocol.Welcome first, then everything that
// happens in the meeting, until Leave.
func (r *Registry) Join(ctx context.Context, code room.Code, a Arrival, sink Sink) (*Participant, error) {
	r.mu.Lock()
	starting := r.meetings[code] == nil
	r.mu.Unlock()
	moved, err := r.dir.Host(ctx, code, starting)
	if err != nil {
		if errors.Is(err, ErrElsewhere) {
			return nil, fmt.Errorf("place room %s: %w", code, err)
		}
		return nil, fmt.Errorf("place room %s: %w: %w", code, ErrUnplaced, err)
	}
	// A join token is checked for bans when it is issued; a ban may have
	// come since.
	if key := a.Identity.BanKey; key != "" {
		banned, err := r.cfg.Rooms.IsBanned(ctx, code, key)
		if err != nil {
			r.mu.Lock()
			r.unhostLocked(code, moved)
			r.mu.Unlock()
			return nil, fmt.Errorf("room %s: %w", code, err)
		}
		a.Identity.Banned = a.Identity.Banned || banned
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil, ErrClosed
	}
	m, ok := r.meetings[code]
	if !ok {
		// The room's rules come from storage, without the registry's lock.
		r.mu.Unlock()
		settings, err := r.cfg.Rooms.Settings(ctx, code)
		r.mu.Lock()
		if err != nil {
			r.unhostLocked(code, moved)
			r.mu.Unlock()
			return nil, fmt.Errorf("room %s: %w", code, err)
		}
		if r.closed {
			r.mu.Unlock()
			return nil, ErrClosed
		}
		m, ok = r.meetings[code]
		if !ok {
			m = r.startLocked(code, settings, moved)
		}
	}
	m.joining++ // keeps the meeting from being removed until the participant is in
	r.mu.Unlock()

	p, err := m.join(a, sink)
	r.releaseIfEmpty(m)
	return p, err
}

// unhostLocked gives the room back to the directory when a join that
// placed it here failed before its meeting started, unless the meeting is
// one taken over from a lost node: the next join must continue it.
func (r *Registry) unhostLocked(code room.Code, moved bool) {
	if r.meetings[code] == nil && !moved {
		r.dir.Release(code)
	}
}

// startLocked starts the meeting of a room.
func (r *Registry) startLocked(code room.Code, settings room.Settings, moved bool) *Meeting {
	m := newMeeting(r, code, settings)
	m.moved = moved
	m.openLasting()
	r.meetings[code] = m
	r.wg.Add(2)
	go func() { defer r.wg.Done(); m.every(r.cfg.SpeakerInterval, m.updateSpeakers) }()
	go func() { defer r.wg.Done(); m.every(r.cfg.QualityInterval, m.updateQuality) }()
	r.log.Info("meeting started", "room", code, "moved", moved)
	return m
}

// releaseIfEmpty ends a meeting that nobody is in or joining.
func (r *Registry) releaseIfEmpty(m *Meeting) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.joining > 0 || len(m.participants) > 0 || len(m.lobby) > 0 || m.ended {
		return
	}
	m.ended = true
	if m.continuesElsewhere() {
		// What lasts stays for the meeting that goes on: on another node,
		// or here at the next join.
		m.closeListenersLocked()
	} else {
		m.endSpeechLocked()
		m.forgetLocked()
		r.dir.Release(m.code)
	}
	m.stop()
	delete(r.meetings, m.code)
	r.log.Info("meeting ended here", "room", m.code, "handed_over", m.handedOver)
}

// Meeting returns the live meeting in room code, or nil.
func (r *Registry) Meeting(code room.Code) *Meeting {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.meetings[code]
}

// live returns the meetings of this node.
func (r *Registry) live() []*Meeting {
	r.mu.Lock()
	defer r.mu.Unlock()
	all := make([]*Meeting, 0, len(r.meetings))
	for _, m := range r.meetings {
		all = append(all, m)
	}
	return all
}

// Counts returns how many meetings and participants are live.
func (r *Registry) Counts() (meetings, participants int) {
	all := r.live()
	for _, m := range all {
		participants += len(m.Participants())
	}
	return len(all), participants
}

// Close refuses new joins and asks every session to end. The sessions leave
// on their own; Wait returns when every meeting has ended.
func (r *Registry) Close() {
	r.mu.Lock()
	r.closed = true
	r.closing.Store(true)
	r.mu.Unlock()
	for _, m := range r.live() {
		m.mu.Lock()
		everyone := slices.Concat(m.participants, m.lobby)
		m.mu.Unlock()
		for _, p := range everyone {
			if p.sink.attached() {
				p.sink.Close(protocol.ReasonServerShutdown)
			} else {
				p.Leave(protocol.ReasonServerShutdown) // waiting to reconnect: nobody to tell
			}
		}
	}
}

// Wait blocks until every meeting has ended or ctx is done.
func (r *Registry) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// newParticipantID returns a short random identifier.
func newParticipantID() ParticipantID {
	return ParticipantID("p" + strings.ToLower(rand.Text()[:12]))
}
