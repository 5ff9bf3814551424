package speech

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/pion/opus"
)

const (
	// ticksPerSample converts the 48 kHz RTP clock to 16 kHz samples.
	ticksPerSample = rtpClockRate / SampleRate
	// maxPacketSamples is the longest Opus packet (120 ms) at SampleRate.
	maxPacketSamples = 120 * SampleRate / 1000
	// maxConceal is the longest gap in the RTP timestamps filled with
	// silence (lost packets, DTX pauses). A longer one is a muted
	// microphone or a restarted sender: the utterance ends there and the
	// timeline starts again from the next packet's arrival.
	maxConceal      = time.Second
	maxConcealTicks = int32(maxConceal * rtpClockRate / time.Second)
	// maxOverlapTicks is how far a packet's timestamp may go back into the
	// previous packet's audio (a sender's rounding) before it counts as a
	// jump too.
	maxOverlapTicks = int32(20 * time.Millisecond * rtpClockRate / time.Second)
)

// timeline maps positions on a track's sample timeline (16 kHz samples since
// the track began) to times since the track's origin. It is anchored at the
// arrival of a stream's first packet and follows the RTP timestamps from
// there, so that jitter does not move segments about; when a packet arrives
// earlier than its place on the timeline says (the first one was delayed, or
// the sender's clock is fast), the anchor moves back to it.
type timeline struct {
	origin     time.Time
	started    bool
	endTS      uint32 // RTP timestamp where the last decoded packet's audio ends
	anchorWall time.Time
	anchorPos  int64
}

func samplesDuration(n int64) time.Duration {
	return time.Duration(n) * time.Second / SampleRate
}

func (l *timeline) at(pos int64) time.Duration {
	return l.anchorWall.Add(samplesDuration(pos - l.anchorPos)).Sub(l.origin)
}

func (l *timeline) anchor(arrival time.Time, pos int64) {
	l.anchorWall, l.anchorPos = arrival, pos
}

func (l *timeline) observe(arrival time.Time, pos int64) {
	if arrival.Before(l.anchorWall.Add(samplesDuration(pos - l.anchorPos))) {
		l.anchor(arrival, pos)
	}
}

// intake turns a track's packets into utterances: reorder, conceal, decode,
// frame, detect voice, segment. It runs on the track's intake goroutine.
type intake struct {
	reorder  reorderBuffer
	decoder  opus.Decoder
	pcm      [maxPacketSamples]int16
	zeros    [FrameSamples]int16
	line     timeline
	segments *segmenter
	counters *trackCounters
	log      *slog.Logger

	frame      [FrameSamples]int16
	frameLen   int
	framePos   int64 // position of frame[0]
	frameReal  bool  // the frame holds decoded audio, not only concealment
	restarting bool  // the next packet begins a new stream
}

func newIntake(origin time.Time, detector VoiceDetector, queue *utteranceQueue, counters *trackCounters, log *slog.Logger) (*intake, error) {
	in := &intake{counters: counters, log: log}
	in.line.origin = origin
	if err := in.decoder.Init(SampleRate, 1); err != nil {
		return nil, fmt.Errorf("speech: opus decoder: %w", err)
	}
	in.segments = newSegmenter(detector, queue, in.line.at)
	return in, nil
}

// packet takes one packet as it arrived.
func (in *intake) packet(p *rtpPacket) { in.reorder.add(p, in) }

// expire lets out packets held too long behind a gap.
func (in *intake) expire(now time.Time) { in.reorder.expire(now, in) }

// holding reports whether packets wait behind a gap.
func (in *intake) holding() bool { return in.reorder.held > 0 }

// finish ends the stream: held packets go out and the utterance in progress
// is closed.
func (in *intake) finish() {
	in.reorder.flush(in)
	in.segments.flush()
}

func (in *intake) lost(n int) { in.counters.lost.Add(uint64(n)) }

func (in *intake) restart() { in.restarting = true }

func (in *intake) release(p *rtpPacket) {
	switch gap := int32(p.ts - in.line.endTS); {
	case !in.line.started:
		in.line.started = true
		in.line.anchor(p.arrival, in.framePos)
		in.line.endTS = p.ts
	case in.restarting || gap > maxConcealTicks || gap < -maxOverlapTicks:
		in.jump(p.arrival)
		in.line.endTS = p.ts
	default:
		if gap > 0 {
			in.silence(int(gap) / ticksPerSample)
		}
		in.line.observe(p.arrival, in.framePos+int64(in.frameLen))
	}
	in.restarting = false

	n, err := in.decode(p.payload)
	if err != nil {
		// The next packet's timestamp tells how much audio is missing.
		in.counters.droppedPackets.Add(1)
		in.log.Debug("speech: undecodable opus packet skipped", "seq", p.seq, "err", err)
		return
	}
	in.line.endTS = p.ts + uint32(n*ticksPerSample)
	in.samples(in.pcm[:n], true)
}

// jump handles a discontinuity: the utterance in progress ends, and the
// timeline restarts at this packet's arrival.
func (in *intake) jump(arrival time.Time) {
	in.frameLen, in.frameReal = 0, false
	if in.restarting {
		in.segments.reset()
		// The decoder's history belongs to the old stream.
		if err := in.decoder.Init(SampleRate, 1); err != nil {
			in.log.Error("speech: resetting the opus decoder failed", "err", err)
		}
	} else {
		in.segments.flush()
	}
	in.line.anchor(arrival, in.framePos)
}

// decode decodes one Opus packet into in.pcm.
func (in *intake) decode(payload []byte) (n int, err error) {
	defer func() {
		if r := recover(); r != nil {
			// The decoder is young and parses what remote peers send: a
			// packet that trips it must cost that packet, not the server.
			err = fmt.Errorf("opus decoder panicked: %v", r)
			if initErr := in.decoder.Init(SampleRate, 1); initErr != nil {
				err = fmt.Errorf("%w; reinitialising it failed: %w", err, initErr)
			}
		}
	}()
	return in.decoder.DecodeToInt16(payload, in.pcm[:])
}

// silence adds n samples of silence where audio is missing.
func (in *intake) silence(n int) {
	for n > 0 {
		k := min(n, FrameSamples)
		in.samples(in.zeros[:k], false)
		n -= k
	}
}

// samples adds audio, decoded (real) or concealment, to the frame being
// filled, and hands out each full frame.
func (in *intake) samples(pcm []int16, real bool) {
	for len(pcm) > 0 {
		k := copy(in.frame[in.frameLen:], pcm)
		in.frameLen += k
		in.frameReal = in.frameReal || real
		pcm = pcm[k:]
		if in.frameLen == FrameSamples {
			in.segments.frame(in.frame[:], in.framePos, !in.frameReal)
			in.framePos += FrameSamples
			in.frameLen = 0
			in.frameReal = false
		}
	}
}
