package meeting

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/visio-meet/visio/internal/chatfiles"
	"github.com/visio-meet/visio/internal/protocol"
	"github.com/visio-meet/visio/internal/room"
)

// What a meeting must not lose with its node (its files' key, its chat,
// where captions and transcription are) is written through to a
// LastingState as it changes, so that when the node is lost and the
// Directory places the room on another node, the meeting started there
// (moved) continues it. A chat message is written before anyone sees it;
// writes never hold the meeting's lock, and take turns, so that the store
// has them in the meeting's order.

// LastingState keeps the lasting state of live meetings, shared by the
// nodes that may host them.
type LastingState interface {
	// Start records a fresh meeting in room code. The record of a meeting
	// that never ended there is replaced, with its messages; its key is
	// returned, for its files to be removed ("" when there was none).
	Start(ctx context.Context, code room.Code, m LastingMeeting) (staleKey string, err error)
	// Load returns the record of the meeting in room code, nil when there
	// is none.
	Load(ctx context.Context, code room.Code) (*LastingMeeting, error)
	// AppendMessage keeps msg (with its sender's ClientID) and forgets the
	// messages before keepFrom, which the history no longer sends.
	AppendMessage(ctx context.Context, key string, msg protocol.Chat, keepFrom uint64) error
	// DeleteMessage keeps that a host deleted a message.
	DeleteMessage(ctx context.Context, key string, id uint64) error
	SaveSpeech(ctx context.Context, key string, s LastingSpeech) error
	// End removes the record of a meeting that ended, with its messages.
	End(ctx context.Context, key string) error
}

// LastingMeeting is the lasting state of a meeting.
type LastingMeeting struct {
	Key       string    // names the meeting apart from the room's others; its files are kept under it
	StartedAt time.Time // captions and transcripts count time from here
	Speech    LastingSpeech
	// Messages are the history, oldest first, each with its sender's
	// ClientID; files without their URL.
	Messages []protocol.Chat
}

// LastingSpeech is where a meeting's captions and transcription are.
type LastingSpeech struct {
	Captions bool
	// Transcript is the running transcript's id, "" when not
	// transcribing; TranscriptSince is when it began.
	Transcript      string
	TranscriptSince time.Time
	LastTranscript  string // the latest finished transcript, for hosts
}

// lastingTimeout bounds each write and read of the lasting state.
const lastingTimeout = 10 * time.Second

// lasting is a meeting's link to its lasting state.
type lasting struct {
	state  LastingState  // nil: the meeting lives in memory only
	ready  chan struct{} // closed once the record is started or loaded
	err    error         // why it could not be; set before ready is closed
	kept   bool          // a record was started or loaded: it goes with the meeting
	writes sync.Mutex    // held by each write, before the meeting's lock if both
}

func newLasting(state LastingState) *lasting {
	l := &lasting{state: state, ready: make(chan struct{})}
	if state == nil {
		close(l.ready)
	}
	return l
}

// openLasting starts or loads the meeting's record, from a goroutine: the
// registry's lock is held. Joining waits for it (awaitLasting).
func (m *Meeting) openLasting() {
	if m.lasting.state == nil {
		return
	}
	m.registry.wg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), lastingTimeout)
		defer cancel()
		err := m.loadLasting(ctx)
		if err != nil {
			m.registry.log.Error("the meeting's chat and transcription cannot be kept: nobody can join until the database answers",
				"room", m.code, "moved", m.moved, "err", err)
			m.lasting.err = fmt.Errorf("keep the meeting's state: %w", err)
		}
		close(m.lasting.ready)
	})
}

// awaitLasting waits until the meeting's record is open, and says whether
// it could be.
func (m *Meeting) awaitLasting() error {
	<-m.lasting.ready
	return m.lasting.err
}

func (m *Meeting) loadLasting(ctx context.Context) error {
	state := m.lasting.state
	if m.moved {
		rec, err := state.Load(ctx, m.code)
		if err != nil {
			return fmt.Errorf("load the meeting of the lost node: %w", err)
		}
		if rec != nil {
			m.restore(ctx, rec)
			return nil
		}
		m.registry.log.Warn("the meeting of the lost node left no record: it starts afresh", "room", m.code)
	}
	staleKey, err := state.Start(ctx, m.code, LastingMeeting{Key: m.key, StartedAt: m.speech.origin})
	if err != nil {
		return fmt.Errorf("record the meeting: %w", err)
	}
	m.lasting.kept = true
	if files := m.registry.cfg.Files.Store; staleKey != "" && files != nil {
		if err := files.DeleteMeeting(ctx, staleKey); err != nil {
			m.registry.log.Error("the files of a meeting that never ended are left", "room", m.code, "err", err)
		}
	}
	return nil
}

