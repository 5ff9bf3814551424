// Package speech turns each participant's own audio track into text: RTP
// packets are put back in order, decoded from Opus to 16 kHz mono, cut into
// utterances where the voice stops, and given to a speech-to-text Engine.
// Because every participant has a track of their own, who said what is known
// exactly; no diarization is needed.
//
// Engines live in their own packages (openai, pocketsphinx, sherpa) behind
// the Engine interface, so that this package and the server build without
// cgo.
package speech

import (
	"context"
	"errors"
	"time"
)

// SampleRate is the rate of the audio given to engines: 16 kHz, mono, signed
// 16-bit samples, what speech models are trained on.
const SampleRate = 16000

// Audio is one utterance: the samples of one person speaking, from the start
// of their voice to the pause that ended it.
type Audio struct {
	Samples  []int16 // at SampleRate, mono
	Language string  // BCP 47 primary tag ("fr", "en"); "" lets the engine guess
}

// Duration returns how long the audio lasts.
func (a Audio) Duration() time.Duration {
	return time.Duration(len(a.Samples)) * time.Second / SampleRate
}

// Result is what an engine heard in an utterance.
type Result struct {
	Text     string
	Language string // as detected or as asked; "" when unknown
	// Pieces are the engine's own time-stamped parts of the text, relative
	// to the start of the audio, when it gives them; may be empty.
	Pieces []Piece
}

// Piece is a part of a Result with its place in the audio.
type Piece struct {
	Start, End time.Duration
	Text       string
}

// Engine is a speech-to-text engine. Implementations are safe for use by
// several goroutines; the pipeline bounds how many calls run at once.
type Engine interface {
	// Name is the engine's configuration name ("openai", "sherpa", ...).
	Name() string
	// Transcribe returns the text of one utterance.
	Transcribe(ctx context.Context, a Audio) (Result, error)
	// Health says whether the engine can work now, for hosts and operators.
	Health(ctx context.Context) Health
	Close() error
}

// Streamer is an Engine that can also follow an utterance while it is
// spoken, giving partial text for live captions.
type Streamer interface {
	Engine
	// NewStream starts following one speaker's audio.
	NewStream(language string) (Stream, error)
}

// Stream follows one speaker. It is used by one goroutine at a time.
type Stream interface {
	// Write adds samples to the current utterance and returns the text
	// heard so far in it ("" when nothing yet).
	Write(samples []int16) (partial string, err error)
	// End closes the current utterance, returns its final text, and makes
	// the stream ready for the next one.
	End() (Result, error)
	Close()
}

// HealthState is the summary of a Health.
type HealthState string

// The states of an engine.
const (
	Healthy  HealthState = "ok"       // works
	Degraded HealthState = "degraded" // works, but slowly or with errors
	Down     HealthState = "down"     // does not work; Detail says why and what to do
)

// Health is an engine's state as shown to hosts.
type Health struct {
	State  HealthState
	Detail string // a sentence for a person
}

// ErrUnavailable is wrapped by engines that cannot work at all (no model, no
// endpoint): the caller turns the features off and says why.
var ErrUnavailable = errors.New("speech engine unavailable")

// Segment is one piece of a meeting's text, as captions show it and
// transcripts keep it.
type Segment struct {
	// Utterance numbers the speaker's utterances; the partial segments of
	// one utterance and its final one share it, so that a caption is
	// replaced in place.
	Utterance   uint64
	Participant string
	Name        string
	Start       time.Duration // since the transcript began
	End         time.Duration
	Text        string
	Language    string
	Final       bool
	// Missed counts the speaker's utterances dropped just before this one
	// because the engine fell behind; captions show the gap.
	Missed int
}

// VoiceDetector tells speech from silence, one 20 ms frame (FrameSamples
// samples) at a time. It keeps state between frames; one per track.
type VoiceDetector interface {
	Speech(frame []int16) bool
	Reset()
}

// FrameSamples is the length of the frames given to a VoiceDetector: 20 ms,
// the usual Opus packet.
const FrameSamples = SampleRate / 50
