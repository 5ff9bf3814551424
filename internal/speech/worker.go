package speech

import (
	"context"
	"log/slog"
	"time"

	"golang.org/x/time/rate"
)

const (
	// chunkSamples is how much audio a stream is given at a time (160 ms):
	// small enough for live captions, large enough not to call the engine
	// fifty times a second.
	chunkSamples = 160 * SampleRate / 1000
	// partialEvery is the least audio between two partial segments of one
	// utterance (300 ms), so that captions change a few times a second at
	// most.
	partialEvery = 300 * SampleRate / 1000
	// engineCallTimeout bounds one Transcribe call, so that a hung engine
	// costs an utterance, not the track.
	engineCallTimeout = 30 * time.Second
)

// worker has a track's utterances transcribed, one at a time, and emits
// their segments. It runs on the track's worker goroutine, so a slow engine
// only ever makes utterances wait in the queue.
type worker struct {
	track    *Track
	queue    *utteranceQueue
	engine   Engine
	streamer Streamer // engine as a Streamer, or nil
	stream   Stream
	log      *slog.Logger
	errLog   rate.Sometimes

	missed int    // utterances dropped since the last emitted segment
	number uint64 // the last Segment.Utterance given
	chunk  [chunkSamples]int16
}

func newWorker(t *Track, queue *utteranceQueue, log *slog.Logger) *worker {
	w := &worker{
		track:  t,
		queue:  queue,
		engine: t.cfg.Engine,
		log:    log,
		errLog: rate.Sometimes{First: 1, Interval: 10 * time.Second},
	}
	w.streamer, _ = t.cfg.Engine.(Streamer)
	return w
}

func (w *worker) run(ctx context.Context) {
	defer w.closeStream()
	for {
		u, missed := w.queue.next(ctx)
		if u == nil {
			break
		}
		w.missed += missed
		handled := true
		switch {
		case w.engine == nil:
			w.waitClosed(ctx, u)
		case w.streamer != nil && w.openStream():
			handled = w.follow(ctx, u)
		default:
			handled = w.transcribe(ctx, u)
		}
		if !handled {
			w.track.counters.droppedUtterances.Add(1)
		}
	}
	if ctx.Err() != nil {
		if n := w.queue.abandon(); n > 0 {
			w.log.Warn("speech: the track stopped before the engine could transcribe every utterance",
				"dropped", n, "hint", "the engine is too slow for the closing time budget; give it more capacity")
		}
	}
}

// waitClosed waits until the intake has finished u; false when ctx ended or
// u is not speech after all.
func (w *worker) waitClosed(ctx context.Context, u *utterance) bool {
	for {
		closed, discard := w.queue.state(u)
		if closed {
			return !discard
		}
		if !w.queue.wait(ctx) {
			return false
		}
	}
}

// transcribe has a whole utterance transcribed once it is over. It returns
// false when the track stopped first.
func (w *worker) transcribe(ctx context.Context, u *utterance) bool {
	if !w.waitClosed(ctx, u) {
		// Not speech after all, or the track stopped first.
		return ctx.Err() == nil
	}
	if err := w.track.cfg.Limiter.acquire(ctx); err != nil {
		return false
	}
	callCtx, cancel := context.WithTimeout(ctx, engineCallTimeout)
	res, err := w.engine.Transcribe(callCtx, Audio{Samples: u.samples, Language: w.track.cfg.Language})
	cancel()
	w.track.cfg.Limiter.release()
	if err != nil {
		// The engine may still hold the samples: they are not reused.
		if ctx.Err() != nil {
			return false
		}
		w.failed(u, err, false)
		return true
	}
	w.queue.recycle(u.samples)
	w.final(u, res, false)
	return true
}

