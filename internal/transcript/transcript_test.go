package transcript

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/visio-meet/visio/internal/store"
	"github.com/visio-meet/visio/internal/summary"
)

func TestFromStore(t *testing.T) {
	st := store.Transcript{
		ID: "tr_1", RoomCode: "abc-defg-hij", Language: "nl", StartedBy: "Alice",
		StartedAt: meetingStart, EndedAt: meetingStart.Add(time.Hour),
		Summary: json.RawMessage(`{"short":"Kort.","topics":["Budget"],"action_items":[]}`),
		Segments: []store.TranscriptSegment{
			{Seq: 1, ParticipantID: "p2", SpeakerName: "Bob", Start: 5 * time.Second, End: 6 * time.Second, Text: "Ja.", Language: "nl"},
			{Seq: 2, ParticipantID: "p1", SpeakerName: "iPhone", Start: time.Second, End: 7 * time.Second, Text: "Hallo allemaal.", Language: "nl"},
			{Seq: 3, ParticipantID: "p1", SpeakerName: "Alice", Start: 8 * time.Second, End: 9 * time.Second, Text: "Goed.", Language: "nl"},
		},
	}
	tr, err := FromStore(st)
	if err != nil {
		t.Fatal(err)
	}
	if tr.ID != "tr_1" || tr.Room != "abc-defg-hij" || tr.Language != "nl" || !tr.EndedAt.Equal(st.EndedAt) || len(tr.Segments) != 3 {
		t.Errorf("converted %+v", tr)
	}
	if tr.Summary == nil || tr.Summary.Short != "Kort." || !slices.Equal(tr.Summary.Topics, []string{"Budget"}) {
		t.Errorf("summary %+v", tr.Summary)
	}
	// In spoken order; a participant who renamed themselves keeps one
	// entry, under the last name.
	want := []Participant{{ID: "p1", Name: "Alice"}, {ID: "p2", Name: "Bob"}}
	if got := tr.Participants(); !slices.Equal(got, want) {
		t.Errorf("participants %+v, want %+v", got, want)
	}
	lines := tr.Lines()
	if len(lines) != 3 || lines[0] != (summary.Line{Speaker: "iPhone", Text: "Hallo allemaal.", Start: time.Second}) {
		t.Errorf("lines for the summary %+v", lines)
	}

	st.Summary = json.RawMessage(`{"short":`)
	if _, err := FromStore(st); err == nil {
		t.Error("a damaged stored summary went unnoticed")
	}
}
