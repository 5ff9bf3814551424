package transcript

import (
	"encoding/json"
	"io"
	"time"

	"github.com/visio-meet/visio/internal/summary"
)

// Document is the JSON rendering of a transcript, the body of webhook
// deliveries. Its shape is stable: fields may be added, none renamed or
// removed. Times are RFC 3339 in UTC; segment times are milliseconds since
// started_at; segments are in the order spoken.
//
//	{
//	  "id": "tr_…", "room": "abc-defg-hij", "language": "fr",
//	  "started_at": "2026-12-01T14:03:00Z", "ended_at": "2026-12-01T15:10:00Z",
//	  "started_by": "Alice",
//	  "participants": [{"id": "p1", "name": "Alice"}],
//	  "segments": [{"participant": "p1", "speaker": "Alice", "start_ms": 1500,
//	                "end_ms": 4000, "text": "Bonjour.", "language": "fr"}],
//	  "summary": {"short": "…", "topics": ["…"], "action_items": ["…"]}
//	}
//
// ended_at is null while the meeting runs, summary is null until made;
// the lists are [] rather than null when empty.
type Document struct {
	ID           string                `json:"id"`
	Room         string                `json:"room"`
	Language     string                `json:"language"`
	StartedAt    time.Time             `json:"started_at"`
	EndedAt      *time.Time            `json:"ended_at"`
	StartedBy    string                `json:"started_by"`
	Participants []DocumentParticipant `json:"participants"`
	Segments     []DocumentSegment     `json:"segments"`
	Summary      *summary.Summary      `json:"summary"`
}

// DocumentParticipant is someone who spoke, with the last name they used.
type DocumentParticipant struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// DocumentSegment is one utterance.
type DocumentSegment struct {
	Participant string `json:"participant"`
	Speaker     string `json:"speaker"`
	StartMS     int64  `json:"start_ms"`
	EndMS       int64  `json:"end_ms"`
	Text        string `json:"text"`
	Language    string `json:"language"`
}

// NewDocument returns the JSON rendering of t.
func NewDocument(t Transcript) Document {
	d := Document{
		ID:           t.ID,
		Room:         t.Room,
		Language:     t.Language,
		StartedAt:    t.StartedAt.UTC(),
		StartedBy:    t.StartedBy,
		Participants: []DocumentParticipant{},
		Segments:     []DocumentSegment{},
		Summary:      t.Summary,
	}
	if !t.EndedAt.IsZero() {
		ended := t.EndedAt.UTC()
		d.EndedAt = &ended
	}
	for _, p := range t.Participants() {
		d.Participants = append(d.Participants, DocumentParticipant(p))
	}
	for _, seg := range t.Spoken() {
		d.Segments = append(d.Segments, DocumentSegment{
			Participant: seg.Participant,
			Speaker:     seg.Speaker,
			StartMS:     seg.Start.Milliseconds(),
			EndMS:       seg.End.Milliseconds(),
			Text:        seg.Text,
			Language:    seg.Language,
		})
	}
	if s := d.Summary; s != nil {
		// A summary from elsewhere may hold nil lists: [] keeps the shape.
		clean := *s
		if clean.Topics == nil {
			clean.Topics = []string{}
		}
		if clean.ActionItems == nil {
			clean.ActionItems = []string{}
		}
		d.Summary = &clean
	}
	return d
}

func writeJSON(w io.Writer, t Transcript) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // read by programs and people, never put in a page as is
	return enc.Encode(NewDocument(t))
}
