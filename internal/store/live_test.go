package store_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/visio-meet/visio/internal/room"
	"github.com/visio-meet/visio/internal/store"
)

func startLive(t *testing.T, s *store.Store, m store.LiveMeeting) *store.LiveMeeting {
	t.Helper()
	stale, err := s.StartLiveMeeting(t.Context(), m)
	if err != nil {
		t.Fatal(err)
	}
	return stale
}

func appendLive(t *testing.T, s *store.Store, key string, keepFrom uint64, msgs ...store.LiveMessage) {
	t.Helper()
	for _, msg := range msgs {
		if err := s.AppendLiveMessage(t.Context(), key, msg, keepFrom); err != nil {
			t.Fatal(err)
		}
	}
}

func loadLive(t *testing.T, s *store.Store, code room.Code) (store.LiveMeeting, []store.LiveMessage) {
	t.Helper()
	m, msgs, err := s.LiveMeeting(t.Context(), code)
	if err != nil {
		t.Fatal(err)
	}
	return m, msgs
}

func TestLiveMeetingRoundTrip(t *testing.T) {
	forEachEngine(t, func(t *testing.T, ctx context.Context, s *store.Store) {
		code := room.NewCode()
		started := now().Add(-time.Hour)
		meeting := store.LiveMeeting{Key: string(code) + "_k1", Code: code, StartedAt: started}
		if stale := startLive(t, s, meeting); stale != nil {
			t.Fatalf("a first meeting replaced %+v", stale)
		}
		sent := started.Add(time.Minute).Truncate(time.Millisecond)
		messages := []store.LiveMessage{
			{ID: 1, At: sent, ParticipantID: "p1", SenderName: "Alice", ClientID: "c1", Text: "Bonjour à tous"},
			{ID: 2, At: sent.Add(time.Second), ParticipantID: "p2", SenderName: "Bob", Text: "le plan",
				File: &store.LiveFile{ID: "f_abc", Name: "plan.pdf", Type: "application/pdf", Size: 12345}},
			{ID: 3, At: sent.Add(2 * time.Second), ParticipantID: "p1", SenderName: "Alice", ClientID: "c2", Text: "à effacer",
				File: &store.LiveFile{ID: "f_def", Name: "x.png", Type: "image/png", Size: 9}},
		}
		appendLive(t, s, meeting.Key, 1, messages...)
		if err := s.DeleteLiveMessage(ctx, meeting.Key, 3); err != nil {
			t.Fatal(err)
		}
		speech := store.LiveSpeech{Captions: true, Transcript: "tr_running", TranscriptSince: started.Add(5 * time.Minute),
			LastTranscript: "tr_done"}
		if err := s.SetLiveSpeech(ctx, meeting.Key, speech); err != nil {
			t.Fatal(err)
		}

		got, gotMessages := loadLive(t, s, code)
		meeting.Speech = speech
		if !reflect.DeepEqual(got, meeting) {
			t.Errorf("record = %+v, want %+v", got, meeting)
		}
		messages[2].Text, messages[2].File, messages[2].Deleted = "", nil, true
		if !reflect.DeepEqual(gotMessages, messages) {
			t.Errorf("messages = %+v, want %+v", gotMessages, messages)
		}
		list, err := s.LiveMeetings(ctx)
		if err != nil || len(list) != 1 || list[0].Key != meeting.Key {
			t.Fatalf("live meetings = %+v, %v", list, err)
		}

		if err := s.EndLiveMeeting(ctx, meeting.Key); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.LiveMeeting(ctx, code); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("an ended meeting is still found: %v", err)
		}
		if list, err := s.LiveMeetings(ctx); err != nil || len(list) != 0 {
			t.Errorf("live meetings after the end = %+v, %v", list, err)
		}
		err = s.AppendLiveMessage(ctx, meeting.Key, store.LiveMessage{ID: 4, At: sent, ParticipantID: "p1", Text: "late"}, 1)
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a message appended to an ended meeting: %v", err)
		}
		if err := s.EndLiveMeeting(ctx, meeting.Key); err != nil {
			t.Errorf("ending again: %v", err)
		}
	})
}

func TestLiveMessagesBeforeKeepFromAreForgotten(t *testing.T) {
	forEachEngine(t, func(t *testing.T, ctx context.Context, s *store.Store) {
		code := room.NewCode()
		key := string(code) + "_k1"
		startLive(t, s, store.LiveMeeting{Key: key, Code: code, StartedAt: now()})
		for id := uint64(1); id <= 5; id++ {
			appendLive(t, s, key, max(id, 2)-1, store.LiveMessage{ID: id, At: now(), ParticipantID: "p1", Text: "m"})
		}
		appendLive(t, s, key, 4, store.LiveMessage{ID: 6, At: now(), ParticipantID: "p1", Text: "m"})
		_, msgs := loadLive(t, s, code)
		var ids []uint64
		for _, m := range msgs {
			ids = append(ids, m.ID)
		}
		if !reflect.DeepEqual(ids, []uint64{4, 5, 6}) {
			t.Errorf("messages kept: %v, want 4 to 6", ids)
		}
		err := s.AppendLiveMessage(ctx, key, store.LiveMessage{ID: 6, At: now(), ParticipantID: "p2", Text: "again"}, 4)
		if !errors.Is(err, store.ErrConflict) {
			t.Errorf("a second message 6: %v", err)
		}
	})
}

