package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/visio-meet/visio/internal/store"
)

func newTranscript(t *testing.T, s *store.Store, r store.Room, startedAt time.Time) store.TranscriptID {
	t.Helper()
	id, err := s.CreateTranscript(t.Context(), r.ID, "fr", "Alice", startedAt)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestTranscriptRoundTrip(t *testing.T) {
	forEachEngine(t, func(t *testing.T, ctx context.Context, s *store.Store) {
		alice := newUser(t, s, "alice", "Alice")
		r := newRoom(t, s, alice.ID, "Weekly")
		started := now().Add(-time.Hour)
		id := newTranscript(t, s, r, started)
		if len(id) < 26 || !isURLSafe(string(id)) {
			t.Errorf("transcript ID %q is not a long URL-safe string", id)
		}

		running, err := s.Transcript(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !running.EndedAt.IsZero() || len(running.Segments) != 0 || running.Summary != nil {
			t.Errorf("new transcript = %+v, want running, empty, without summary", running)
		}

		want := []store.TranscriptSegment{
			{ParticipantID: "p1", SpeakerName: "Alice", Start: 1500 * time.Millisecond, End: 4 * time.Second, Text: "Bonjour à tous.", Language: "fr"},
			{ParticipantID: "p2", SpeakerName: "Bob <b>", Start: 3 * time.Second, End: 3 * time.Second, Text: "Hello, everyone!", Language: "en"},
			{ParticipantID: "p1", SpeakerName: "Alice", Start: 62*time.Minute + 5*time.Millisecond, End: 63 * time.Minute, Text: "On commence ?"},
		}
		for i, seg := range want {
			seq, err := s.AppendSegment(ctx, id, seg)
			if err != nil {
				t.Fatal(err)
			}
			if seq != int64(i+1) {
				t.Errorf("segment %d got seq %d, want %d", i, seq, i+1)
			}
			want[i].Seq = seq
		}
		ended := started.Add(64 * time.Minute)
		if err := s.EndTranscript(ctx, id, ended); err != nil {
			t.Fatal(err)
		}
		if err := s.EndTranscript(ctx, id, ended.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}

		got, err := s.Transcript(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != id || got.RoomID != r.ID || got.RoomCode != r.Code || got.Language != "fr" || got.StartedBy != "Alice" {
			t.Errorf("transcript = %+v, want room %s (%s), fr, by Alice", got, r.ID, r.Code)
		}
		if !got.StartedAt.Equal(started) || !got.EndedAt.Equal(ended) {
			t.Errorf("times %v – %v, want %v – %v (the first end is kept)", got.StartedAt, got.EndedAt, started, ended)
		}
		if !slices.Equal(got.Segments, want) || got.SegmentCount != len(want) {
			t.Errorf("segments (%d):\n%+v\nwant\n%+v", got.SegmentCount, got.Segments, want)
		}
	})
}

func isURLSafe(s string) bool {
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func TestAppendSegmentConcurrently(t *testing.T) {
	forEachEngine(t, func(t *testing.T, ctx context.Context, s *store.Store) {
		alice := newUser(t, s, "alice", "Alice")
		id := newTranscript(t, s, newRoom(t, s, alice.ID, "Busy"), now())
		const speakers, each = 8, 10
		var wg sync.WaitGroup
		errs := make(chan error, speakers*each)
		for p := range speakers {
			wg.Go(func() {
				for i := range each {
					_, err := s.AppendSegment(ctx, id, store.TranscriptSegment{
						ParticipantID: fmt.Sprint("p", p), Start: time.Duration(i) * time.Second,
						End: time.Duration(i+1) * time.Second, Text: fmt.Sprintf("%d-%d", p, i),
					})
					if err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		got, err := s.Transcript(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Segments) != speakers*each {
			t.Fatalf("%d segments kept, want %d", len(got.Segments), speakers*each)
		}
		texts := map[string]bool{}
		for i, seg := range got.Segments {
			if seg.Seq != int64(i+1) {
				t.Errorf("segment %d has seq %d: seqs must run from 1 without gaps", i, seg.Seq)
			}
			texts[seg.Text] = true
		}
		if len(texts) != speakers*each {
			t.Errorf("%d distinct segments, want %d", len(texts), speakers*each)
		}
	})
}

func TestTranscriptsOfRoom(t *testing.T) {
	forEachEngine(t, func(t *testing.T, ctx context.Context, s *store.Store) {
		alice := newUser(t, s, "alice", "Alice")
		r, other := newRoom(t, s, alice.ID, "R"), newRoom(t, s, alice.ID, "Other")
		base := now().Add(-24 * time.Hour)
		older := newTranscript(t, s, r, base)
		newer := newTranscript(t, s, r, base.Add(time.Hour))
		newTranscript(t, s, other, base.Add(2*time.Hour))
		for i := range 3 {
			if _, err := s.AppendSegment(ctx, older, store.TranscriptSegment{Text: fmt.Sprint("line ", i)}); err != nil {
				t.Fatal(err)
			}
		}
		list, err := s.Transcripts(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].ID != newer || list[1].ID != older {
			t.Fatalf("Transcripts = %+v, want %s then %s", list, newer, older)
		}
		if list[0].SegmentCount != 0 || list[1].SegmentCount != 3 || list[1].Segments != nil {
			t.Errorf("counts %d, %d (segments %v), want 0, 3 and no segments",
				list[0].SegmentCount, list[1].SegmentCount, list[1].Segments)
		}
		if list[1].RoomCode != r.Code || !list[1].StartedAt.Equal(base) {
			t.Errorf("listed %+v, want room %s started at %v", list[1], r.Code, base)
		}
		if none, err := s.Transcripts(ctx, "room_nosuch"); err != nil || len(none) != 0 {
			t.Errorf("unknown room: %v, %v; want none", none, err)
		}

		if err := s.DeleteTranscript(ctx, older); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Transcript(ctx, older); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleted transcript: %v, want ErrNotFound", err)
		}
		if err := s.DeleteRoom(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Transcript(ctx, newer); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("transcript of a deleted room: %v, want ErrNotFound", err)
		}
	})
}

func TestTranscriptSummary(t *testing.T) {
	forEachEngine(t, func(t *testing.T, ctx context.Context, s *store.Store) {
		alice := newUser(t, s, "alice", "Alice")
		id := newTranscript(t, s, newRoom(t, s, alice.ID, "R"), now())
		summary := json.RawMessage(`{"short":"On a parlé du budget.","topics":["budget"],"action_items":[]}`)
		if err := s.SetTranscriptSummary(ctx, id, summary); err != nil {
			t.Fatal(err)
		}
		got, err := s.Transcript(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if string(got.Summary) != string(summary) {
			t.Errorf("summary = %s, want %s", got.Summary, summary)
		}
		if err := s.SetTranscriptSummary(ctx, id, json.RawMessage(`{"short":`)); err == nil {
			t.Error("a truncated JSON summary was accepted")
		}
		if err := s.SetTranscriptSummary(ctx, id, nil); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Transcript(ctx, id); err != nil || got.Summary != nil {
			t.Errorf("after removing the summary: %s, %v", got.Summary, err)
		}
	})
}

func TestTranscriptNotFound(t *testing.T) {
	forEachEngine(t, func(t *testing.T, ctx context.Context, s *store.Store) {
		const unknown = store.TranscriptID("tr_nosuch")
		seg := store.TranscriptSegment{Text: "hello"}
		if _, err := s.CreateTranscript(ctx, "room_nosuch", "en", "Alice", now()); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("CreateTranscript in an unknown room: %v, want ErrNotFound", err)
		}
		if _, err := s.AppendSegment(ctx, unknown, seg); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("AppendSegment: %v, want ErrNotFound", err)
		}
		if err := s.EndTranscript(ctx, unknown, now()); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("EndTranscript: %v, want ErrNotFound", err)
		}
		if err := s.SetTranscriptSummary(ctx, unknown, json.RawMessage(`{}`)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("SetTranscriptSummary: %v, want ErrNotFound", err)
		}
		if _, err := s.Transcript(ctx, unknown); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Transcript: %v, want ErrNotFound", err)
		}
		if err := s.DeleteTranscript(ctx, unknown); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("DeleteTranscript: %v, want ErrNotFound", err)
		}
	})
}

func TestAppendSegmentRefusesBadSegments(t *testing.T) {
	forEachEngine(t, func(t *testing.T, ctx context.Context, s *store.Store) {
		alice := newUser(t, s, "alice", "Alice")
		id := newTranscript(t, s, newRoom(t, s, alice.ID, "R"), now())
		for _, seg := range []store.TranscriptSegment{
			{Text: "  "},
			{Text: "before the start", Start: -time.Second},
			{Text: "ends before it starts", Start: 2 * time.Second, End: time.Second},
		} {
			if _, err := s.AppendSegment(ctx, id, seg); err == nil {
				t.Errorf("segment %+v was accepted", seg)
			}
		}
		if _, err := s.CreateTranscript(ctx, "room_x", "en", "", time.Time{}); err == nil {
			t.Error("a transcript without a start time was accepted")
		}
		if got, err := s.Transcript(ctx, id); err != nil || len(got.Segments) != 0 {
			t.Errorf("after refused segments: %d segments, %v", len(got.Segments), err)
		}
	})
}
