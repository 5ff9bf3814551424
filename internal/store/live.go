package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/visio-meet/visio/internal/room"
)

// The lasting state of live meetings is written by the node hosting each
// meeting as it goes, so that when that node is lost another one continues
// the meeting: same files, same chat, captions and transcription as they
// were. A record lives as long as its meeting.

// LiveMeeting is the record of the meeting going on in a room.
type LiveMeeting struct {
	// Key names the meeting apart from the room's other meetings; its
	// files are kept under it.
	Key       string
	Code      room.Code
	StartedAt time.Time
	Speech    LiveSpeech
}

// LiveSpeech is where a live meeting's captions and transcription are.
type LiveSpeech struct {
	Captions bool
	// Transcript is the running transcript, "" when not transcribing;
	// TranscriptSince is when it began.
	Transcript      TranscriptID
	TranscriptSince time.Time
	// LastTranscript is the latest transcript finished in the meeting.
	LastTranscript TranscriptID
}

// LiveMessage is a chat message of a live meeting, as its history sends it.
type LiveMessage struct {
	ID            uint64 // from 1, increasing by one per meeting
	At            time.Time
	ParticipantID string
	SenderName    string
	// ClientID is the sender's own id of the message, by which a message
	// sent again after a reconnection is recognised.
	ClientID string
	Text     string
	File     *LiveFile // nil without a file
	Deleted  bool
}

// LiveFile describes a file attached to a message.
type LiveFile struct {
	ID, Name, Type string
	Size           int64
}

const liveMeetingColumns = `meeting_key, room_code, started_at, captions, transcript_id, transcript_since, last_transcript`

func scanLiveMeeting(row scanner) (LiveMeeting, error) {
	var (
		m     LiveMeeting
		since sql.NullTime
	)
	err := row.Scan(&m.Key, &m.Code, &m.StartedAt, &m.Speech.Captions, &m.Speech.Transcript, &since, &m.Speech.LastTranscript)
	m.StartedAt, m.Speech.TranscriptSince = m.StartedAt.UTC(), fromNullTime(since)
	return m, err
}

