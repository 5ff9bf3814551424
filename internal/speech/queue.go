package speech

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// utterance is one stretch of a participant's speech on its way from the
// intake goroutine, which records it, to the worker goroutine, which has it
// transcribed. A streaming engine reads it while it is still being spoken.
type utterance struct {
	audioStart time.Duration // when samples[0] was captured, since the track's origin
	start      time.Duration // when the voice began
	end        time.Duration // when it stopped; set when closed

	// Guarded by the queue's mutex while the utterance is open; once the
	// worker has seen it closed, they no longer change.
	samples      []int16
	voiced       int  // samples up to the end of the last voiced frame
	read         int  // samples already given to a stream
	closed       bool // no more samples will come
	discard      bool // too short to be speech (a cough, a click)
	missedBefore int  // utterances dropped just before this one

	number uint64 // Segment.Utterance; the worker's alone
}

// freeBuffers is how many sample buffers a queue keeps for reuse: enough for
// the usual one or two utterances in flight, without keeping the memory of a
// backlog once it is gone.
const freeBuffers = 2

// initialUtteranceSamples is the room a new sample buffer starts with (2 s),
// more than most utterances need.
const initialUtteranceSamples = 2 * SampleRate

// utteranceQueue holds the utterances waiting for the engine. When the engine
// falls behind and the queue is full, the oldest waiting one is dropped, so
// that captions stay current rather than ever later.
type utteranceQueue struct {
	mu            sync.Mutex
	waiting       []*utterance
	limit         int
	pendingMissed int // dropped when no utterance was waiting after them
	done          bool
	free          [][]int16 // sample buffers to reuse

	// wake tells the worker that something changed: a new utterance, new
	// samples, an utterance closed, or the end.
	wake chan struct{}

	counters *trackCounters
	log      *slog.Logger
	dropLog  rate.Sometimes
}

func newUtteranceQueue(limit int, counters *trackCounters, log *slog.Logger) *utteranceQueue {
	return &utteranceQueue{
		waiting:  make([]*utterance, 0, limit+1),
		limit:    limit,
		free:     make([][]int16, 0, freeBuffers),
		wake:     make(chan struct{}, 1),
		counters: counters,
		log:      log,
		dropLog:  rate.Sometimes{Interval: 10 * time.Second},
	}
}

func (q *utteranceQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// open starts an utterance and puts it in line for the worker at once, so
// that a streaming engine can follow it as it is spoken.
func (q *utteranceQueue) open(audioStart, start time.Duration) *utterance {
	q.mu.Lock()
	u := q.enqueue(audioStart, start)
	dropped := q.makeRoom()
	q.mu.Unlock()
	q.signal()
	if dropped {
		q.warnDropped()
	}
	return u
}

// enqueue adds a new utterance at the end of the line. Called with q.mu held.
func (q *utteranceQueue) enqueue(audioStart, start time.Duration) *utterance {
	u := &utterance{audioStart: audioStart, start: start, missedBefore: q.pendingMissed}
	q.pendingMissed = 0
	if n := len(q.free); n > 0 {
		u.samples = q.free[n-1]
		q.free = q.free[:n-1]
	} else {
		u.samples = make([]int16, 0, initialUtteranceSamples)
	}
	q.waiting = append(q.waiting, u)
	return u
}

// makeRoom drops the oldest waiting utterance when more than limit wait; the
// one after it inherits the count. Called with q.mu held.
func (q *utteranceQueue) makeRoom() bool {
	if len(q.waiting) <= q.limit {
		return false
	}
	oldest := q.waiting[0]
	q.waiting = append(q.waiting[:0], q.waiting[1:]...)
	q.waiting[0].missedBefore += oldest.missedBefore + 1
	q.recycleLocked(oldest.samples)
	q.counters.droppedUtterances.Add(1)
	return true
}

func (q *utteranceQueue) warnDropped() {
	q.dropLog.Do(func() {
		q.log.Warn("speech: the engine is falling behind; the oldest waiting utterance was dropped from captions and transcript",
			"dropped_total", q.counters.droppedUtterances.Load(), "queue", q.limit,
			"hint", "give the speech engine more capacity or allow more concurrent engine calls")
	})
}

// add appends one frame to an open utterance.
func (q *utteranceQueue) add(u *utterance, frame []int16, voiced bool) {
	q.mu.Lock()
	u.samples = append(u.samples, frame...)
	if voiced {
		u.voiced = len(u.samples)
	}
	q.mu.Unlock()
	q.signal()
}

// consumed returns how many samples of u a stream has already read.
func (q *utteranceQueue) consumed(u *utterance) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return u.read
}

