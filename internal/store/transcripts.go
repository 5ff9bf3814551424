package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/visio-meet/visio/internal/room"
)

// TranscriptID identifies a transcript. It is random and URL-safe, being
// shown in download links.
type TranscriptID string

// Transcript is what was said in one meeting of a room, from the moment a
// host started recording it.
type Transcript struct {
	ID       TranscriptID
	RoomID   RoomID
	RoomCode room.Code
	Language string
	// StartedBy is the display name of whoever started the recording.
	StartedBy string
	// EndedAt is zero while the transcript runs, and stays so if the server
	// stopped before its end.
	StartedAt, EndedAt time.Time
	// Summary is a JSON document, nil until one is set.
	Summary json.RawMessage
	// SegmentCount is the number of segments, set by Transcripts too.
	SegmentCount int
	// Segments, in order of arrival, are given by Transcript only.
	Segments  []TranscriptSegment
	CreatedAt time.Time
}

// TranscriptSegment is one final utterance of a transcript.
type TranscriptSegment struct {
	// Seq is the order of arrival, from 1, given by AppendSegment.
	Seq           int64
	ParticipantID string
	SpeakerName   string
	// Start and End are since the transcript's StartedAt, kept to the
	// millisecond.
	Start, End time.Duration
	Text       string
	Language   string
}

// newTranscriptID returns 128 random bits in lower-case base32, which any
// URL and file name can hold.
func newTranscriptID() TranscriptID {
	return TranscriptID(strings.ToLower(newID("tr_")))
}

const transcriptColumns = `t.id, t.room_id, r.code, t.language, t.started_by, t.started_at, t.ended_at,
	t.summary, t.segment_count, t.created_at`

func scanTranscript(row scanner) (Transcript, error) {
	var (
		t       Transcript
		ended   sql.NullTime
		summary sql.NullString
	)
	if err := row.Scan(&t.ID, &t.RoomID, &t.RoomCode, &t.Language, &t.StartedBy, &t.StartedAt, &ended,
		&summary, &t.SegmentCount, &t.CreatedAt); err != nil {
		return Transcript{}, err
	}
	t.StartedAt, t.EndedAt, t.CreatedAt = t.StartedAt.UTC(), fromNullTime(ended), t.CreatedAt.UTC()
	if summary.Valid {
		t.Summary = json.RawMessage(summary.String)
	}
	return t, nil
}

// CreateTranscript starts a transcript of a meeting in a room, begun at
// startedAt, and returns its ID. ErrNotFound if the room is not.
func (s *Store) CreateTranscript(ctx context.Context, id RoomID, language, startedBy string, startedAt time.Time) (TranscriptID, error) {
	if startedAt.IsZero() {
		return "", fmt.Errorf("store: create transcript in %s: no start time", id)
	}
	tid := newTranscriptID()
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO transcripts (id, room_id, language, started_by, started_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`,
		tid, id, language, startedBy, dbTime(startedAt), dbTime(time.Now()))
	if err != nil {
		return "", fmt.Errorf("store: create transcript in %s: %w", id, constraint(err))
	}
	return tid, nil
}

func checkSegment(seg TranscriptSegment) error {
	switch {
	case strings.TrimSpace(seg.Text) == "":
		return errors.New("segment has no text")
	case seg.Start < 0:
		return fmt.Errorf("segment starts at %v, before the transcript", seg.Start)
	case seg.End < seg.Start:
		return fmt.Errorf("segment ends at %v, before its start at %v", seg.End, seg.Start)
	}
	return nil
}

// AppendSegment adds a segment at the end of a transcript and returns the
// Seq it was given, the next one of that transcript even when several
// segments are appended at once. seg.Seq is ignored. ErrNotFound if the
// transcript is not.
func (s *Store) AppendSegment(ctx context.Context, id TranscriptID, seg TranscriptSegment) (int64, error) {
	if err := checkSegment(seg); err != nil {
		return 0, fmt.Errorf("store: append to transcript %s: %w", id, err)
	}
	var seq int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// The UPDATE locks the transcript's row until the commit, so that
		// concurrent appends take turns instead of computing the same seq.
		err := tx.QueryRowContext(ctx, `
			UPDATE transcripts SET segment_count = segment_count + 1 WHERE id = $1
			RETURNING segment_count`, id).Scan(&seq)
		if err != nil {
			return notFound(err)
		}
		_, err = tx.ExecContext(ctx, `
			INSERT INTO transcript_segments
				(transcript_id, seq, participant_id, speaker_name, start_ms, end_ms, text, language)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			id, seq, seg.ParticipantID, seg.SpeakerName, seg.Start.Milliseconds(), seg.End.Milliseconds(),
			seg.Text, seg.Language)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: append to transcript %s: %w", id, err)
	}
	return seq, nil
}