// restore continues the meeting of rec: its key, chat and files, captions
// and running transcript.
func (m *Meeting) restore(ctx context.Context, rec *LastingMeeting) {
	var transcript Transcript
	sp := rec.Speech
	if sp.Transcript != "" {
		var err error
		if ts := m.speechConfig().Transcripts; ts == nil {
			err = ErrNoTranscripts
		} else {
			transcript, err = ts.Resume(ctx, sp.Transcript)
		}
		if err != nil {
			m.registry.log.Error("the transcript of the lost node does not go on", "room", m.code, "transcript", sp.Transcript, "err", err)
			sp.Transcript, sp.TranscriptSince = "", time.Time{}
		}
	}
	m.mu.Lock()
	m.key = rec.Key
	m.speech.origin, m.speech.captions, m.speech.last = rec.StartedAt, sp.Captions, sp.LastTranscript
	if transcript != nil {
		m.speech.transcript, m.speech.since = transcript, sp.TranscriptSince
	}
	m.restoreChatLocked(rec.Messages)
	m.mu.Unlock()
	m.lasting.kept = true
	if sp != rec.Speech {
		m.keepSpeech(sp)
	}
	m.registry.log.Info("meeting continued from a lost node", "room", m.code, "messages", len(rec.Messages),
		"captions", sp.Captions, "transcribing", transcript != nil)
}

// restoreChatLocked puts back the history, and the files its messages
// share. The files uploaded on the lost node but not yet shared stay in the
// store until the meeting ends.
func (m *Meeting) restoreChatLocked(messages []protocol.Chat) {
	c := &m.chat
	c.files.used = true
	for _, msg := range messages {
		if f := msg.File; f != nil && !msg.Deleted {
			file := chatfiles.File{ID: f.ID, Meeting: m.key, Name: f.Name, Type: f.Type, Size: f.Size}
			if c.files.byID == nil {
				c.files.byID = map[string]*sharedFile{}
			}
			c.files.byID[f.ID] = &sharedFile{file: file, owner: ParticipantID(msg.From), message: msg.ID}
			c.files.bytes += f.Size
			info := m.fileInfo(file)
			msg.File = &info
		}
		clientID := msg.ClientID
		kept := c.log.add(msg, clientID)
		if clientID != "" {
			if c.restored == nil {
				c.restored = map[string]uint64{}
			}
			c.restored[clientID] = kept.ID
		}
	}
}

// keep runs a write of the lasting state, if there is one; the caller holds
// lasting.writes.
func (m *Meeting) keep(f func(ctx context.Context, state LastingState, key string) error) error {
	if m.lasting.state == nil || !m.lasting.kept {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), lastingTimeout)
	defer cancel()
	return f(ctx, m.lasting.state, m.key)
}

// lastingSpeechLocked is where captions and transcription are now.
func (m *Meeting) lastingSpeechLocked() LastingSpeech {
	s := LastingSpeech{Captions: m.speech.captions, LastTranscript: m.speech.last}
	if t := m.speech.transcript; t != nil {
		s.Transcript, s.TranscriptSince = t.ID(), m.speech.since
	}
	return s
}

// keepSpeech writes s; the caller holds lasting.writes. A failure is only
// logged: the change is made in the meeting already, and only a move to
// another node would miss it.
func (m *Meeting) keepSpeech(s LastingSpeech) {
	err := m.keep(func(ctx context.Context, state LastingState, key string) error { return state.SaveSpeech(ctx, key, s) })
	if err != nil {
		m.registry.log.Error("captions and transcription not kept: were the node lost, the meeting would not find them as they are",
			"room", m.code, "err", err)
	}
}

// saveSpeech writes where captions and transcription are now.
func (m *Meeting) saveSpeech() {
	m.lasting.writes.Lock()
	defer m.lasting.writes.Unlock()
	m.mu.Lock()
	ended, s := m.ended, m.lastingSpeechLocked()
	m.mu.Unlock()
	if !ended {
		m.keepSpeech(s)
	}
}

// forgetLocked removes, from a goroutine that Registry.Wait waits for, what
// a meeting that ends leaves: its files, then its record, so that a record
// names every meeting whose files may be left.
func (m *Meeting) forgetLocked() {
	files := m.registry.cfg.Files.Store
	if m.lasting.state == nil && (files == nil || !m.chat.files.used) {
		return
	}
	r := m.registry
	r.wg.Go(func() {
		<-m.lasting.ready
		m.lasting.writes.Lock()
		defer m.lasting.writes.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		m.mu.Lock()
		used := m.chat.files.used
		m.mu.Unlock()
		if files != nil && used {
			if err := files.DeleteMeeting(ctx, m.key); err != nil {
				r.log.Error("the files of an ended meeting were not removed", "room", m.code, "err", err)
				return // the record stays, naming them for a sweep
			}
			r.log.Debug("the files of an ended meeting were removed", "room", m.code)
		}
		if m.lasting.state != nil && m.lasting.kept {
			if err := m.lasting.state.End(ctx, m.key); err != nil {
				r.log.Error("the record of an ended meeting was not removed", "room", m.code, "err", err)
			}
		}
	})
}
