package transcript

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/visio-meet/visio/internal/room"
	"github.com/visio-meet/visio/internal/speech"
	"github.com/visio-meet/visio/internal/store"
	"github.com/visio-meet/visio/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// openStore returns a store with one room, on a real database.
func openStore(t *testing.T, url string) (*store.Store, store.Room) {
	t.Helper()
	st, err := store.Open(t.Context(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	u, err := st.UpsertUser(t.Context(), store.User{Issuer: "https://id.example", Subject: "alice", Name: "Alice"})
	if err != nil {
		t.Fatal(err)
	}
	rm, err := st.CreateRoom(t.Context(), store.Room{Code: room.NewCode(), Settings: room.Settings{Access: room.Public, Publishing: room.Everything}}, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return st, rm
}

func final(who, name, text string, start, end time.Duration) speech.Segment {
	return speech.Segment{Participant: who, Name: name, Text: text, Start: start, End: end, Language: "en", Final: true}
}

func TestRecorderWritesFinalsAsTheyCome(t *testing.T) {
	t.Parallel()
	storetest.Engines(t, func(t *testing.T, url string) {
		st, rm := openStore(t, url)
		started := time.Now().UTC().Truncate(time.Second)
		rec, err := Start(t.Context(), st, string(rm.Code), "en", "Alice", started)
		if err != nil {
			t.Fatal(err)
		}
		rec.Add(speech.Segment{Participant: "p1", Name: "Alice", Text: "hel", Start: time.Second}) // partial
		rec.Add(final("p1", "Alice", "Hello everyone.", time.Second, 2*time.Second))
		rec.Add(final("p2", "Bob", "   ", 3*time.Second, 4*time.Second)) // nothing heard
		rec.Add(final("p2", "Bob", "Hi Alice.", 3*time.Second, 4*time.Second))

		// Written before the end: a crash now would keep both.
		deadline := time.Now().Add(10 * time.Second)
		for {
			stored, err := st.Transcript(t.Context(), store.TranscriptID(rec.ID()))
			if err != nil {
				t.Fatal(err)
			}
			if len(stored.Segments) == 2 && stored.EndedAt.IsZero() {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after 10 s the store holds %d segments of the running transcript, want 2", len(stored.Segments))
			}
			time.Sleep(10 * time.Millisecond)
		}

		rec.Add(final("p1", "Alice", "Let's start.", 5*time.Second, 6*time.Second))
		got, err := rec.Stop(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != rec.ID() || got.Room != string(rm.Code) || got.StartedBy != "Alice" || !got.StartedAt.Equal(started) {
			t.Errorf("transcript %+v", got)
		}
		if got.EndedAt.Before(started) || got.EndedAt.IsZero() {
			t.Errorf("ended at %v, started at %v", got.EndedAt, started)
		}
		var texts []string
		for _, seg := range got.Segments {
			texts = append(texts, seg.Speaker+": "+seg.Text)
		}
		if fmt.Sprint(texts) != "[Alice: Hello everyone. Bob: Hi Alice. Alice: Let's start.]" {
			t.Errorf("segments %q", texts)
		}
		if got.Segments[1].Start != 3*time.Second || got.Segments[1].End != 4*time.Second || got.Segments[1].Participant != "p2" {
			t.Errorf("Bob's segment %+v", got.Segments[1])
		}
		rec.Add(final("p1", "Alice", "Too late.", 7*time.Second, 8*time.Second))
		if s := rec.Stats(); s.Written != 3 || s.Dropped != 1 || s.Failed != 0 {
			t.Errorf("stats %+v, want 3 written and the segment after Stop dropped", s)
		}
		if _, err := rec.Stop(t.Context()); !errors.Is(err, ErrStopped) {
			t.Errorf("second Stop: %v", err)
		}
	})
}

func TestRecorderNeedsAKeptRoom(t *testing.T) {
	st, _ := openStore(t, storetest.SQLite(t))
	_, err := Start(t.Context(), st, string(room.NewCode()), "en", "Alice", time.Now())
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unregistered room: %v, want ErrNotFound", err)
	}
	if _, err := Start(t.Context(), st, "not a code", "en", "Alice", time.Now()); err == nil {
		t.Error("an invalid room code was accepted")
	}
}

// flakySink is a store whose appends fail or wait as a test says.
type flakySink struct {
	mu       sync.Mutex
	failures int           // transient failures still to give
	fail     error         // when set, every append fails with it
	gate     chan struct{} // when set, appends wait for it
	segments []store.TranscriptSegment
	ended    time.Time
}

func (f *flakySink) RoomByCode(_ context.Context, code room.Code) (store.Room, error) {
	return store.Room{ID: "room_1", Code: code}, nil
}

func (f *flakySink) CreateTranscript(context.Context, store.RoomID, string, string, time.Time) (store.TranscriptID, error) {
	return "tr_1", nil
}

func (f *flakySink) AppendSegment(ctx context.Context, _ store.TranscriptID, seg store.TranscriptSegment) (int64, error) {
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return 0, f.fail
	}
	if f.failures > 0 {
		f.failures--
		return 0, errors.New("database is restarting")
	}
	f.segments = append(f.segments, seg)
	return int64(len(f.segments)), nil
}

func (f *flakySink) EndTranscript(_ context.Context, _ store.TranscriptID, at time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ended = at
	return nil
}

func (f *flakySink) Transcript(context.Context, store.TranscriptID) (store.Transcript, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return store.Transcript{ID: "tr_1", Segments: f.segments, EndedAt: f.ended}, nil
}

func fastRetries(o *options) {
	o.retry = retryPolicy{attempts: 4, first: time.Millisecond, longest: 5 * time.Millisecond, dropLogInterval: 100}
}

func TestRecorderRetriesTransientErrors(t *testing.T) {
	sink := &flakySink{failures: 3}
	rec, err := start(t.Context(), sink, "abc-defg-hij", "en", "Alice", time.Now(), fastRetries)
	if err != nil {
		t.Fatal(err)
	}
	rec.Add(final("p1", "Alice", "one", 0, time.Second))
	rec.Add(final("p1", "Alice", "two", time.Second, 2*time.Second))
	got, err := rec.Stop(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Segments) != 2 || got.Segments[0].Text != "one" || rec.Stats().Failed != 0 {
		t.Errorf("after 3 transient failures: %+v, stats %+v", got.Segments, rec.Stats())
	}
}

func TestRecorderGivesUpOnADeletedTranscript(t *testing.T) {
	sink := &flakySink{fail: fmt.Errorf("store: append: %w", store.ErrNotFound)}
	rec, err := start(t.Context(), sink, "abc-defg-hij", "en", "Alice", time.Now(), fastRetries)
	if err != nil {
		t.Fatal(err)
	}
	rec.Add(final("p1", "Alice", "one", 0, time.Second))
	if _, err := rec.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	if s := rec.Stats(); s.Failed != 1 || s.Written != 0 {
		t.Errorf("stats %+v, want the segment lost", s)
	}
}

func TestRecorderNeverBlocksTheMeeting(t *testing.T) {
	sink := &flakySink{gate: make(chan struct{})} // a store that hangs
	rec, err := start(t.Context(), sink, "abc-defg-hij", "en", "Alice", time.Now(), fastRetries, WithQueueSize(4))
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	for i := range 50 {
		rec.Add(final("p1", "Alice", fmt.Sprint("line ", i), time.Duration(i)*time.Second, time.Duration(i+1)*time.Second))
	}
	if elapsed := time.Since(began); elapsed > time.Second {
		t.Errorf("50 Adds to a hung store took %v", elapsed)
	}
	// One segment is held by the writer, four wait: the rest are dropped.
	if d := rec.Stats().Dropped; d < 50-5 {
		t.Errorf("%d segments dropped, want at least 45", d)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := rec.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Stop on a hung store: %v, want the deadline", err)
	}
	if s := rec.Stats(); s.Written != 0 || s.Dropped+s.Failed != 50 {
		t.Errorf("stats %+v: every segment is accounted for", s)
	}
}
