package meeting

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"golang.org/x/time/rate"

	"github.com/visio-meet/visio/internal/protocol"
)

// The chat lives with its meeting (in memory, and written through to the
// lasting state when there is one, for another node to continue it), and
// goes when the meeting ends, as do the files shared in it: nothing said in
// a meeting outlives it. Everyone in the meeting (not those waiting in the lobby) gets every
// message as it comes, and after every welcome the history, so that those
// who join late or come back after a short outage miss nothing.

// Bounds of the history a meeting keeps, and sends after each welcome.
const (
	historyMessages  = 500
	historyTextBytes = 1 << 20
	// rememberedClientIDs is how many of a participant's latest client
	// ids are remembered, to recognise a message sent again after a
	// reconnection: only the last few can be.
	rememberedClientIDs = 64
)

// Rates of chat messages and reactions, per participant, per second.
const (
	chatRate      rate.Limit = 2
	chatBurst                = 20
	reactionRate  rate.Limit = 1 // 5 in 5 s
	reactionBurst            = 5
)

// Errors of the chat. ErrInvalidChat is wrapped by the errors of messages
// that break the chat's rules.
var (
	ErrInvalidChat  = errors.New("invalid chat message")
	ErrChatRate     = errors.New("too many chat messages")
	ErrReactionRate = errors.New("too many reactions")
	ErrNoMessage    = errors.New("no such chat message in this meeting")
	ErrFileShared   = errors.New("this file is already shared in another message")
)

// chatState is a meeting's chat. Guarded by the meeting's mu.
type chatState struct {
	log   chatLog
	files sharedFiles
	// restored are the messages kept by a lost node, by client id: their
	// senders come back as new participants, and may send them again.
	restored map[string]uint64
}

// chatLog is the history of a meeting's messages, bounded in count and
// text, oldest first.
type chatLog struct {
	last      uint64 // the id of the latest message; 0 before the first
	entries   []chatEntry
	textBytes int
}

type chatEntry struct {
	msg      protocol.Chat // without ClientID
	clientID string
}

// add keeps msg, with the next id unless it has a later one (a message
// restored from the lasting state), and drops the oldest messages beyond the
// history's bounds.
func (l *chatLog) add(msg protocol.Chat, clientID string) protocol.Chat {
	l.last = max(l.last+1, msg.ID)
	msg.ID, msg.ClientID = l.last, ""
	l.entries = append(l.entries, chatEntry{msg: msg, clientID: clientID})
	l.textBytes += len(msg.Text)
	drop := 0
	for len(l.entries)-drop > historyMessages || l.textBytes > historyTextBytes && drop < len(l.entries)-1 {
		l.textBytes -= len(l.entries[drop].msg.Text)
		drop++
	}
	l.entries = slices.Delete(l.entries, 0, drop)
	return msg
}

// oldest is the id of the oldest message kept, or of the next one.
func (l *chatLog) oldest() uint64 {
	if len(l.entries) == 0 {
		return l.last + 1
	}
	return l.entries[0].msg.ID
}

// find returns the kept message id, or nil.
func (l *chatLog) find(id uint64) *chatEntry {
	i, ok := slices.BinarySearchFunc(l.entries, id, func(e chatEntry, id uint64) int { return cmp.Compare(e.msg.ID, id) })
	if !ok {
		return nil
	}
	return &l.entries[i]
}

// erase empties a kept message, and returns its file's id, if any.
func (l *chatLog) erase(e *chatEntry) string {
	fileID := ""
	if e.msg.File != nil {
		fileID = e.msg.File.ID
	}
	l.textBytes -= len(e.msg.Text)
	e.msg.Text, e.msg.File, e.msg.Deleted = "", nil, true
	return fileID
}

// forRecipient is the message as recipient gets it: with its client id
// when they sent it.
func (e *chatEntry) forRecipient(recipient ParticipantID) protocol.Chat {
	msg := e.msg
	if ParticipantID(msg.From) == recipient {
		msg.ClientID = e.clientID
	}
	return msg
}

// chatter is a participant's part in the chat. Guarded by the meeting's mu.
type chatter struct {
	messages  *rate.Limiter
	reactions *rate.Limiter
	sent      map[string]uint64 // message id by client id, for the latest ones
	order     []string          // those client ids, oldest first
}

func newChatter() chatter {
	return chatter{messages: rate.NewLimiter(chatRate, chatBurst), reactions: rate.NewLimiter(reactionRate, reactionBurst),
		sent: map[string]uint64{}}
}

func (c *chatter) remember(clientID string, id uint64) {
	c.sent[clientID] = id
	c.order = append(c.order, clientID)
	if len(c.order) > rememberedClientIDs {
		delete(c.sent, c.order[0])
		c.order = slices.Delete(c.order, 0, 1)
	}
}

// chatHistoryLocked is the history as p gets it after a welcome.
func (m *Meeting) chatHistoryLocked(p *Participant) *protocol.ChatHistory {
	h := &protocol.ChatHistory{Messages: make([]protocol.Chat, 0, len(m.chat.log.entries))}
	for i := range m.chat.log.entries {
		h.Messages = append(h.Messages, m.chat.log.entries[i].forRecipient(p.id))
	}
	return h
}

