package transcript

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/visio-meet/visio/internal/room"
	"github.com/visio-meet/visio/internal/speech"
	"github.com/visio-meet/visio/internal/store"
)

// ErrStopped is returned by a second Stop.
var ErrStopped = errors.New("transcript: the recorder is already stopped")

// sink is what a Recorder needs of the store; *store.Store has it.
type sink interface {
	RoomByCode(ctx context.Context, code room.Code) (store.Room, error)
	CreateTranscript(ctx context.Context, id store.RoomID, language, startedBy string, startedAt time.Time) (store.TranscriptID, error)
	AppendSegment(ctx context.Context, id store.TranscriptID, seg store.TranscriptSegment) (int64, error)
	EndTranscript(ctx context.Context, id store.TranscriptID, endedAt time.Time) error
	Transcript(ctx context.Context, id store.TranscriptID) (store.Transcript, error)
}

// retryPolicy says how long a write to the store is tried again.
type retryPolicy struct {
	attempts        int
	first, longest  time.Duration
	dropLogInterval int64 // log one dropped segment in so many
}

type options struct {
	log   *slog.Logger
	queue int
	retry retryPolicy
	now   func() time.Time
}

// Option changes a Recorder's defaults.
type Option func(*options)

// WithLogger sets where a Recorder reports lost segments and retries.
func WithLogger(log *slog.Logger) Option { return func(o *options) { o.log = log } }

// WithQueueSize sets how many segments may wait for the store before new
// ones are dropped; the default holds minutes of a busy meeting.
func WithQueueSize(n int) Option { return func(o *options) { o.queue = max(n, 1) } }

// Recorder writes one meeting's final segments to the store as they come.
// Add never blocks: segments wait in a bounded queue that one goroutine
// drains, trying a failed write again for a few seconds; Stop ends it.
type Recorder struct {
	sink      sink
	log       *slog.Logger
	retry     retryPolicy
	now       func() time.Time
	id        store.TranscriptID
	startedAt time.Time

	mu      sync.Mutex // guards stopped and the closing of queue
	stopped bool
	queue   chan speech.Segment

	cancel context.CancelFunc // abandons the writes of a Stop that ran out of time
	done   chan struct{}      // closed when the writer has returned

	written, dropped, failed atomic.Int64
}

// Stats counts a Recorder's segments.
type Stats struct {
	Written int64 // in the store
	Dropped int64 // refused because the queue was full, or given after Stop
	Failed  int64 // given up after the store kept failing
}

// Start creates a transcript of the meeting in a room (its code) begun at
// now and returns a Recorder for it. ctx bounds the creation only: the
// recorder runs until Stop. The room must be one kept in the store.
func Start(ctx context.Context, st *store.Store, roomCode, language, startedBy string, now time.Time, opts ...Option) (*Recorder, error) {
	return start(ctx, st, roomCode, language, startedBy, now, opts...)
}

func start(ctx context.Context, st sink, roomCode, language, startedBy string, now time.Time, opts ...Option) (*Recorder, error) {
	code, err := room.ParseCode(roomCode)
	if err != nil {
		return nil, fmt.Errorf("transcript: start in %q: %w", roomCode, err)
	}
	rm, err := st.RoomByCode(ctx, code)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("transcript: room %s is not kept on this server, and transcripts are kept only for "+
			"the rooms created in Visio: create the room, then start the transcript again: %w", code, err)
	}
	if err != nil {
		return nil, fmt.Errorf("transcript: start in %s: %w", code, err)
	}
	id, err := st.CreateTranscript(ctx, rm.ID, language, startedBy, now)
	if err != nil {
		return nil, fmt.Errorf("transcript: start in %s: %w", code, err)
	}
	r := newRecorder(ctx, st, id, code, now, opts)
	r.log.Info("transcript started", "language", language)
	return r, nil
}

// Resume returns a Recorder that goes on with a transcript begun elsewhere
// (by a node that was lost) and not ended.
func Resume(ctx context.Context, st *store.Store, id store.TranscriptID, opts ...Option) (*Recorder, error) {
	t, err := st.Transcript(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("transcript: resume %s: %w", id, err)
	}
	if !t.EndedAt.IsZero() {
		return nil, fmt.Errorf("transcript: resume %s: it ended at %s", id, t.EndedAt.Format(time.RFC3339))
	}
	r := newRecorder(ctx, st, id, t.RoomCode, t.StartedAt, opts)
	r.log.Info("transcript resumed", "segments", t.SegmentCount)
	return r, nil
}