// close ends an utterance: it keeps its first keep samples (what a stream
// has read stays), and is discarded when it was not speech after all.
func (q *utteranceQueue) close(u *utterance, keep int, end time.Duration, speech bool) {
	q.mu.Lock()
	q.closeLocked(u, keep, end)
	if speech {
		q.counters.utterances.Add(1)
	} else {
		u.discard = true
		if n := len(q.waiting); n > 0 && q.waiting[n-1] == u {
			// Still waiting: nobody has seen it, take it out of the line.
			q.waiting = q.waiting[:n-1]
			q.pendingMissed += u.missedBefore
			q.recycleLocked(u.samples)
			u.samples = nil
		}
	}
	q.mu.Unlock()
	q.signal()
}

func (q *utteranceQueue) closeLocked(u *utterance, keep int, end time.Duration) {
	keep = min(max(keep, u.read), len(u.samples))
	u.samples = u.samples[:keep]
	u.end = end
	u.closed = true
}

// split closes u, an utterance grown too long, after its first at samples,
// and opens the next one with the rest.
func (q *utteranceQueue) split(u *utterance, at int, end, restStart time.Duration) *utterance {
	q.mu.Lock()
	rest := q.enqueue(restStart, restStart)
	rest.samples = append(rest.samples[:0], u.samples[max(at, u.read):]...)
	rest.voiced = max(u.voiced-at, 0)
	q.closeLocked(u, at, end)
	q.counters.utterances.Add(1)
	dropped := q.makeRoom()
	q.mu.Unlock()
	q.signal()
	if dropped {
		q.warnDropped()
	}
	return rest
}

// finish says that no utterance will be added any more.
func (q *utteranceQueue) finish() {
	q.mu.Lock()
	q.done = true
	q.mu.Unlock()
	q.signal()
}

// wait blocks until the queue changes or ctx ends; false means ctx ended.
func (q *utteranceQueue) wait(ctx context.Context) bool {
	select {
	case <-q.wake:
		return true
	case <-ctx.Done():
		return false
	}
}

// next takes the oldest waiting utterance and the count of utterances
// dropped just before it. It returns nil when the queue is finished and
// empty, or ctx ended.
func (q *utteranceQueue) next(ctx context.Context) (*utterance, int) {
	for {
		q.mu.Lock()
		if len(q.waiting) > 0 {
			u := q.waiting[0]
			q.waiting = append(q.waiting[:0], q.waiting[1:]...)
			missed := u.missedBefore
			q.mu.Unlock()
			return u, missed
		}
		done := q.done
		q.mu.Unlock()
		if done || !q.wait(ctx) {
			return nil, 0
		}
	}
}

// progress is what take found of an utterance.
type progress struct {
	n       int // samples copied
	read    int // samples given to the stream so far, these included
	voiced  int // samples up to the end of the last voiced frame
	unread  int // samples there but not given yet
	closed  bool
	discard bool
}

// take copies the next unread samples of u into dst: a full dst, or what is
// left once u is closed; nothing while less than that is there.
func (q *utteranceQueue) take(u *utterance, dst []int16) progress {
	q.mu.Lock()
	defer q.mu.Unlock()
	var p progress
	if len(u.samples)-u.read >= len(dst) || u.closed {
		p.n = copy(dst, u.samples[u.read:])
		u.read += p.n
	}
	p.read, p.unread, p.voiced = u.read, len(u.samples)-u.read, u.voiced
	p.closed, p.discard = u.closed, u.discard
	return p
}

// state reports whether u is closed, and whether it is discarded.
func (q *utteranceQueue) state(u *utterance) (closed, discard bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return u.closed, u.discard
}

// recycle gives back the samples of an utterance the engine is done with.
func (q *utteranceQueue) recycle(samples []int16) {
	q.mu.Lock()
	q.recycleLocked(samples)
	q.mu.Unlock()
}

func (q *utteranceQueue) recycleLocked(samples []int16) {
	if samples != nil && len(q.free) < cap(q.free) {
		q.free = append(q.free, samples[:0])
	}
}

// abandon drops every waiting utterance, when the track stops before the
// engine could take them, and returns how many there were.
func (q *utteranceQueue) abandon() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := len(q.waiting)
	q.waiting = q.waiting[:0]
	q.counters.droppedUtterances.Add(uint64(n))
	return n
}
