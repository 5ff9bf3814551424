package wav

import (
	"fmt"
	"math"
	"testing"
	"time"
)

func sine(freq float64, rate int, d time.Duration, level float64) []int16 {
	n := int(d.Seconds() * float64(rate))
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(math.Round(level * 32767 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))))
	}
	return s
}

// amplitude is the peak amplitude, in full scale, of the component of x at
// freq: what a listener would hear of that tone.
func amplitude(x []int16, freq float64, rate int) float64 {
	var re, im float64
	for i, v := range x {
		phase := 2 * math.Pi * freq * float64(i) / float64(rate)
		re += float64(v) * math.Cos(phase)
		im += float64(v) * math.Sin(phase)
	}
	return 2 * math.Hypot(re, im) / float64(len(x)) / 32767
}

func dB(ratio float64) float64 { return 20 * math.Log10(ratio) }

func TestToSpeechKeepsSpeechBandAndRejectsAliases(t *testing.T) {
	tests := []struct {
		name string
		rate int
		tone float64 // heard as the same tone at 16 kHz
		// alias is above 8 kHz at the input rate and would fold into
		// the speech band without a low-pass filter.
		alias float64
	}{
		{"48 kHz", 48000, 1000, 10000},
		{"44.1 kHz", 44100, 3000, 9000},
		{"22.05 kHz", 22050, 440, 8500},
		{"32 kHz", 32000, 6000, 12000},
		{"8 kHz up", 8000, 1000, 0},
		{"11.025 kHz up", 11025, 2000, 0},
		{"16 kHz", 16000, 1000, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := sine(tt.tone, tt.rate, time.Second, 0.5)
			out := ToSpeech(in, tt.rate, 1)
			if want := len(in) * 16000 / tt.rate; len(out) != want {
				t.Errorf("got %d samples, want %d", len(out), want)
			}
			mid := out[1600 : len(out)-1600] // away from the edges
			if a := amplitude(mid, tt.tone, 16000); math.Abs(dB(a/0.5)) > 0.1 {
				t.Errorf("%.0f Hz tone comes out at %.2f dB, want 0 ± 0.1", tt.tone, dB(a/0.5))
			}
			if tt.rate < 16000 {
				// The image of the tone mirrored around the input's
				// Nyquist frequency must not be created.
				image := float64(tt.rate) - tt.tone
				if a := amplitude(mid, image, 16000); dB(a/0.5) > -60 {
					t.Errorf("image at %.0f Hz at %.1f dB, want below -60", image, dB(a/0.5))
				}
			}
			if tt.alias == 0 {
				return
			}
			folded := math.Abs(16000*math.Round(tt.alias/16000) - tt.alias)
			aliased := ToSpeech(sine(tt.alias, tt.rate, time.Second, 0.5), tt.rate, 1)
			if a := amplitude(aliased[1600:len(aliased)-1600], folded, 16000); dB(a/0.5) > -60 {
				t.Errorf("%.0f Hz folds to %.0f Hz at %.1f dB, want below -60", tt.alias, folded, dB(a/0.5))
			}
		})
	}
}

// TestToSpeechKeepsTiming checks that the filter does not delay the audio:
// a click stays where it was, so that the times of words stay right.
func TestToSpeechKeepsTiming(t *testing.T) {
	for _, rate := range []int{48000, 44100, 8000} {
		in := make([]int16, rate)
		in[rate/2] = 30000
		out := ToSpeech(in, rate, 1)
		peak := 0
		for i, v := range out {
			if abs(v) > abs(out[peak]) {
				peak = i
			}
		}
		if peak < 7999 || peak > 8001 {
			t.Errorf("%d Hz: click at 0.5 s comes out at sample %d, want 8000", rate, peak)
		}
	}
}

// TestToSpeechLongInputDoesNotDrift checks a fractional ratio over a long
// file: the count must be exact, and a click near the end must still be
// where it was, not off by rounding accumulated over millions of samples.
func TestToSpeechLongInputDoesNotDrift(t *testing.T) {
	const rate, seconds = 11025, 100
	in := make([]int16, rate*seconds+7)
	in[rate*(seconds-1)] = 30000 // at 99 s
	out := ToSpeech(in, rate, 1)
	if want := (rate*seconds + 7) * 640 / 441; len(out) != want {
		t.Errorf("got %d samples, want %d", len(out), want)
	}
	peak := 0
	for i, v := range out {
		if abs(v) > abs(out[peak]) {
			peak = i
		}
	}
	if want := 16000 * (seconds - 1); peak < want-1 || peak > want+1 {
		t.Errorf("click at 99 s comes out at sample %d, want %d", peak, want)
	}
}

func TestToSpeechDownmix(t *testing.T) {
	left := sine(1000, 16000, 100*time.Millisecond, 0.5)
	stereo := make([]int16, 2*len(left))
	opposite := make([]int16, 2*len(left))
	for i, v := range left {
		stereo[2*i], stereo[2*i+1] = v, v
		opposite[2*i], opposite[2*i+1] = v, -v
	}
	same := ToSpeech(stereo, 16000, 2)
	if a := amplitude(same, 1000, 16000); math.Abs(a-0.5) > 0.01 {
		t.Errorf("same tone on both channels: amplitude %.3f, want 0.5", a)
	}
	if a := amplitude(ToSpeech(opposite, 16000, 2), 1000, 16000); a > 0.001 {
		t.Errorf("opposite channels: amplitude %.3f, want silence", a)
	}
	if got := ToSpeech([]int16{1, 2, 3}, 16000, 2); len(got) != 1 {
		t.Errorf("a partial last frame gives %d samples, want 1 (dropped)", len(got))
	}
}

func TestToSpeechRejectsNonsense(t *testing.T) {
	if got := ToSpeech([]int16{1, 2}, 16000, 0); got != nil {
		t.Errorf("0 channels gave %v, want nil", got)
	}
	if got := ToSpeech([]int16{1, 2}, 0, 1); got != nil {
		t.Errorf("rate 0 gave %v, want nil", got)
	}
}

func abs(v int16) int {
	if v < 0 {
		return -int(v)
	}
	return int(v)
}

func BenchmarkToSpeech(b *testing.B) {
	for _, rate := range []int{48000, 44100, 8000} {
		in := sine(440, rate, 10*time.Second, 0.5)
		b.Run(fmt.Sprintf("%d Hz", rate), func(b *testing.B) {
			for b.Loop() {
				ToSpeech(in, rate, 1)
			}
		})
	}
}