// follow feeds an utterance to the stream as it is spoken, emitting partial
// segments while captions are on, then its final one. It returns false when
// the track stopped first.
func (w *worker) follow(ctx context.Context, u *utterance) bool {
	shown := false // partials of u were emitted: a final must replace them
	lastText, lastAt := "", -partialEvery
	for {
		p := w.queue.take(u, w.chunk[:])
		if p.n > 0 {
			text, err := w.write(ctx, w.chunk[:p.n])
			if err != nil {
				return w.streamFailed(ctx, u, err, shown)
			}
			// Partials only while live: for audio that is already over,
			// the final is near.
			live := !p.closed && p.unread < chunkSamples
			if live && w.track.partials.Load() && text != "" && text != lastText && p.read-lastAt >= partialEvery {
				// The partial ends with the voice heard so far, not
				// with the silence after it.
				end := u.audioStart + samplesDuration(int64(min(p.read, p.voiced)))
				w.emit(u, text, w.track.cfg.Language, false, end)
				shown, lastText, lastAt = true, text, p.read
			}
			continue
		}
		if !p.closed {
			if !w.queue.wait(ctx) {
				return false
			}
			continue
		}
		res, err := w.endStream(ctx)
		if err != nil {
			return w.streamFailed(ctx, u, err, shown)
		}
		w.queue.recycle(u.samples)
		if !p.discard || shown {
			w.final(u, res, shown)
		}
		return true
	}
}

// streamFailed drops the stream that failed on u, and u with it; it
// returns false when the track stopped meanwhile.
func (w *worker) streamFailed(ctx context.Context, u *utterance, err error, shown bool) bool {
	w.closeStream()
	if ctx.Err() != nil {
		return false
	}
	w.failed(u, err, shown)
	return true
}

func (w *worker) write(ctx context.Context, samples []int16) (string, error) {
	if err := w.track.cfg.Limiter.acquire(ctx); err != nil {
		return "", err
	}
	defer w.track.cfg.Limiter.release()
	return w.stream.Write(samples)
}

func (w *worker) endStream(ctx context.Context) (Result, error) {
	if err := w.track.cfg.Limiter.acquire(ctx); err != nil {
		return Result{}, err
	}
	defer w.track.cfg.Limiter.release()
	return w.stream.End()
}

// openStream makes sure a stream is open; when the engine cannot give one,
// the utterance is transcribed whole instead.
func (w *worker) openStream() bool {
	if w.stream != nil {
		return true
	}
	s, err := w.streamer.NewStream(w.track.cfg.Language)
	if err != nil {
		w.errLog.Do(func() {
			w.log.Warn("speech: the engine could not start a stream; transcribing whole utterances instead (no live partial captions)",
				"engine", w.engine.Name(), "err", err)
		})
		return false
	}
	w.stream = s
	return true
}

func (w *worker) closeStream() {
	if w.stream != nil {
		w.stream.Close()
		w.stream = nil
	}
}

// failed counts an engine error. The utterance is lost: the next segment
// says so, and a caption showing its partial text is cleared.
func (w *worker) failed(u *utterance, err error, shown bool) {
	total := w.track.counters.engineErrors.Add(1)
	w.missed++
	w.errLog.Do(func() {
		w.log.Warn("speech: the engine failed; the utterance is missing from captions and transcript",
			"engine", w.engine.Name(), "err", err, "errors_total", total,
			"hint", "check the engine's health and logs")
	})
	if shown {
		w.emit(u, "", w.track.cfg.Language, true, u.end)
	}
}

// final emits an utterance's final segment. An utterance in which the engine
// heard nothing gives no segment, unless a caption has to be replaced.
func (w *worker) final(u *utterance, res Result, shown bool) {
	if res.Text == "" && !shown {
		return
	}
	language := res.Language
	if language == "" {
		language = w.track.cfg.Language
	}
	w.emit(u, res.Text, language, true, u.end)
}

func (w *worker) emit(u *utterance, text, language string, final bool, end time.Duration) {
	if u.number == 0 {
		w.number++
		u.number = w.number
	}
	seg := Segment{
		Utterance:   u.number,
		Participant: w.track.cfg.Participant,
		Name:        *w.track.name.Load(),
		Start:       u.start,
		End:         max(end, u.start),
		Text:        text,
		Language:    language,
		Final:       final,
		Missed:      w.missed,
	}
	w.missed = 0
	if w.track.cfg.Emit != nil {
		w.track.cfg.Emit(seg)
	}
}
