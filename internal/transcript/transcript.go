// Package transcript keeps what was said in a meeting and gives it back to
// people and programs.
//
// A [Recorder] writes each final utterance to the store as it comes, so that
// a crash loses at most the few still queued. A finished transcript renders as
// Markdown, WebVTT, SubRip or JSON ([Render]), with headings in the meeting's
// language, and can be sent to a webhook ([Deliver]).
//
// # Webhook
//
// [Deliver] POSTs the JSON rendering (see [Document]) with these headers:
//
//	Content-Type: application/json
//	Visio-Event: transcript.ready
//	Visio-Delivery: <random hex, the same for the retries of one delivery>
//	Visio-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
//
// A receiver verifies a delivery by computing the HMAC-SHA256, keyed with the
// shared secret, of the t value, a full stop and the raw body as received; by
// comparing it in constant time with the v1 value; and by refusing a t too
// far from its own clock, which stops replays. [VerifySignature] does all
// three. A receiver answers 2xx once it has the transcript; network errors,
// 408, 429 and 5xx make Deliver try again, with the same Visio-Delivery, so
// that a receiver can ignore a repeat; other answers are final.
package transcript

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/visio-meet/visio/internal/store"
	"github.com/visio-meet/visio/internal/summary"
)

// Transcript is the text of one meeting.
type Transcript struct {
	ID       string
	Room     string // the room's code
	Language string // BCP 47 tag of the meeting's language
	// EndedAt is zero while the meeting runs, or if it never ended because
	// the server stopped.
	StartedAt, EndedAt time.Time
	StartedBy          string // display name of whoever started the transcript
	Segments           []Segment
	Summary            *summary.Summary // nil until the meeting is summarised
}

// Segment is one utterance.
type Segment struct {
	Participant string // the speaker's participant ID, stable for the meeting
	Speaker     string // the speaker's display name at the time
	Start, End  time.Duration
	Text        string
	Language    string
}

// Participant is someone who spoke.
type Participant struct {
	ID, Name string
}

// FromStore converts a stored transcript, with its segments and summary.
func FromStore(st store.Transcript) (Transcript, error) {
	t := Transcript{
		ID:        string(st.ID),
		Room:      string(st.RoomCode),
		Language:  st.Language,
		StartedAt: st.StartedAt,
		EndedAt:   st.EndedAt,
		StartedBy: st.StartedBy,
		Segments:  make([]Segment, 0, len(st.Segments)),
	}
	for _, seg := range st.Segments {
		t.Segments = append(t.Segments, Segment{
			Participant: seg.ParticipantID,
			Speaker:     seg.SpeakerName,
			Start:       seg.Start,
			End:         seg.End,
			Text:        seg.Text,
			Language:    seg.Language,
		})
	}
	if st.Summary != nil {
		var s summary.Summary
		if err := json.Unmarshal(st.Summary, &s); err != nil {
			return Transcript{}, fmt.Errorf("transcript %s: stored summary: %w", st.ID, err)
		}
		t.Summary = &s
	}
	return t, nil
}

// Spoken returns the segments in the order they were spoken: by start, and
// in order of arrival for equal starts. Segments are stored as they arrive,
// and a long utterance ends, and so arrives, after shorter ones begun later.
func (t Transcript) Spoken() []Segment {
	segs := slices.Clone(t.Segments)
	slices.SortStableFunc(segs, func(a, b Segment) int { return cmp.Compare(a.Start, b.Start) })
	return segs
}

// Participants returns those who spoke, in the order they first spoke,
// each with the last name they used.
func (t Transcript) Participants() []Participant {
	var list []Participant
	index := map[string]int{}
	for _, seg := range t.Spoken() {
		key := speakerKey(seg)
		if i, ok := index[key]; ok {
			if seg.Speaker != "" {
				list[i].Name = seg.Speaker
			}
			continue
		}
		index[key] = len(list)
		list = append(list, Participant{ID: seg.Participant, Name: seg.Speaker})
	}
	return list
}

// Lines returns the segments as a summary client reads them.
func (t Transcript) Lines() []summary.Line {
	var lines []summary.Line
	for _, seg := range t.Spoken() {
		lines = append(lines, summary.Line{Speaker: seg.Speaker, Text: seg.Text, Start: seg.Start})
	}
	return lines
}

// speakerKey tells speakers apart: by participant id, or, for a segment
// without one, by name (one person per name).
func speakerKey(seg Segment) string {
	if seg.Participant == "" {
		return "name:" + seg.Speaker
	}
	return seg.Participant
}