func newRecorder(ctx context.Context, st sink, id store.TranscriptID, code room.Code, startedAt time.Time, opts []Option) *Recorder {
	o := options{
		log:   slog.New(slog.DiscardHandler),
		queue: 1024,
		retry: retryPolicy{attempts: 8, first: 100 * time.Millisecond, longest: 2 * time.Second, dropLogInterval: 100},
		now:   time.Now,
	}
	for _, opt := range opts {
		opt(&o)
	}
	// The writer outlives ctx, which may be the request that started the
	// transcript; it keeps ctx's values for logs and traces.
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r := &Recorder{
		sink:      st,
		log:       o.log.With("transcript", string(id), "room", string(code)),
		retry:     o.retry,
		now:       o.now,
		id:        id,
		startedAt: startedAt,
		queue:     make(chan speech.Segment, o.queue),
		cancel:    cancel,
		done:      make(chan struct{}),
	}
	go r.run(runCtx)
	return r
}

// ID returns the transcript's ID in the store.
func (r *Recorder) ID() string { return string(r.id) }

// Stats returns how many segments were written, dropped and lost so far.
func (r *Recorder) Stats() Stats {
	return Stats{Written: r.written.Load(), Dropped: r.dropped.Load(), Failed: r.failed.Load()}
}

// Add queues a final segment with text for the store, and ignores the
// others. It never waits: when the queue is full the segment is dropped,
// counted and logged.
func (r *Recorder) Add(seg speech.Segment) {
	if !seg.Final || strings.TrimSpace(seg.Text) == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		r.drop("the transcript is stopped")
		return
	}
	select {
	case r.queue <- seg:
	default:
		r.drop("the store is too slow: the queue is full")
	}
}

func (r *Recorder) drop(why string) {
	n := r.dropped.Add(1)
	// One line per drop would flood the log while the store is down.
	if n == 1 || n%r.retry.dropLogInterval == 0 {
		r.log.Warn("transcript segment dropped", "reason", why, "dropped", n)
	}
}

func (r *Recorder) run(ctx context.Context) {
	defer close(r.done)
	for seg := range r.queue {
		if err := r.write(ctx, seg); err != nil {
			n := r.failed.Add(1)
			r.log.Error("transcript segment lost", "participant", seg.Participant, "start", seg.Start, "lost", n, "err", err)
		} else {
			r.written.Add(1)
		}
	}
}

func (r *Recorder) write(ctx context.Context, seg speech.Segment) error {
	start := max(seg.Start, 0) // begun before the transcript: kept from its start
	stored := store.TranscriptSegment{
		ParticipantID: seg.Participant,
		SpeakerName:   seg.Name,
		Start:         start,
		End:           max(seg.End, start),
		Text:          strings.TrimSpace(seg.Text),
		Language:      seg.Language,
	}
	return r.retrying(ctx, "append", func() error {
		_, err := r.sink.AppendSegment(ctx, r.id, stored)
		return err
	})
}

// retrying calls f until it succeeds, fails for good, or the attempts of
// the policy are spent. A missing transcript (deleted while running) and a
// done ctx are final; anything else may be the database restarting.
func (r *Recorder) retrying(ctx context.Context, what string, f func() error) error {
	delay := r.retry.first
	for attempt := 1; ; attempt++ {
		err := f()
		if err == nil || errors.Is(err, store.ErrNotFound) || ctx.Err() != nil || attempt >= r.retry.attempts {
			return err
		}
		r.log.Warn("transcript write failed, trying again", "write", what, "attempt", attempt, "in", delay, "err", err)
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return fmt.Errorf("%w (after %v)", ctx.Err(), err)
		}
		delay = min(2*delay, r.retry.longest)
	}
}

// Stop writes the queued segments, ends the transcript now and returns it
// as stored. If ctx ends first, the segments still queued are lost and the
// transcript is left without an end.
func (r *Recorder) Stop(ctx context.Context) (Transcript, error) {
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		return Transcript{}, ErrStopped
	}
	r.stopped = true
	close(r.queue)
	r.mu.Unlock()
	defer r.cancel()

	select {
	case <-r.done:
	case <-ctx.Done():
		queued := len(r.queue)
		r.cancel()
		<-r.done
		return Transcript{}, fmt.Errorf("transcript %s: stopped before about %d queued segments were written: %w",
			r.id, queued, ctx.Err())
	}
	endedAt := r.now()
	if endedAt.Before(r.startedAt) {
		endedAt = r.startedAt // a clock set back: the transcript ends where it began
	}
	err := r.retrying(ctx, "end", func() error { return r.sink.EndTranscript(ctx, r.id, endedAt) })
	if err != nil {
		return Transcript{}, fmt.Errorf("transcript %s: end: %w", r.id, err)
	}
	stored, err := r.sink.Transcript(ctx, r.id)
	if err != nil {
		return Transcript{}, fmt.Errorf("transcript %s: read back: %w", r.id, err)
	}
	stats := r.Stats()
	r.log.Info("transcript ended", "segments", stats.Written, "dropped", stats.Dropped, "lost", stats.Failed)
	return FromStore(stored)
}
