package server

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/visio-meet/visio/internal/chatfiles"
	"github.com/visio-meet/visio/internal/room"
	"github.com/visio-meet/visio/internal/speech"
	"github.com/visio-meet/visio/internal/store"
	"github.com/visio-meet/visio/internal/store/storetest"
)

// keptRoom opens a store on SQLite with one room in it.
func keptRoom(t *testing.T) (*store.Store, store.Room) {
	t.Helper()
	st, err := store.Open(t.Context(), storetest.SQLite(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	u, err := st.UpsertUser(t.Context(), store.User{Issuer: "https://id.example", Subject: "alice", Name: "Alice"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := st.CreateRoom(t.Context(), store.Room{Code: room.NewCode(), Settings: openRoom}, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return st, r
}

func TestTheSweepRemovesWhatACrashLeft(t *testing.T) {
	ctx := t.Context()
	st, r := keptRoom(t)
	log := slog.New(slog.DiscardHandler)
	files := chatfiles.NewDisk(t.TempDir(), log)
	started := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
	tid, err := st.CreateTranscript(ctx, r.ID, "fr", "Alice", started)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.AppendSegment(ctx, tid, store.TranscriptSegment{Start: time.Minute, End: 2 * time.Minute, Text: "bonjour"}); err != nil {
		t.Fatal(err)
	}
	key := string(r.Code) + "_crashed"
	if _, err := st.StartLiveMeeting(ctx, store.LiveMeeting{Key: key, Code: r.Code, StartedAt: started,
		Speech: store.LiveSpeech{Transcript: tid, TranscriptSince: started}}); err != nil {
		t.Fatal(err)
	}
	f, err := files.Put(ctx, key, "plan.txt", "text/plain", strings.NewReader("ordre du jour"), 1<<10)
	if err != nil {
		t.Fatal(err)
	}
	// Started by a meeting that crashed before it could record it.
	orphan, err := st.CreateTranscript(ctx, r.ID, "fr", "Alice", started.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}

	sweepLiveMeetings(ctx, st, files, log)

	if list, err := st.LiveMeetings(ctx); err != nil || len(list) != 0 {
		t.Errorf("after the sweep, live meetings are %+v (%v)", list, err)
	}
	if _, _, err := files.Open(ctx, f.ID); !errors.Is(err, chatfiles.ErrNotFound) {
		t.Errorf("the file of the crashed meeting is still there: %v", err)
	}
	tr, err := st.Transcript(ctx, tid)
	if err != nil {
		t.Fatal(err)
	}
	if want := started.Add(2 * time.Minute); !tr.EndedAt.Equal(want) {
		t.Errorf("the crashed meeting's transcript ended at %v, want at its last words, %v", tr.EndedAt, want)
	}
	if tr, err := st.Transcript(ctx, orphan); err != nil || !tr.EndedAt.Equal(tr.StartedAt) {
		t.Errorf("a transcript the crashed meeting had not recorded ends at %v (%v), want its start", tr.EndedAt, err)
	}
}

func TestAResumedTranscriptGoesOnAndEnds(t *testing.T) {
	ctx := t.Context()
	st, r := keptRoom(t)
	started := time.Now().Add(-time.Minute)
	tid, err := st.CreateTranscript(ctx, r.ID, "fr", "Alice", started)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.AppendSegment(ctx, tid, store.TranscriptSegment{ParticipantID: "p1", SpeakerName: "Alice",
		Start: time.Second, End: 2 * time.Second, Text: "avant"}); err != nil {
		t.Fatal(err)
	}
	keeper := &transcriptKeeper{store: st, log: slog.New(slog.DiscardHandler), ctx: context.Background()}
	resumed, err := keeper.Resume(ctx, string(tid))
	if err != nil {
		t.Fatal(err)
	}
	resumed.Add(speech.Segment{Participant: "p2", Name: "Bob", Start: 50 * time.Second, End: 55 * time.Second, Text: "après", Final: true})
	resumed.Add(speech.Segment{Participant: "p2", Name: "Bob", Start: 56 * time.Second, End: 57 * time.Second, Text: "apr", Final: false})
	if err := resumed.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	tr, err := st.Transcript(ctx, tid)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Segments) != 2 || tr.Segments[1].Text != "après" || tr.Segments[1].SpeakerName != "Bob" || tr.Segments[1].Start != 50*time.Second {
		t.Errorf("segments after resuming: %+v", tr.Segments)
	}
	if tr.EndedAt.Before(started) {
		t.Errorf("the resumed transcript ended at %v, want after its start %v", tr.EndedAt, started)
	}
	if _, err := keeper.Resume(ctx, string(tid)); err == nil {
		t.Error("an ended transcript was resumed")
	}
}