// StartLiveMeeting records a meeting that starts in a room. A record left
// in that room by a meeting that never ended (its node was lost) is
// replaced: its messages go, its running transcript ends where its last
// words were, and it is returned, for its files to be removed; nil when
// there was none.
func (s *Store) StartLiveMeeting(ctx context.Context, m LiveMeeting) (stale *LiveMeeting, err error) {
	if m.Key == "" || !m.Code.Valid() || m.StartedAt.IsZero() {
		return nil, fmt.Errorf("store: start live meeting %q in %q: a key, a room code and a start time are needed", m.Key, m.Code)
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		old, err := scanLiveMeeting(tx.QueryRowContext(ctx, `SELECT `+liveMeetingColumns+` FROM live_meetings WHERE room_code = $1`, m.Code))
		switch {
		case err == nil:
			if err := dropLiveMeeting(ctx, tx, old); err != nil {
				return err
			}
			stale = &old
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		sp := m.Speech
		_, err = tx.ExecContext(ctx, `INSERT INTO live_meetings (`+liveMeetingColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			m.Key, m.Code, dbTime(m.StartedAt), sp.Captions, sp.Transcript, nullTime(sp.TranscriptSince), sp.LastTranscript)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: start live meeting in %s: %w", m.Code, constraint(err))
	}
	return stale, nil
}

// dropLiveMeeting removes a record whose meeting will not go on, and ends
// its running transcript: nobody will add to it any more.
func dropLiveMeeting(ctx context.Context, tx *sql.Tx, m LiveMeeting) error {
	if id := m.Speech.Transcript; id != "" {
		if err := endAtLastWords(ctx, tx, id); err != nil {
			return fmt.Errorf("end transcript %s: %w", id, err)
		}
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM live_meetings WHERE meeting_key = $1`, m.Key)
	return err
}

// endAtLastWords ends a transcript at the end of its latest segment (at its
// start when it has none), the last moment it is known to have been
// running; a transcript deleted meanwhile is left alone.
func endAtLastWords(ctx context.Context, tx *sql.Tx, id TranscriptID) error {
	var (
		started time.Time
		lastMS  int64
	)
	err := tx.QueryRowContext(ctx, `
		SELECT t.started_at, COALESCE(MAX(s.end_ms), 0) FROM transcripts t
		LEFT JOIN transcript_segments s ON s.transcript_id = t.id
		WHERE t.id = $1 GROUP BY t.started_at`, id).Scan(&started, &lastMS)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	} else if err != nil {
		return err
	}
	ended := started.Add(time.Duration(lastMS) * time.Millisecond)
	_, err = tx.ExecContext(ctx, `UPDATE transcripts SET ended_at = COALESCE(ended_at, $2) WHERE id = $1`, id, dbTime(ended))
	return err
}

// LiveMeeting returns the record of the meeting going on in a room, with
// its messages in order. ErrNotFound when there is none.
func (s *Store) LiveMeeting(ctx context.Context, code room.Code) (LiveMeeting, []LiveMessage, error) {
	m, err := scanLiveMeeting(s.db.QueryRowContext(ctx, `SELECT `+liveMeetingColumns+` FROM live_meetings WHERE room_code = $1`, code))
	if err != nil {
		return LiveMeeting{}, nil, fmt.Errorf("store: live meeting in %s: %w", code, notFound(err))
	}
	rows, err := s.db.QueryContext(ctx, `
		SELECT id, sent_at, participant_id, sender_name, client_id, text, file_id, file_name, file_type, file_size, deleted
		FROM live_messages WHERE meeting_key = $1 ORDER BY id`, m.Key)
	if err != nil {
		return LiveMeeting{}, nil, fmt.Errorf("store: messages of the live meeting in %s: %w", code, err)
	}
	defer rows.Close()
	var messages []LiveMessage
	for rows.Next() {
		var (
			msg LiveMessage
			f   LiveFile
		)
		if err := rows.Scan(&msg.ID, &msg.At, &msg.ParticipantID, &msg.SenderName, &msg.ClientID, &msg.Text,
			&f.ID, &f.Name, &f.Type, &f.Size, &msg.Deleted); err != nil {
			return LiveMeeting{}, nil, fmt.Errorf("store: messages of the live meeting in %s: %w", code, err)
		}
		msg.At = msg.At.UTC()
		if f.ID != "" {
			msg.File = &f
		}
		messages = append(messages, msg)
	}
	if err := rows.Err(); err != nil {
		return LiveMeeting{}, nil, fmt.Errorf("store: messages of the live meeting in %s: %w", code, err)
	}
	return m, messages, nil
}

// AppendLiveMessage adds a message to a live meeting's chat, and forgets
// the meeting's messages before keepFrom, which its history no longer
// sends. ErrNotFound when the meeting has no record (it ended), ErrConflict
// when the meeting has a message of that id already.
func (s *Store) AppendLiveMessage(ctx context.Context, key string, msg LiveMessage, keepFrom uint64) error {
	if msg.ID == 0 || msg.At.IsZero() || msg.ParticipantID == "" {
		return fmt.Errorf("store: append to live meeting %s: a message needs an id, a time and a sender", key)
	}
	var f LiveFile
	if msg.File != nil {
		f = *msg.File
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO live_messages (meeting_key, id, sent_at, participant_id, sender_name, client_id, text,
				file_id, file_name, file_type, file_size, deleted)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			key, msg.ID, dbTime(msg.At), msg.ParticipantID, msg.SenderName, msg.ClientID, msg.Text,
			f.ID, f.Name, f.Type, f.Size, msg.Deleted); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM live_messages WHERE meeting_key = $1 AND id < $2`, key, keepFrom)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: append message %d to live meeting %s: %w", msg.ID, key, constraint(err))
	}
	return nil
}