// EndTranscript records when a transcript ended. A transcript keeps its
// first end: ending it again changes nothing.
func (s *Store) EndTranscript(ctx context.Context, id TranscriptID, endedAt time.Time) error {
	if endedAt.IsZero() {
		return fmt.Errorf("store: end transcript %s: no end time", id)
	}
	err := affected(s.db.ExecContext(ctx, `UPDATE transcripts SET ended_at = COALESCE(ended_at, $2) WHERE id = $1`,
		id, dbTime(endedAt)))
	if err != nil {
		return fmt.Errorf("store: end transcript %s: %w", id, err)
	}
	return nil
}

// SetTranscriptSummary stores a JSON summary of a transcript, replacing any
// earlier one; nil removes it.
func (s *Store) SetTranscriptSummary(ctx context.Context, id TranscriptID, summary json.RawMessage) error {
	value := sql.NullString{String: string(summary), Valid: summary != nil}
	if summary != nil && !json.Valid(summary) {
		return fmt.Errorf("store: summary of transcript %s is not valid JSON", id)
	}
	if err := affected(s.db.ExecContext(ctx, `UPDATE transcripts SET summary = $2 WHERE id = $1`, id, value)); err != nil {
		return fmt.Errorf("store: summary of transcript %s: %w", id, err)
	}
	return nil
}

// Transcript returns a transcript with its segments in order of arrival.
func (s *Store) Transcript(ctx context.Context, id TranscriptID) (Transcript, error) {
	t, err := scanTranscript(s.db.QueryRowContext(ctx, `SELECT `+transcriptColumns+`
		FROM transcripts t JOIN rooms r ON r.id = t.room_id WHERE t.id = $1`, id))
	if err != nil {
		return Transcript{}, fmt.Errorf("store: transcript %s: %w", id, notFound(err))
	}
	rows, err := s.db.QueryContext(ctx, `
		SELECT seq, participant_id, speaker_name, start_ms, end_ms, text, language
		FROM transcript_segments WHERE transcript_id = $1 ORDER BY seq`, id)
	if err != nil {
		return Transcript{}, fmt.Errorf("store: segments of transcript %s: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			seg          TranscriptSegment
			startMS, end int64
		)
		if err := rows.Scan(&seg.Seq, &seg.ParticipantID, &seg.SpeakerName, &startMS, &end, &seg.Text, &seg.Language); err != nil {
			return Transcript{}, fmt.Errorf("store: segments of transcript %s: %w", id, err)
		}
		seg.Start, seg.End = time.Duration(startMS)*time.Millisecond, time.Duration(end)*time.Millisecond
		t.Segments = append(t.Segments, seg)
	}
	if err := rows.Err(); err != nil {
		return Transcript{}, fmt.Errorf("store: segments of transcript %s: %w", id, err)
	}
	// Segments appended between the two queries are in the list: the count
	// follows it.
	t.SegmentCount = len(t.Segments)
	return t, nil
}

// Transcripts returns the transcripts of a room, the newest first, without
// their segments. A room without transcripts, or no such room, has none.
func (s *Store) Transcripts(ctx context.Context, id RoomID) ([]Transcript, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+transcriptColumns+`
		FROM transcripts t JOIN rooms r ON r.id = t.room_id
		WHERE t.room_id = $1 ORDER BY t.started_at DESC, t.id`, id)
	if err != nil {
		return nil, fmt.Errorf("store: transcripts of %s: %w", id, err)
	}
	defer rows.Close()
	var list []Transcript
	for rows.Next() {
		t, err := scanTranscript(rows)
		if err != nil {
			return nil, fmt.Errorf("store: transcripts of %s: %w", id, err)
		}
		list = append(list, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: transcripts of %s: %w", id, err)
	}
	return list, nil
}

// DeleteTranscript deletes a transcript with its segments.
func (s *Store) DeleteTranscript(ctx context.Context, id TranscriptID) error {
	if err := affected(s.db.ExecContext(ctx, `DELETE FROM transcripts WHERE id = $1`, id)); err != nil {
		return fmt.Errorf("store: delete transcript %s: %w", id, err)
	}
	return nil
}
