package wav

import (
	"math"

	"github.com/visio-meet/visio/internal/speech"
)

// The low-pass filter of the resampler: a Kaiser-windowed sinc.
const (
	// cutoff is where the filter is at half amplitude, as a fraction of
	// the lower of the two rates; with zeroCrossings it puts the stop band
	// just below that rate's Nyquist frequency (8 kHz for speech), so that
	// nothing folds back into the band that speech needs.
	cutoff = 0.46
	// zeroCrossings is the half-length of the filter in periods of the
	// lower rate: 32 gives a transition band of about 8 % of that rate.
	zeroCrossings = 32
	// kaiserBeta sets the stop-band attenuation, about 80 dB.
	kaiserBeta = 8.0
	// maxPhases bounds the table of filter phases for rates whose ratio to
	// 16 kHz has a large denominator (44.1 kHz has 160; 44.101 kHz would
	// need 16000). Positions are then rounded to 1/maxPhases of an input
	// sample, an error far below what 16-bit samples can show.
	maxPhases = 1024
)

// ToSpeech turns interleaved samples of any rate and channel count into what
// speech engines take: mono at speech.SampleRate. Channels are averaged, and
// other rates go through a linear-phase low-pass filter and polyphase
// interpolation, so that integer ratios such as 48 kHz → 16 kHz and
// fractional ones such as 44.1 kHz → 16 kHz are both free of aliasing.
func ToSpeech(samples []int16, rate, channels int) []int16 {
	if channels < 1 || rate < 1 {
		return nil
	}
	mono := downmix(samples, channels)
	if rate == speech.SampleRate {
		return mono
	}
	return resample(mono, rate, speech.SampleRate)
}

func downmix(samples []int16, channels int) []int16 {
	if channels == 1 {
		return append([]int16(nil), samples...)
	}
	mono := make([]int16, len(samples)/channels)
	for i := range mono {
		sum := 0
		for _, s := range samples[i*channels : (i+1)*channels] {
			sum += int(s)
		}
		mono[i] = int16(sum / channels)
	}
	return mono
}

// resample converts mono samples from rate in to rate out. Output sample n
// sits at input position n·in/out, kept as an exact fraction so that long
// files do not drift.
func resample(x []int16, in, out int) []int16 {
	g := gcd(in, out)
	up, down := out/g, in/g // out/in = up/down
	n := int(int64(len(x)) * int64(up) / int64(down))
	y := make([]int16, n)
	if n == 0 {
		return y
	}
	f := newFilter(in, out, min(up, maxPhases))
	for i := range y {
		pos := int64(i) * int64(down) // in units of 1/up input samples
		base := int(pos / int64(up))
		phase := int((pos % int64(up)) * int64(f.phases) / int64(up))
		taps := f.taps[phase]
		// taps[j] weighs input sample base-f.half+1+j.
		first := base - f.half + 1
		y[i] = clip(convolve(x, first, taps))
	}
	return y
}

// convolve sums taps[j]·x[first+j], with zeros outside x.
func convolve(x []int16, first int, taps []float64) float64 {
	if first < 0 {
		taps = taps[min(-first, len(taps)):]
		first = 0
	}
	if end := first + len(taps); end > len(x) {
		taps = taps[:max(len(x)-first, 0)]
	}
	if len(taps) == 0 {
		return 0
	}
	window := x[first : first+len(taps)]
	var acc float64
	for j, t := range taps {
		acc += t * float64(window[j])
	}
	return acc
}

// filter holds the taps of each phase: taps[p][j] weighs the input sample
// j-half+1 places from the one before the output sample, when the output
// sample is p/phases of a sample after it.
type filter struct {
	taps   [][]float64
	half   int
	phases int
}

func newFilter(in, out, phases int) filter {
	low := float64(min(in, out))
	fc := cutoff * low / float64(in)                   // cycles per input sample
	span := float64(zeroCrossings) * float64(in) / low // half-length in input samples
	half := int(math.Ceil(span))
	f := filter{taps: make([][]float64, phases), half: half, phases: phases}
	for p := range phases {
		frac := float64(p) / float64(phases)
		taps := make([]float64, 2*half)
		sum := 0.0
		for j := range taps {
			// Distance from the output sample to input sample j-half+1.
			t := float64(j-half+1) - frac
			taps[j] = 2 * fc * sinc(2*fc*t) * kaiser(t/span)
			sum += taps[j]
		}
		// Unit gain at DC in every phase, so that a constant stays a
		// constant instead of rippling at the phase rate.
		for j := range taps {
			taps[j] /= sum
		}
		f.taps[p] = taps
	}
	return f
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// kaiser is the Kaiser window at x in [-1, 1], zero outside.
func kaiser(x float64) float64 {
	if x <= -1 || x >= 1 {
		return 0
	}
	return besselI0(kaiserBeta*math.Sqrt(1-x*x)) / besselI0(kaiserBeta)
}

// besselI0 is the modified Bessel function of the first kind, order 0, by
// its power series, which converges fast for the arguments of a window.
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 50; k++ {
		term *= (x / (2 * float64(k))) * (x / (2 * float64(k)))
		sum += term
		if term < sum*1e-17 {
			break
		}
	}
	return sum
}

func clip(v float64) int16 {
	v = math.Round(v)
	switch {
	case v > math.MaxInt16:
		return math.MaxInt16
	case v < math.MinInt16:
		return math.MinInt16
	}
	return int16(v)
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