// DeleteLiveMessage empties a message of a live meeting, text and file, and
// marks it deleted. ErrNotFound when there is no such message.
func (s *Store) DeleteLiveMessage(ctx context.Context, key string, id uint64) error {
	err := affected(s.db.ExecContext(ctx, `
		UPDATE live_messages SET text = '', file_id = '', file_name = '', file_type = '', file_size = 0, deleted = TRUE
		WHERE meeting_key = $1 AND id = $2`, key, id))
	if err != nil {
		return fmt.Errorf("store: delete message %d of live meeting %s: %w", id, key, err)
	}
	return nil
}

// SetLiveSpeech records where a live meeting's captions and transcription
// are. ErrNotFound when the meeting has no record.
func (s *Store) SetLiveSpeech(ctx context.Context, key string, sp LiveSpeech) error {
	err := affected(s.db.ExecContext(ctx, `
		UPDATE live_meetings SET captions = $2, transcript_id = $3, transcript_since = $4, last_transcript = $5
		WHERE meeting_key = $1`, key, sp.Captions, sp.Transcript, nullTime(sp.TranscriptSince), sp.LastTranscript))
	if err != nil {
		return fmt.Errorf("store: speech of live meeting %s: %w", key, err)
	}
	return nil
}

// EndLiveMeeting removes the record of a meeting that ended, with its
// messages; its transcript is the meeting's to end. A meeting without a
// record is not an error: it may have been ended already.
func (s *Store) EndLiveMeeting(ctx context.Context, key string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM live_meetings WHERE meeting_key = $1`, key); err != nil {
		return fmt.Errorf("store: end live meeting %s: %w", key, err)
	}
	return nil
}

// DropLiveMeeting removes the record of a meeting that nobody will
// continue (its node was lost and it was not taken over), with its
// messages, and ends its running transcript where its last words were. Its
// files are the caller's to remove. A meeting without a record is not an
// error.
func (s *Store) DropLiveMeeting(ctx context.Context, key string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		m, err := scanLiveMeeting(tx.QueryRowContext(ctx, `SELECT `+liveMeetingColumns+` FROM live_meetings WHERE meeting_key = $1`, key))
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		} else if err != nil {
			return err
		}
		return dropLiveMeeting(ctx, tx, m)
	})
	if err != nil {
		return fmt.Errorf("store: drop live meeting %s: %w", key, err)
	}
	return nil
}

// LiveMeetings returns the records of every live meeting, of every node,
// oldest first.
func (s *Store) LiveMeetings(ctx context.Context) ([]LiveMeeting, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+liveMeetingColumns+` FROM live_meetings ORDER BY started_at, meeting_key`)
	if err != nil {
		return nil, fmt.Errorf("store: live meetings: %w", err)
	}
	defer rows.Close()
	var list []LiveMeeting
	for rows.Next() {
		m, err := scanLiveMeeting(rows)
		if err != nil {
			return nil, fmt.Errorf("store: live meetings: %w", err)
		}
		list = append(list, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: live meetings: %w", err)
	}
	return list, nil
}

// EndUnclaimedTranscripts ends, where their last words were, the running
// transcripts that no live meeting names: those of a node that stopped
// between starting a transcript and recording it, or before live meetings
// were recorded. Only a caller that knows no meeting is starting one may
// call it, such as a single node at its start. It returns how many ended.
func (s *Store) EndUnclaimedTranscripts(ctx context.Context) (int, error) {
	var ended int
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `
			SELECT id FROM transcripts WHERE ended_at IS NULL
			AND id NOT IN (SELECT transcript_id FROM live_meetings)`)
		if err != nil {
			return err
		}
		var ids []TranscriptID
		for rows.Next() {
			var id TranscriptID
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		for _, id := range ids {
			if err := endAtLastWords(ctx, tx, id); err != nil {
				return fmt.Errorf("end transcript %s: %w", id, err)
			}
		}
		ended = len(ids)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: end unclaimed transcripts: %w", err)
	}
	return ended, nil
}