func TestAFreshMeetingReplacesAStaleOne(t *testing.T) {
	forEachEngine(t, func(t *testing.T, ctx context.Context, s *store.Store) {
		alice := newUser(t, s, "alice", "Alice")
		r := newRoom(t, s, alice.ID, "Weekly")
		started := now().Add(-2 * time.Hour)
		transcript := newTranscript(t, s, r, started.Add(time.Minute))
		for _, end := range []time.Duration{10 * time.Second, 95 * time.Second} {
			if _, err := s.AppendSegment(ctx, transcript, store.TranscriptSegment{Start: end - time.Second, End: end, Text: "oui"}); err != nil {
				t.Fatal(err)
			}
		}
		stale := store.LiveMeeting{Key: string(r.Code) + "_old", Code: r.Code, StartedAt: started,
			Speech: store.LiveSpeech{Transcript: transcript, TranscriptSince: started.Add(time.Minute)}}
		startLive(t, s, stale)
		appendLive(t, s, stale.Key, 1, store.LiveMessage{ID: 1, At: started, ParticipantID: "p1", Text: "old news"})

		fresh := store.LiveMeeting{Key: string(r.Code) + "_new", Code: r.Code, StartedAt: now()}
		replaced := startLive(t, s, fresh)
		if replaced == nil || replaced.Key != stale.Key {
			t.Fatalf("replaced %+v, want the stale meeting %s", replaced, stale.Key)
		}
		got, msgs := loadLive(t, s, r.Code)
		if got.Key != fresh.Key || len(msgs) != 0 {
			t.Errorf("the fresh meeting is %+v with %d messages", got, len(msgs))
		}
		tr, err := s.Transcript(ctx, transcript)
		if err != nil {
			t.Fatal(err)
		}
		if want := started.Add(time.Minute + 95*time.Second); !tr.EndedAt.Equal(want) {
			t.Errorf("the stale meeting's transcript ended at %v, want its last words at %v", tr.EndedAt, want)
		}
		err = s.AppendLiveMessage(ctx, stale.Key, store.LiveMessage{ID: 2, At: now(), ParticipantID: "p1", Text: "zombie"}, 1)
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the stale meeting still takes messages: %v", err)
		}
	})
}

func TestDroppingALostMeetingEndsItsTranscript(t *testing.T) {
	forEachEngine(t, func(t *testing.T, ctx context.Context, s *store.Store) {
		alice := newUser(t, s, "alice", "Alice")
		r := newRoom(t, s, alice.ID, "Weekly")
		since := now().Add(-time.Hour)
		transcript := newTranscript(t, s, r, since)
		lost := store.LiveMeeting{Key: string(r.Code) + "_lost", Code: r.Code, StartedAt: since,
			Speech: store.LiveSpeech{Transcript: transcript, TranscriptSince: since}}
		startLive(t, s, lost)
		appendLive(t, s, lost.Key, 1, store.LiveMessage{ID: 1, At: since, ParticipantID: "p1", Text: "hello"})
		if err := s.DropLiveMeeting(ctx, lost.Key); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.LiveMeeting(ctx, r.Code); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a dropped meeting is still found: %v", err)
		}
		tr, err := s.Transcript(ctx, transcript)
		if err != nil {
			t.Fatal(err)
		}
		if !tr.EndedAt.Equal(since) {
			t.Errorf("a transcript without segments ended at %v, want its start %v", tr.EndedAt, since)
		}
		if err := s.DropLiveMeeting(ctx, lost.Key); err != nil {
			t.Errorf("dropping again: %v", err)
		}
		// A transcript deleted while its meeting ran does not stop the drop.
		deleted := newTranscript(t, s, r, since)
		other := store.LiveMeeting{Key: string(r.Code) + "_other", Code: r.Code, StartedAt: since,
			Speech: store.LiveSpeech{Transcript: deleted, TranscriptSince: since}}
		startLive(t, s, other)
		if err := s.DeleteTranscript(ctx, deleted); err != nil {
			t.Fatal(err)
		}
		if err := s.DropLiveMeeting(ctx, other.Key); err != nil {
			t.Errorf("dropping a meeting whose transcript was deleted: %v", err)
		}
	})
}

func TestUnclaimedTranscriptsEndAtTheirLastWords(t *testing.T) {
	forEachEngine(t, func(t *testing.T, ctx context.Context, s *store.Store) {
		alice := newUser(t, s, "alice", "Alice")
		r := newRoom(t, s, alice.ID, "Weekly")
		since := now().Add(-time.Hour)
		orphan := newTranscript(t, s, r, since)
		if _, err := s.AppendSegment(ctx, orphan, store.TranscriptSegment{Start: time.Second, End: 3 * time.Second, Text: "seul"}); err != nil {
			t.Fatal(err)
		}
		claimed := newTranscript(t, s, r, since)
		startLive(t, s, store.LiveMeeting{Key: string(r.Code) + "_k", Code: r.Code, StartedAt: since,
			Speech: store.LiveSpeech{Transcript: claimed, TranscriptSince: since}})
		finished := newTranscript(t, s, r, since)
		if err := s.EndTranscript(ctx, finished, since.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}

		n, err := s.EndUnclaimedTranscripts(ctx)
		if err != nil || n != 1 {
			t.Fatalf("%d transcripts ended (%v), want the one nobody claims", n, err)
		}
		for id, want := range map[store.TranscriptID]time.Time{orphan: since.Add(3 * time.Second), claimed: {},
			finished: since.Add(time.Minute)} {
			tr, err := s.Transcript(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if !tr.EndedAt.Equal(want) {
				t.Errorf("transcript %s ends at %v, want %v", id, tr.EndedAt, want)
			}
		}
	})
}
