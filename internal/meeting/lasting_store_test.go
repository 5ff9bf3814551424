package meeting

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/visio-meet/visio/internal/chatfiles"
	"github.com/visio-meet/visio/internal/protocol"
	"github.com/visio-meet/visio/internal/room"
	"github.com/visio-meet/visio/internal/sfu"
	"github.com/visio-meet/visio/internal/speech"
	"github.com/visio-meet/visio/internal/store"
)

// The parts a node of these tests is made of: the real store (StoredState,
// and transcripts kept simply), a directory that says what the test wants,
// and sinks that keep what participants are told.

// storeTranscripts keeps transcripts in the store. Its segments are written
// as they come, under the meeting's lock, which a test can afford.
type storeTranscripts struct{ st *store.Store }

func (s storeTranscripts) Start(ctx context.Context, code room.Code, language, _ string, at time.Time) (Transcript, error) {
	r, err := s.st.RoomByCode(ctx, code)
	if err != nil {
		return nil, err
	}
	id, err := s.st.CreateTranscript(ctx, r.ID, language, "test", at)
	return storeTranscript{s.st, id}, err
}

func (s storeTranscripts) Resume(ctx context.Context, id string) (Transcript, error) {
	t, err := s.st.Transcript(ctx, store.TranscriptID(id))
	if err == nil && !t.EndedAt.IsZero() {
		err = fmt.Errorf("transcript %s ended", id)
	}
	return storeTranscript{s.st, t.ID}, err
}

type storeTranscript struct {
	st *store.Store
	id store.TranscriptID
}

func (t storeTranscript) ID() string { return string(t.id) }

func (t storeTranscript) Add(seg speech.Segment) {
	if _, err := t.st.AppendSegment(context.Background(), t.id, store.TranscriptSegment{ParticipantID: seg.Participant,
		SpeakerName: seg.Name, Start: seg.Start, End: seg.End, Text: seg.Text}); err != nil {
		panic(err)
	}
}

func (t storeTranscript) Finish(ctx context.Context) error {
	return t.st.EndTranscript(ctx, t.id, time.Now())
}

// deafEngine makes captions and transcripts available; the tests say what
// is heard themselves (say).
type deafEngine struct{}

func (deafEngine) Name() string { return "deaf" }
func (deafEngine) Transcribe(context.Context, speech.Audio) (speech.Result, error) {
	return speech.Result{}, nil
}
func (deafEngine) Health(context.Context) speech.Health { return speech.Health{State: speech.Healthy} }
func (deafEngine) Close() error                         { return nil }

// say has p's words heard as a listener of their microphone would hand
// them over, ending now.
func say(m *Meeting, p *Participant, text string) {
	l := &listener{}
	m.mu.Lock()
	m.tuneListenerLocked(l)
	now := time.Since(m.speech.origin)
	m.mu.Unlock()
	m.heard(l, speech.Segment{Participant: string(p.ID()), Name: p.name, Text: text, Final: true, Start: now - time.Second, End: now})
}

// testDirectory hosts every room here, moved from a lost node or not.
type testDirectory struct{ moved bool }

func (d testDirectory) Host(context.Context, room.Code, bool) (bool, error) { return d.moved, nil }
func (testDirectory) Release(room.Code)                                     {}

// startNode starts the meetings of a node on st, keeping chat files in files.
func startNode(t testing.TB, st LastingState, ts Transcripts, files chatfiles.Store, moved bool) *Registry {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	media, err := sfu.NewEngine(sfu.Config{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = media.Close() })
	cfg := Config{Lasting: st, Files: ChatFiles{Store: files, MaxFileBytes: 1 << 20, MaxMeetingBytes: 4 << 20},
		Speech: Speech{Engine: deafEngine{}, Transcripts: ts}}
	return NewRegistry(cfg, media, testDirectory{moved: moved}, log)
}

// abandon stops a node's meetings as a crash would: nothing ends, nothing
// is removed, only their timers stop.
func abandon(r *Registry) {
	for _, m := range r.live() {
		m.stop()
	}
}

// inbox keeps what a participant is told.
type inbox struct {
	mu  sync.Mutex
	got []protocol.Message
}

func (b *inbox) Send(m protocol.Message) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.got = append(b.got, m)
}

func (*inbox) Close(string) {}

// received returns the messages of type T told so far, oldest first.
func received[T protocol.Message](b *inbox) []T {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []T
	for _, m := range b.got {
		if v, ok := m.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// latest returns the latest message of type T, failing the test if none came.
func latest[T protocol.Message](t *testing.T, b *inbox) T {
	t.Helper()
	all := received[T](b)
	if len(all) == 0 {
		var zero T
		t.Fatalf("no %T received", zero)
	}
	return all[len(all)-1]
}

// chatIDs are the ids of the chat messages b was told, one by one.
func chatIDs(b *inbox) []uint64 {
	var ids []uint64
	for _, c := range received[*protocol.Chat](b) {
		ids = append(ids, c.ID)
	}
	return slices.Clip(ids)
}
