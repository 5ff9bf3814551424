package speechapi

import (
	"context"
	"strings"
	"time"

	"github.com/visio-meet/visio/internal/speech"
)

const (
	// maxChunk is the longest audio given to the engine at once: Whisper
	// models hear 30 s windows, and other engines do not do better with
	// more.
	maxChunk = 30 * speech.SampleRate
	// cutSearch is how far before a chunk's limit the quietest frame is
	// looked for: long enough to find a pause between words or sentences.
	cutSearch = 5 * speech.SampleRate
)

// span is a part of the audio, in samples.
type span struct{ start, end int }

// chunks cuts audio into spans of at most maxChunk samples, each cut in the
// middle of the quietest 20 ms frame of the last cutSearch before the limit,
// so that words are not split when a pause is at hand.
func chunks(samples []int16) []span {
	var spans []span
	start := 0
	for len(samples)-start > maxChunk {
		limit := start + maxChunk
		best, bestEnergy := limit-speech.FrameSamples, int64(-1)
		for f := limit - speech.FrameSamples; f >= limit-cutSearch; f -= speech.FrameSamples {
			e := energy(samples[f : f+speech.FrameSamples])
			if bestEnergy < 0 || e < bestEnergy {
				best, bestEnergy = f, e
			}
		}
		cut := best + speech.FrameSamples/2
		spans = append(spans, span{start, cut})
		start = cut
	}
	return append(spans, span{start, len(samples)})
}

func energy(frame []int16) int64 {
	var sum int64
	for _, s := range frame {
		sum += int64(s) * int64(s)
	}
	return sum
}

// transcript is the whole audio's text, on one timeline.
type transcript struct {
	text     string
	language string
	segments []speech.Piece // times from the start of the audio
	duration time.Duration
	chunks   int
}

func at(sample int) time.Duration {
	return time.Duration(sample) * time.Second / speech.SampleRate
}

// transcribe gives each chunk to the engine in turn and puts the results on
// one timeline. A chunk whose engine gives no times becomes one segment.
func (h *handler) transcribe(ctx context.Context, req request) (transcript, error) {
	spans := chunks(req.samples)
	t := transcript{language: req.language, duration: at(len(req.samples)), chunks: len(spans)}
	var texts []string
	for _, sp := range spans {
		res, err := h.engine.Transcribe(ctx, speech.Audio{Samples: req.samples[sp.start:sp.end], Language: req.language})
		if err != nil {
			return transcript{}, err
		}
		if t.language == "" {
			t.language = res.Language
		}
		offset, length := at(sp.start), at(sp.end-sp.start)
		text := strings.TrimSpace(res.Text)
		var pieceTexts []string
		for _, p := range res.Pieces {
			p.Text = strings.TrimSpace(p.Text)
			if p.Text == "" {
				continue
			}
			start := min(max(p.Start, 0), length)
			end := min(max(p.End, start), length)
			t.segments = append(t.segments, speech.Piece{Start: offset + start, End: offset + end, Text: p.Text})
			pieceTexts = append(pieceTexts, p.Text)
		}
		switch {
		case len(pieceTexts) == 0 && text != "":
			t.segments = append(t.segments, speech.Piece{Start: offset, End: offset + length, Text: text})
		case text == "":
			text = strings.Join(pieceTexts, " ")
		}
		if text != "" {
			texts = append(texts, text)
		}
	}
	t.text = strings.Join(texts, " ")
	return t, nil
}
