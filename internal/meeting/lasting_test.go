package meeting

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/visio-meet/visio/internal/chatfiles"
	"github.com/visio-meet/visio/internal/protocol"
	"github.com/visio-meet/visio/internal/room"
	"github.com/visio-meet/visio/internal/store"
	"github.com/visio-meet/visio/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// world is what the nodes of a test share: the database, a room kept in
// it, and where chat files are (a bucket, in a cluster).
type world struct {
	st    *store.Store
	code  room.Code
	files chatfiles.Store
}

func newWorld(t testing.TB, url string) world {
	t.Helper()
	st, err := store.Open(t.Context(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	u, err := st.UpsertUser(t.Context(), store.User{Issuer: "https://id.example", Subject: "alice", Name: "Alice"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := st.CreateRoom(t.Context(), store.Room{Code: room.NewCode(), Name: "Weekly",
		Settings: room.Settings{Access: room.Public, Publishing: room.Everything}}, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return world{st: st, code: r.Code, files: chatfiles.NewDisk(t.TempDir(), slog.New(slog.DiscardHandler))}
}

func (w world) node(t *testing.T, moved bool) *Registry {
	return startNode(t, StoredState{w.st}, storeTranscripts{w.st}, w.files, moved)
}

func host(name string) Arrival {
	return Arrival{Name: name, Identity: Identity{SignedIn: true, Role: room.Owner}}
}

func join(t *testing.T, r *Registry, code room.Code, a Arrival) (*Participant, *inbox) {
	t.Helper()
	b := &inbox{}
	p, err := r.Join(t.Context(), code, a, b)
	if err != nil {
		t.Fatal(err)
	}
	return p, b
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// endMeeting has everyone leave, and waits for what the end removes.
func endMeeting(t *testing.T, r *Registry, everyone ...*Participant) {
	t.Helper()
	for _, p := range everyone {
		p.Leave(protocol.ReasonLeft)
	}
	must(t, r.Wait(t.Context()))
}

// lostMeeting is a meeting of node A in w's room, with a shared file, three
// messages (the last deleted) and a running transcript with one segment, as
// A leaves it when it is lost.
type lostMeeting struct {
	alice      *Participant
	file       protocol.ChatFile
	transcript store.TranscriptID
	speech     *protocol.Speech // as Alice last saw it
}

func loseMeeting(t *testing.T, w world) lostMeeting {
	t.Helper()
	ctx := t.Context()
	a := w.node(t, false)
	alice, aliceInbox := join(t, a, w.code, host("Alice"))
	on := true
	must(t, alice.ControlSpeech(ctx, &protocol.SpeechControl{Captions: &on, Transcribe: &on}))
	m := a.Meeting(w.code)
	file, err := m.Upload(ctx, alice.ID(), "plan.txt", "text/plain", strings.NewReader("ordre du jour"))
	must(t, err)
	must(t, alice.SendChat("le plan", file.ID, "c1"))
	must(t, alice.SendChat("bonjour", "", "c2"))
	must(t, alice.SendChat("oups", "", "c3"))
	must(t, alice.DeleteChat(ctx, 3))
	say(m, alice, "avant la panne")
	m.mu.Lock()
	id := store.TranscriptID(m.speech.transcript.ID())
	m.mu.Unlock()
	abandon(a)
	return lostMeeting{alice: alice, file: file, transcript: id, speech: latest[*protocol.Speech](t, aliceInbox)}
}

func TestAMovedMeetingContinuesTheLostOne(t *testing.T) {
	t.Parallel()
	storetest.Engines(t, func(t *testing.T, url string) {
		ctx := t.Context()
		w := newWorld(t, url)
		lost := loseMeeting(t, w)

		b := w.node(t, true)
		bob, bobInbox := join(t, b, w.code, host("Bob"))
		history := latest[*protocol.ChatHistory](t, bobInbox).Messages
		if len(history) != 3 {
			t.Fatalf("Bob's history after the move has %d messages, want the 3 of the lost node: %+v", len(history), history)
		}
		from := string(lost.alice.ID())
		first, second, third := history[0], history[1], history[2]
		if first.ID != 1 || first.Text != "le plan" || first.From != from || first.Name != "Alice" || first.File == nil ||
			*first.File != lost.file {
			t.Errorf("message 1 = %+v with file %+v, want Alice's plan, shared as %+v", first, first.File, lost.file)
		}
		if second.ID != 2 || second.Text != "bonjour" || second.Deleted || second.ClientID != "" {
			t.Errorf("message 2 = %+v", second)
		}
		if third.ID != 3 || !third.Deleted || third.Text != "" {
			t.Errorf("message 3 = %+v, want deleted", third)
		}
		sp := latest[*protocol.Speech](t, bobInbox)
		if !sp.Captions || !sp.Transcribing || sp.TranscribingSince != lost.speech.TranscribingSince {
			t.Errorf("Bob is told %+v, want captions and the transcription on as Alice saw them: %+v", sp, lost.speech)
		}

		m := b.Meeting(w.code)
		_, content, err := m.OpenFile(ctx, lost.file.ID)
		must(t, err)
		body, err := io.ReadAll(content)
		content.Close()
		if err != nil || string(body) != "ordre du jour" {
			t.Errorf("the shared file downloads as %q, %v", body, err)
		}

		must(t, bob.SendChat("me voici", "", "b1"))
		if ids := chatIDs(bobInbox); !slices.Equal(ids, []uint64{4}) {
			t.Errorf("Bob's message got id %v, want 4, after the lost node's", ids)
		}
		// Alice's app comes back, as a new participant, and sends again a
		// message the lost node posted before she heard so.
		alice, aliceInbox := join(t, b, w.code, host("Alice"))
		must(t, alice.SendChat("bonjour", "", "c2"))
		if got := received[*protocol.Chat](aliceInbox); len(got) != 1 || got[0].ID != 2 || got[0].ClientID != "c2" {
			t.Errorf("Alice's message sent again came back as %+v, want message 2 with her client id", got)
		}
		if ids := chatIDs(bobInbox); !slices.Equal(ids, []uint64{4}) {
			t.Errorf("Bob got the messages %v: a message sent again was posted twice", ids)
		}

		saidAt := time.Now()
		say(m, bob, "après la panne")
		if c := received[*protocol.Caption](bobInbox); len(c) != 1 || c[0].Text != "après la panne" {
			t.Errorf("captions after the move: %+v", c)
		}
		endMeeting(t, b, bob, alice)

		tr, err := w.st.Transcript(ctx, lost.transcript)
		must(t, err)
		var said []string
		for _, seg := range tr.Segments {
			said = append(said, seg.Text)
		}
		if !slices.Equal(said, []string{"avant la panne", "après la panne"}) {
			t.Fatalf("the transcript has %q, want what was said on both nodes", said)
		}
		// Times count from the transcript's start on both nodes (to the
		// millisecond the store keeps).
		if end := tr.StartedAt.Add(tr.Segments[1].End); end.Before(saidAt.Add(-time.Millisecond)) {
			t.Errorf("what was said after the move ends at %v in the transcript, that is %v, before it was said (%v)",
				tr.Segments[1].End, end, saidAt)
		}
		if tr.EndedAt.IsZero() {
			t.Error("the transcript is still running after the meeting ended")
		}
		if _, _, err := w.st.LiveMeeting(ctx, w.code); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the record of the ended meeting is still there: %v", err)
		}
		if _, _, err := w.files.Open(ctx, lost.file.ID); !errors.Is(err, chatfiles.ErrNotFound) {
			t.Errorf("the file of the ended meeting is still there: %v", err)
		}
	})
}

func TestAFreshMeetingDoesNotShowTheChatOfALostOne(t *testing.T) {
	t.Parallel()
	storetest.Engines(t, func(t *testing.T, url string) {
		ctx := t.Context()
		w := newWorld(t, url)
		lost := loseMeeting(t, w)

		b := w.node(t, false)
		carol, carolInbox := join(t, b, w.code, host("Carol"))
		if h := latest[*protocol.ChatHistory](t, carolInbox).Messages; len(h) != 0 {
			t.Errorf("a fresh meeting shows the lost one's messages: %+v", h)
		}
		if sp := latest[*protocol.Speech](t, carolInbox); sp.Captions || sp.Transcribing {
			t.Errorf("a fresh meeting starts with %+v", sp)
		}
		must(t, carol.SendChat("premier", "", "k1"))
		if ids := chatIDs(carolInbox); !slices.Equal(ids, []uint64{1}) {
			t.Errorf("the first message of a fresh meeting got id %v", ids)
		}
		if _, _, err := w.files.Open(ctx, lost.file.ID); !errors.Is(err, chatfiles.ErrNotFound) {
			t.Errorf("the lost meeting's file is still there: %v", err)
		}
		tr, err := w.st.Transcript(ctx, lost.transcript)
		must(t, err)
		if tr.EndedAt.IsZero() || len(tr.Segments) != 1 {
			t.Errorf("the lost meeting's transcript: ended %v, %d segments; want ended, with its one segment", tr.EndedAt, len(tr.Segments))
		}
		endMeeting(t, b, carol)
	})
}

// seenFirst fails the test when a message is kept after someone was told.
type seenFirst struct {
	LastingState
	t       *testing.T
	mu      sync.Mutex
	inboxes []*inbox
}

func (s *seenFirst) AppendMessage(ctx context.Context, key string, msg protocol.Chat, keepFrom uint64) error {
	s.mu.Lock()
	for _, b := range s.inboxes {
		if slices.Contains(chatIDs(b), msg.ID) {
			s.t.Errorf("message %d was shown before it was kept", msg.ID)
		}
	}
	s.mu.Unlock()
	return s.LastingState.AppendMessage(ctx, key, msg, keepFrom)
}

func TestMessagesAreKeptBeforeAnyoneSeesThem(t *testing.T) {
	t.Parallel()
	w := newWorld(t, storetest.SQLite(t))
	lasting := &seenFirst{LastingState: StoredState{w.st}, t: t}
	r := startNode(t, lasting, storeTranscripts{w.st}, w.files, false)
	alice, aliceInbox := join(t, r, w.code, host("Alice"))
	bob, bobInbox := join(t, r, w.code, host("Bob"))
	lasting.mu.Lock()
	lasting.inboxes = []*inbox{aliceInbox, bobInbox}
	lasting.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range []*Participant{alice, bob} {
		wg.Go(func() {
			for range 10 {
				if err := p.SendChat("hop", "", ""); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	want := make([]uint64, 0, 20)
	for id := range uint64(20) {
		want = append(want, id+1)
	}
	if ids := chatIDs(bobInbox); !slices.Equal(ids, want) {
		t.Errorf("Bob got the messages in the order %v", ids)
	}
	rec, err := lasting.Load(t.Context(), w.code)
	must(t, err)
	if len(rec.Messages) != 20 {
		t.Errorf("%d messages kept, want 20", len(rec.Messages))
	}
	endMeeting(t, r, alice, bob)
}

func TestNobodyJoinsAMeetingWhoseStateCannotBeKept(t *testing.T) {
	t.Parallel()
	w := newWorld(t, storetest.SQLite(t))
	r := w.node(t, false)
	must(t, w.st.Close())
	if _, err := r.Join(t.Context(), w.code, host("Alice"), &inbox{}); err == nil {
		t.Fatal("joined a meeting whose chat the database cannot keep")
	}
	if r.Meeting(w.code) != nil {
		t.Error("the meeting nobody could join is still live")
	}
	must(t, r.Wait(t.Context()))
}

// BenchmarkSendChat measures what keeping each message costs its sender,
// against a meeting kept in memory only.
func BenchmarkSendChat(b *testing.B) {
	engines := []struct {
		name string
		url  func(testing.TB) string
	}{{"memory", storetest.SQLite}, {"sqlite", storetest.SQLite}, {"postgres", storetest.Postgres}}
	for _, e := range engines {
		b.Run(e.name, func(b *testing.B) {
			w := newWorld(b, e.url(b))
			var state LastingState
			if e.name != "memory" {
				state = StoredState{w.st}
			}
			r := startNode(b, state, storeTranscripts{w.st}, w.files, false)
			p, err := r.Join(b.Context(), w.code, host("Alice"), &inbox{})
			if err != nil {
				b.Fatal(err)
			}
			p.chat.messages = rate.NewLimiter(rate.Inf, 0)
			b.ResetTimer()
			for range b.N {
				if err := p.SendChat("bonjour à tous", "", ""); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			p.Leave(protocol.ReasonLeft)
			if err := r.Wait(b.Context()); err != nil {
				b.Fatal(err)
			}
		})
	}
}