// SendChat posts a message to everyone in the meeting. fileID, when set,
// attaches a file the participant uploaded in this meeting. A message sent
// again with the same clientID is not posted again: the participant gets
// the message as it was posted. The message is kept in the lasting state
// before anyone gets it.
func (p *Participant) SendChat(text, fileID, clientID string) error {
	text, err := protocol.CleanChatText(text)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidChat, err)
	}
	if text == "" && fileID == "" {
		return fmt.Errorf("%w: the message is empty", ErrInvalidChat)
	}
	m := p.meeting
	// Messages take turns from here to their broadcast, so that they are
	// kept and posted in the order of their ids.
	m.lasting.writes.Lock()
	defer m.lasting.writes.Unlock()
	m.mu.Lock()
	msg, shared, err := p.composeLocked(text, fileID, clientID)
	keepFrom := m.chat.log.oldest()
	m.mu.Unlock()
	if err != nil || msg == nil {
		return err
	}
	kept := *msg
	kept.ClientID = clientID
	err = m.keep(func(ctx context.Context, state LastingState, key string) error {
		return state.AppendMessage(ctx, key, kept, keepFrom)
	})
	if err != nil {
		p.log.Error("chat message not kept, so not posted", "err", err)
		return fmt.Errorf("keep the message: %w", err)
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	posted := m.chat.log.add(*msg, clientID)
	if shared != nil {
		shared.message = posted.ID
	}
	if clientID != "" {
		p.chat.remember(clientID, posted.ID)
	}
	m.broadcastLocked(p, &posted)
	own := posted
	own.ClientID = clientID
	p.sink.Send(&own)
	return nil
}

// composeLocked checks a message p sends and makes it, with the id it is to
// have, and the file it shares. A message sent again is sent back to p
// alone, and no message made.
func (p *Participant) composeLocked(text, fileID, clientID string) (*protocol.Chat, *sharedFile, error) {
	m := p.meeting
	if err := p.inLocked(); err != nil {
		return nil, nil, err
	}
	if clientID != "" {
		id, ok := p.chat.sent[clientID]
		if !ok {
			id, ok = m.chat.restored[clientID]
		}
		if ok {
			if e := m.chat.log.find(id); e != nil {
				again := e.msg
				again.ClientID = clientID
				p.sink.Send(&again)
			}
			return nil, nil, nil
		}
	}
	if !p.chat.messages.Allow() {
		return nil, nil, ErrChatRate
	}
	msg := &protocol.Chat{ID: m.chat.log.last + 1, From: string(p.id), Name: p.name, At: time.Now().UnixMilli(), Text: text}
	var shared *sharedFile
	if fileID != "" {
		if shared = m.chat.files.byID[fileID]; shared == nil || shared.owner != p.id {
			return nil, nil, ErrNoFile
		}
		if shared.message != 0 {
			return nil, nil, ErrFileShared
		}
		info := m.fileInfo(shared.file)
		msg.File = &info
	}
	return msg, shared, nil
}

// DeleteChat empties a message for everyone, and removes its file, for
// hosts. Deleting a deleted message does nothing.
func (p *Participant) DeleteChat(ctx context.Context, id uint64) error {
	m := p.meeting
	m.lasting.writes.Lock()
	defer m.lasting.writes.Unlock()
	m.mu.Lock()
	if err := p.hostLocked(); err != nil {
		m.mu.Unlock()
		return err
	}
	e := m.chat.log.find(id)
	if e == nil {
		m.mu.Unlock()
		return ErrNoMessage
	}
	if e.msg.Deleted {
		m.mu.Unlock()
		return nil
	}
	m.mu.Unlock()
	err := m.keep(func(ctx context.Context, state LastingState, key string) error {
		return state.DeleteMessage(ctx, key, id)
	})
	if err != nil {
		return fmt.Errorf("keep the deletion of the message: %w", err)
	}

	m.mu.Lock()
	fileID := ""
	if e := m.chat.log.find(id); e != nil { // still there: messages come and go only in turn
		fileID = m.chat.log.erase(e)
	}
	if fileID != "" {
		m.chat.files.forget(fileID)
	}
	m.broadcastLocked(nil, &protocol.ChatDeleted{ID: id, By: p.name})
	m.mu.Unlock()
	p.log.Info("chat message deleted by a host", "message", id, "file", fileID != "")

	// The file goes from storage without the meeting's lock. It can no
	// longer be downloaded either way; if it stays on disk, it goes with
	// the meeting.
	if fileID != "" {
		if err := m.registry.cfg.Files.Store.Delete(ctx, fileID); err != nil {
			p.log.Error("the file of a deleted message was not removed", "message", id, "err", err)
		}
	}
	return nil
}

// React shows an emoji on the participant's tile, for everyone.
func (p *Participant) React(emoji string) error {
	m := p.meeting
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := p.inLocked(); err != nil {
		return err
	}
	if !p.chat.reactions.Allow() {
		return ErrReactionRate
	}
	m.broadcastLocked(nil, &protocol.Reaction{Participant: string(p.id), Emoji: emoji})
	return nil
}
