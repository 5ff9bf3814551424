package speech

import (
	"strings"
	"testing"
	"time"

	"github.com/pion/opus"
)

// scriptDetector says a frame is speech when its first sample is odd, so
// that a test writes the voice into the frames themselves.
type scriptDetector struct{ resets int }

func (d *scriptDetector) Speech(f []int16) bool { return f[0]%2 != 0 }
func (d *scriptDetector) Reset()                { d.resets++ }

// frames builds frames from a pattern: "v" a voiced frame, "." a silent
// one, each repeated by the count before it ("20. 40v").
func frames(pattern string) [][]int16 {
	var out [][]int16
	for _, part := range strings.Fields(pattern) {
		n := 1
		if k := len(part) - 1; k > 0 {
			n = atoi(part[:k])
		}
		value := int16(2000) // even: silent, but loud enough to measure
		if part[len(part)-1] == 'v' {
			value = 3001
		}
		for range n {
			f := make([]int16, FrameSamples)
			for i := range f {
				f[i] = value
			}
			out = append(out, f)
		}
	}
	return out
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// segmentFrames runs frames through a segmenter and returns the utterances
// it finished (not those discarded).
func segmentFrames(t *testing.T, detector VoiceDetector, fs [][]int16, flush bool) []*utterance {
	t.Helper()
	return segmentConcealed(t, detector, fs, nil, flush)
}

// segmentConcealed is segmentFrames where the frames marked in concealed
// stand for missing packets.
func segmentConcealed(t *testing.T, detector VoiceDetector, fs [][]int16, concealed []bool, flush bool) []*utterance {
	t.Helper()
	q := newUtteranceQueue(1000, &trackCounters{}, discardLogger())
	s := newSegmenter(detector, q, samplesDuration)
	for i, f := range fs {
		s.frame(f, int64(i)*FrameSamples, i < len(concealed) && concealed[i])
	}
	if flush {
		s.flush()
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	var done []*utterance
	for _, u := range q.waiting {
		if u.closed {
			done = append(done, u)
		}
	}
	return done
}

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestSegmenterBoundaries(t *testing.T) {
	type want struct {
		audioStart, start, end time.Duration
		frames                 int // of audio
	}
	for _, tc := range []struct {
		name    string
		pattern string
		flush   bool
		want    []want
	}{
		// 200 ms of pre-roll before the voice, 200 ms of tail after it.
		{"one", "20. 40v 30.", false, []want{{ms(200), ms(400), ms(1200), 10 + 40 + 10}}},
		{"pre-roll at the start", "3. 40v 30.", false, []want{{0, ms(60), ms(860), 3 + 40 + 10}}},
		{"pause shorter than the hangover", "20. 20v 20. 20v 30.", false, []want{{ms(200), ms(400), ms(1600), 10 + 60 + 10}}},
		{"two", "20. 20v 30. 20v 30.", false, []want{{ms(200), ms(400), ms(800), 40}, {ms(1200), ms(1400), ms(1800), 40}}},
		{"blip", "20. 10v 30.", false, nil},
		{"clicks", "20. v . v . v . v . v . v . v . v 30.", false, nil},
		{"unfinished, flushed", "20. 40v 5.", true, []want{{ms(200), ms(400), ms(1200), 10 + 40 + 5}}},
		{"unfinished, not flushed", "20. 40v 5.", false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := segmentFrames(t, &scriptDetector{}, frames(tc.pattern), tc.flush)
			if len(got) != len(tc.want) {
				t.Fatalf("%d utterances, want %d", len(got), len(tc.want))
			}
			for i, u := range got {
				w := tc.want[i]
				if u.audioStart != w.audioStart || u.start != w.start || u.end != w.end || len(u.samples) != w.frames*FrameSamples {
					t.Errorf("utterance %d: audio from %v, voice %v-%v, %d frames; want %+v",
						i, u.audioStart, u.start, u.end, len(u.samples)/FrameSamples, w)
				}
			}
		})
	}
}

// Speech longer than the maximum is cut at the quietest frame of its last
// second, and goes on in the next utterance without losing audio.
func TestSegmenterCutsLongSpeech(t *testing.T) {
	fs := frames("10. 900v 30.")
	quiet := 10 + 720 // well inside the last second before 15 s
	for i := range fs[quiet] {
		fs[quiet][i] = 11 // voiced but quiet
	}
	got := segmentFrames(t, &scriptDetector{}, fs, false)
	if len(got) != 2 {
		t.Fatalf("%d utterances", len(got))
	}
	first, second := got[0], got[1]
	cut := samplesDuration(int64(quiet+1) * FrameSamples)
	if first.end != cut || second.start != cut || second.audioStart != cut {
		t.Errorf("cut at %v/%v, want %v", first.end, second.start, cut)
	}
	if len(first.samples) > maxUtteranceSamples {
		t.Errorf("first utterance of %d samples, more than the maximum", len(first.samples))
	}
	total := len(first.samples) + len(second.samples)
	if want := (900 + 10 + 10) * FrameSamples; total != want {
		t.Errorf("%d samples in all, want %d", total, want)
	}
	if second.end != samplesDuration(910*FrameSamples) {
		t.Errorf("second ends at %v", second.end)
	}
}

// With the package's detector, speech in background noise is still cut
// where the voice is.
func TestSegmenterSpeechInNoise(t *testing.T) {
	packets := loadOpus(t, "speech.opus")
	dec, err := opus.NewDecoderWithOutput(SampleRate, 1)
	if err != nil {
		t.Fatal(err)
	}
	noise := newSignal()
	pcm := make([]int16, maxPacketSamples)
	var fs [][]int16
	for _, p := range packets {
		n, err := dec.DecodeToInt16(p.data, pcm)
		if err != nil || n != FrameSamples {
			t.Fatalf("decode: %d, %v", n, err)
		}
		noise.add(1, -45, noTone)
		f := noise.frames[len(noise.frames)-1]
		for i := range f {
			f[i] = int16(max(min(int(f[i])+int(pcm[i]), 32767), -32768))
		}
		fs = append(fs, f)
	}
	got := segmentFrames(t, newEnergyDetector(), fs, true)
	var segs []Segment
	for _, u := range got {
		segs = append(segs, Segment{Start: u.start, End: u.end})
	}
	checkSpans(t, segs, loadSpans(t, "speech.txt"))
}

// In a noisy room with DTX, the silence concealing the packets the sender
// did not send must not teach the detector a floor below the room's noise:
// the utterance would then go on over the noise after the voice stops.
func TestSegmenterDTXInNoise(t *testing.T) {
	sig := newSignal()
	sig.add(150, -45, noTone) // 3 s of DTX: one frame of noise in 20 is sent
	sig.add(50, -45, -20)     // 1 s of voice
	sig.add(100, -45, noTone) // 2 s of noise, sent in full
	concealed := make([]bool, len(sig.frames))
	for i := range 150 {
		if i%20 != 0 {
			concealed[i] = true
			clear(sig.frames[i])
		}
	}
	got := segmentConcealed(t, newEnergyDetector(), sig.frames, concealed, true)
	if len(got) != 1 {
		t.Fatalf("%d utterances", len(got))
	}
	if want := ms(200 * 20); !near(got[0].end, want, tolerance) {
		t.Errorf("the utterance ends at %v, the voice at %v", got[0].end, want)
	}
}
