package speech

import (
	"math"
	"math/rand/v2"
	"testing"
)

// signal builds test audio frame by frame.
type signal struct {
	rng    *rand.Rand
	phase  float64
	frames [][]int16
}

func newSignal() *signal { return &signal{rng: rand.New(rand.NewPCG(3, 4))} }

// amplitude converts an RMS level in dBFS to a sample amplitude (RMS).
func amplitude(db float64) float64 { return 32768 * math.Pow(10, db/20) }

// add appends n frames of noise at noiseDB plus, when toneDB is not NaN, a
// 220 Hz tone at toneDB (levels as RMS in dBFS).
func (s *signal) add(n int, noiseDB, toneDB float64) {
	noise, tone := amplitude(noiseDB), amplitude(toneDB)*math.Sqrt2
	for range n {
		f := make([]int16, FrameSamples)
		for i := range f {
			v := s.rng.NormFloat64() * noise
			if !math.IsNaN(toneDB) {
				v += tone * math.Sin(s.phase)
				s.phase += 2 * math.Pi * 220 / SampleRate
			}
			f[i] = int16(max(min(v, 32767), -32768))
		}
		s.frames = append(s.frames, f)
	}
}

// voiced runs a detector over the frames.
func voiced(d VoiceDetector, frames [][]int16) []bool {
	out := make([]bool, len(frames))
	for i, f := range frames {
		out[i] = d.Speech(f)
	}
	return out
}

func count(v []bool) int {
	n := 0
	for _, b := range v {
		if b {
			n++
		}
	}
	return n
}

var noTone = math.NaN()

func TestEnergyDetectorToneInNoise(t *testing.T) {
	s := newSignal()
	s.add(100, -60, noTone) // 2 s of room noise
	s.add(50, -60, -25)     // 1 s of "voice"
	s.add(100, -60, noTone)
	v := voiced(newEnergyDetector(), s.frames)
	// The frame after the tone may hold its end, ringing in the
	// high-pass filter.
	if n := count(v[:100]) + count(v[151:]); n != 0 {
		t.Errorf("%d noise frames taken for speech", n)
	}
	if n := count(v[100:150]); n != 50 {
		t.Errorf("%d of 50 voice frames detected", n)
	}
}

// A noise that gets louder (a fan turned on) is learnt within about two
// seconds, and voice above it is still heard.
func TestEnergyDetectorLearnsLouderNoise(t *testing.T) {
	s := newSignal()
	s.add(100, -65, noTone)
	s.add(250, -42, noTone) // 5 s of a louder noise
	s.add(50, -42, -20)
	v := voiced(newEnergyDetector(), s.frames)
	if n := count(v[100:350]); n > 2*floorBlockFrames*floorBlocks {
		t.Errorf("%d frames of the new noise taken for speech", n)
	}
	if n := count(v[100+floorBlocks*floorBlockFrames+floorBlockFrames : 350]); n != 0 {
		t.Errorf("%d frames of the new noise still taken for speech after it was learnt", n)
	}
	if n := count(v[350:]); n < 48 {
		t.Errorf("%d of 50 voice frames heard over the louder noise", n)
	}
}

// In digital silence (a noise-suppressing browser), a faint sound is not
// speech, a normal one is.
func TestEnergyDetectorAbsoluteFloor(t *testing.T) {
	for _, tc := range []struct {
		toneDB float64
		want   bool
	}{{-58, false}, {-40, true}} {
		s := newSignal()
		s.add(50, -200, noTone)
		s.add(25, -200, tc.toneDB)
		v := voiced(newEnergyDetector(), s.frames)
		if count(v[:50]) != 0 {
			t.Errorf("digital silence taken for speech")
		}
		if got := count(v[50:]) > 20; got != tc.want {
			t.Errorf("tone at %v dBFS: speech %v, want %v", tc.toneDB, got, tc.want)
		}
	}
}

// Once in speech, softer frames keep it going (hysteresis): the quiet end of
// a word stays speech.
func TestEnergyDetectorHysteresis(t *testing.T) {
	// With noise at -56 dBFS, a tone at -49 dBFS is about 8 dB above the
	// floor: between the hold and onset margins, above the absolute floor.
	s := newSignal()
	s.add(100, -56, noTone)
	s.add(10, -56, -30)
	s.add(10, -56, -49)
	v := voiced(newEnergyDetector(), s.frames)
	if n := count(v[110:]); n != 10 {
		t.Errorf("%d of 10 soft frames after speech kept", n)
	}
	s2 := newSignal()
	s2.add(100, -56, noTone)
	s2.add(10, -56, -49)
	if n := count(voiced(newEnergyDetector(), s2.frames)[100:]); n != 0 {
		t.Errorf("%d soft frames started speech", n)
	}
}
