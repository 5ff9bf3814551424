//go:build pocketsphinx && cgo

package pocketsphinx

import (
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/visio-meet/visio/internal/speech"
	"github.com/visio-meet/visio/internal/speech/speechtest"
)

// newEngine makes an engine on Debian's model, skipping the test when the
// model is not installed (failing under VISIO_REQUIRE_TEST_SERVICES=1).
func newEngine(t *testing.T, cfg Config) *Engine {
	t.Helper()
	if _, err := findModel(DefaultModelDir); err != nil {
		if os.Getenv(speechtest.RequireEnv) == "1" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// cpuTime is the CPU time this process has used.
func cpuTime(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// checkHeard scores what the engine heard in each turn of the
// conversation. pocketsphinx's general English model does poorly on
// espeak-ng's voices (a word error rate of about 0.75 to 0.9), so the
// checks are those that a broken pipeline (silence, noise, misplaced or
// misdecoded audio) fails: some words of most turns are right, and each
// turn's text is nearer its own reference than any other turn's.
func checkHeard(t *testing.T, path string, d *speechtest.Dialogue, heard []string, cpu time.Duration) {
	t.Helper()
	var errors, words, right, turnsWithWords, recognised int
	var audio time.Duration
	for i, turn := range d.Turns {
		rate, errs, n := speechtest.WER(turn.Text, heard[i])
		errors += errs
		words += n
		audio += turn.End - turn.Start
		own := correct(turn.Text, heard[i])
		right += own
		if own > 0 {
			turnsWithWords++
		}
		if nearest(d, heard[i]) == i {
			recognised++
		}
		t.Logf("%s WER %.2f, %d words right: %q -> %q", turn.Speaker, rate, own, turn.Text, heard[i])
	}
	// The same transcriptions scored against the wrong turns, which is
	// what a pipeline that lost track of the audio would get.
	var wrongErrors, wrongRight int
	for i := range d.Turns {
		other := d.Turns[(i+1)%len(d.Turns)].Text
		_, errs, _ := speechtest.WER(other, heard[i])
		wrongErrors += errs
		wrongRight += correct(other, heard[i])
	}
	t.Logf("%s, scored against the next turn's text: WER %.3f, %d words right",
		path, float64(wrongErrors)/float64(words), wrongRight)
	wer := float64(errors) / float64(words)
	rtf := "not measured"
	if cpu > 0 {
		rtf = fmt.Sprintf("%.3f", cpu.Seconds()/audio.Seconds())
	}
	t.Logf("%s: WER %.3f (%d errors in %d words), %d words right, %d turns with a word right, "+
		"%d turns nearest their own text, CPU real-time factor %s",
		path, wer, errors, words, right, turnsWithWords, recognised, rtf)
	if wer >= maxWER {
		t.Errorf("%s: WER %.3f, want below %.2f", path, wer, maxWER)
	}
	if right < minWordsRight {
		t.Errorf("%s: %d words right in the whole conversation, want at least %d", path, right, minWordsRight)
	}
	if turnsWithWords < minTurnsWithWords {
		t.Errorf("%s: only %d of %d turns had a word right, want at least %d",
			path, turnsWithWords, len(d.Turns), minTurnsWithWords)
	}
	if right < 2*wrongRight {
		t.Errorf("%s: %d words right, not clearly more than the %d found against the wrong turns",
			path, right, wrongRight)
	}
	if recognised < minTurnsRecognised {
		t.Errorf("%s: only %d of %d transcriptions are nearest their own turn's text, want at least %d",
			path, recognised, len(d.Turns), minTurnsRecognised)
	}
}

// The bounds of checkHeard. Measured with espeak-ng 1.51, sox 14.4.2 and
// opus-tools 0.2 on Debian 12 (108 words, 10 turns), for Transcribe, Stream
// and Opus: WER 0.82, 0.75 and 0.75; 27, 35 and 39 words right (6 to 9
// against the wrong turns); 8, 10 and 10 turns with a word right; 7, 6 and
// 8 turns nearest their own text. Silence scores a WER of 1 and no words.
// Small changes to the audio move these figures by several points.
const (
	maxWER             = 0.95
	minWordsRight      = 18
	minTurnsWithWords  = 6
	minTurnsRecognised = 3
)

// correct counts the reference's words also found in the hypothesis, each
// found word counting once.
func correct(reference, hypothesis string) int {
	heard := map[string]int{}
	for _, w := range speechtest.Words(hypothesis) {
		heard[w]++
	}
	n := 0
	for _, w := range speechtest.Words(reference) {
		if heard[w] > 0 {
			heard[w]--
			n++
		}
	}
	return n
}

// nearest returns the turn whose text shares the most words with heard,
// or -1 when two turns tie.
func nearest(d *speechtest.Dialogue, heard string) int {
	best, bestCount := -1, 0
	for i, turn := range d.Turns {
		switch n := correct(turn.Text, heard); {
		case n > bestCount:
			best, bestCount = i, n
		case n == bestCount:
			best = -1
		}
	}
	return best
}

// skipIfShort skips the tests that decode the whole conversation, about
// 30 s of CPU each.
func skipIfShort(t *testing.T) {
	if testing.Short() {
		t.Skip("decoding the whole conversation takes about 30 s; run without -short")
	}
}

func TestTranscribeConversation(t *testing.T) {
	skipIfShort(t)
	d := speechtest.Conversation(t)
	e := newEngine(t, Config{})
	heard := make([]string, len(d.Turns))
	before := cpuTime(t)
	for i := range d.Turns {
		r, err := e.Transcribe(t.Context(), speech.Audio{Samples: d.TurnAudio(i), Language: "en"})
		if err != nil {
			t.Fatal(err)
		}
		heard[i] = r.Text
		checkPieces(t, r, d.Turns[i].End-d.Turns[i].Start)
	}
	checkHeard(t, "Transcribe", d, heard, cpuTime(t)-before)
}

// checkPieces checks that the words' times lie in the audio, in order, and
// spell the text.
func checkPieces(t *testing.T, r speech.Result, length time.Duration) {
	t.Helper()
	var text string
	var prevEnd time.Duration
	for _, p := range r.Pieces {
		if p.Start < prevEnd || p.End <= p.Start || p.End > length+frameDuration {
			t.Errorf("word %q at %v-%v, after %v, in %v of audio", p.Text, p.Start, p.End, prevEnd, length)
		}
		prevEnd = p.End
		if text != "" {
			text += " "
		}
		text += p.Text
	}
	if text != r.Text {
		t.Errorf("words %q do not spell the text %q", text, r.Text)
	}
}

func TestStreamConversation(t *testing.T) {
	skipIfShort(t)
	d := speechtest.Conversation(t)
	e := newEngine(t, Config{})
	// One stream per speaker, as the pipeline has one per track, each
	// following several utterances.
	streams := map[string]speech.Stream{}
	for _, speaker := range []string{speechtest.SpeakerA, speechtest.SpeakerB} {
		st, err := e.NewStream("en")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(st.Close)
		streams[speaker] = st
	}
	heard := make([]string, len(d.Turns))
	turnsWithPartials := 0
	before := cpuTime(t)
	for i, turn := range d.Turns {
		st := streams[turn.Speaker]
		var partials []string
		for audio := d.TurnAudio(i); len(audio) > 0; {
			n := min(len(audio), speech.FrameSamples)
			p, err := st.Write(audio[:n])
			if err != nil {
				t.Fatal(err)
			}
			if p != "" && (len(partials) == 0 || partials[len(partials)-1] != p) {
				partials = append(partials, p)
			}
			audio = audio[n:]
		}
		r, err := st.End()
		if err != nil {
			t.Fatal(err)
		}
		if r.Language != "en" {
			t.Errorf("language %q, want en", r.Language)
		}
		if len(partials) > 1 {
			turnsWithPartials++
		}
		heard[i] = r.Text
		t.Logf("turn %d: %d different partial texts", i, len(partials))
	}
	checkHeard(t, "Stream", d, heard, cpuTime(t)-before)
	// Captions grow while a person speaks: the text must change during
	// most utterances, not only appear at their end.
	if turnsWithPartials < len(d.Turns)*8/10 {
		t.Errorf("changing partial text in only %d of %d turns", turnsWithPartials, len(d.Turns))
	}
}
