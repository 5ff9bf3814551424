package speech

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// defaultQueue is how many utterances may wait for the engine.
	defaultQueue = 4
	// closeBudget bounds the engine time Close gives to the utterances
	// still in progress or waiting.
	closeBudget = 10 * time.Second
)

// TrackConfig describes one participant's microphone track.
type TrackConfig struct {
	Participant string // participant id
	Name        string // display name shown with captions
	Language    string // "fr", "en", ...
	// Engine transcribes the utterances. A Streamer is fed the audio as it
	// is spoken (giving partial text); any other Engine is asked to
	// Transcribe each utterance once it is over.
	Engine  Engine
	Limiter *Limiter // shared by all tracks; nil: no bound
	// Detector tells speech from silence; nil: the package's own
	// energy-based detector.
	Detector VoiceDetector
	// Origin is the time segments' Start and End count from (when the
	// transcript or the captions started); zero: when NewTrack is called.
	Origin time.Time
	// Partials asks for partial segments (live captions); false: finals
	// only (transcript only).
	Partials bool
	// Emit receives the segments. It is called from the track's
	// goroutines, never concurrently for one track, and should return
	// quickly: the next utterance waits for it. It must not call Close.
	//
	// Per track, Segment.Utterance counts 1, 2, 3...; the partials of an
	// utterance come before its one final segment. When the engine fails
	// on an utterance whose partials were shown, its final segment has an
	// empty Text (and Missed counts it), so that the caption is cleared.
	Emit   func(Segment)
	Logger *slog.Logger // nil: slog.Default()
	// Queue is how many utterances may wait for the engine before the
	// oldest is dropped; 0: 4.
	Queue int
}

// TrackStats counts what happened to a track's audio.
type TrackStats struct {
	Packets           uint64 // packets given to Packet
	Lost              uint64 // packets that never arrived in time; their audio was replaced by silence
	DroppedPackets    uint64 // packets refused (intake full, empty or oversized) or undecodable
	Utterances        uint64 // utterances detected
	DroppedUtterances uint64 // utterances dropped because the engine fell behind, or Close ran out of time
	EngineErrors      uint64 // utterances the engine failed on
}

type trackCounters struct {
	packets, lost, droppedPackets               atomic.Uint64
	utterances, droppedUtterances, engineErrors atomic.Uint64
}

// Track turns one participant's microphone track into text segments. The
// media plane gives it RTP packets; an intake goroutine reorders, decodes,
// and cuts them into utterances; a worker goroutine has the utterances
// transcribed and emits segments. Memory is bounded: a ring of packets, the
// utterances in the queue (at most 15 s each) and the one in progress.
type Track struct {
	cfg      TrackConfig
	now      func() time.Time
	name     atomic.Pointer[string]
	partials atomic.Bool
	counters trackCounters

	ring        *packetRing
	closeBudget time.Duration
	closing     atomic.Bool
	stop        chan struct{}
	once        sync.Once
	wg          sync.WaitGroup
	cancel      context.CancelFunc
}

// NewTrack starts a track's goroutines; Close stops them.
func NewTrack(cfg TrackConfig) *Track {
	return newTrack(cfg, time.Now)
}

// newTrack is NewTrack with the clock that stamps packet arrivals, so that
// tests can play a recording faster than real time.
func newTrack(cfg TrackConfig, now func() time.Time) *Track {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Queue <= 0 {
		cfg.Queue = defaultQueue
	}
	if cfg.Detector == nil {
		cfg.Detector = newEnergyDetector()
	}
	if cfg.Origin.IsZero() {
		cfg.Origin = now()
	}
	log := cfg.Logger.With("participant", cfg.Participant)
	ctx, cancel := context.WithCancel(context.Background())
	t := &Track{
		cfg:         cfg,
		now:         now,
		ring:        newPacketRing(),
		closeBudget: closeBudget,
		stop:        make(chan struct{}),
		cancel:      cancel,
	}
	name := cfg.Name
	t.name.Store(&name)
	t.partials.Store(cfg.Partials)

	queue := newUtteranceQueue(cfg.Queue, &t.counters, log)
	in, err := newIntake(cfg.Origin, cfg.Detector, queue, &t.counters, log)
	if err != nil {
		// Only an unsupported rate or channel count fails, and SampleRate
		// and mono are supported.
		panic(err)
	}
	w := newWorker(t, queue, log)
	t.wg.Add(2)
	go func() {
		defer t.wg.Done()
		defer queue.finish()
		t.runIntake(in)
	}()
	go func() {
		defer t.wg.Done()
		w.run(ctx)
	}()
	return t
}

// Packet takes one RTP packet's fields; it copies the payload into a bounded
// ring and returns at once. When the ring is full the packet is dropped and
// counted. It is safe for concurrent use, and does nothing after Close.
func (t *Track) Packet(seq uint16, timestamp uint32, payload []byte) {
	if t.closing.Load() {
		return
	}
	t.counters.packets.Add(1)
	if len(payload) == 0 || len(payload) > maxPayload || !t.ring.put(seq, timestamp, t.now(), payload) {
		t.counters.droppedPackets.Add(1)
	}
}

// SetName changes the name given with later segments, when the participant
// renames themselves. Safe for concurrent use.
func (t *Track) SetName(name string) {
	t.name.Store(&name)
}

// SetPartials turns partial segments on or off, when live captions are
// turned on or off while the track runs. Safe for concurrent use.
func (t *Track) SetPartials(on bool) {
	t.partials.Store(on)
}

// Close stops the track: the utterance in progress is finished and its
// final segment emitted, as are those waiting, within about 10 s of engine
// time; after that, engine calls are cancelled and what remains is dropped.
// Every goroutine has returned when Close returns. Safe to call more than
// once. A Stream takes no context: one whose Write or End never returns
// keeps Close waiting.
func (t *Track) Close() {
	t.once.Do(func() {
		t.closing.Store(true)
		close(t.stop)
		deadline := time.AfterFunc(t.closeBudget, t.cancel)
		t.wg.Wait()
		deadline.Stop()
		t.cancel()
	})
}

// Stats returns the track's counters so far.
func (t *Track) Stats() TrackStats {
	return TrackStats{
		Packets:           t.counters.packets.Load(),
		Lost:              t.counters.lost.Load(),
		DroppedPackets:    t.counters.droppedPackets.Load(),
		Utterances:        t.counters.utterances.Load(),
		DroppedUtterances: t.counters.droppedUtterances.Load(),
		EngineErrors:      t.counters.engineErrors.Load(),
	}
}

// runIntake moves packets from the ring through the intake until Close.
func (t *Track) runIntake(in *intake) {
	var p rtpPacket
	drain := func() {
		for t.ring.take(&p) {
			in.packet(&p)
		}
	}
	// expiry wakes the intake when packets wait behind a gap and no more
	// packets come to push them out.
	expiry := time.NewTimer(jitterWindow)
	expiry.Stop()
	defer expiry.Stop()
	for {
		select {
		case <-t.ring.wake:
			drain()
		case <-expiry.C:
			in.expire(t.now())
		case <-t.stop:
			drain()
			in.finish()
			return
		}
		if in.holding() {
			expiry.Reset(jitterWindow)
		} else {
			expiry.Stop()
		}
	}
}
