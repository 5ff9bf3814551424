package speech

import (
	"testing"

	"github.com/pion/opus"
)

// The decoder gives 16 kHz audio for every packet duration and mode a
// browser or opusenc produces, not only 20 ms SILK.
func TestDecodeFrameSizesAndModes(t *testing.T) {
	for _, tc := range []struct {
		file string
		ms   int
		mode string
	}{
		{"speech.opus", 20, "silk"},
		{"frames-10.opus", 10, "silk"},
		{"frames-40.opus", 40, "silk"},
		{"frames-60.opus", 60, "silk"},
		{"celt.opus", 20, "celt"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			packets := loadOpus(t, tc.file)
			dec, err := opus.NewDecoderWithOutput(SampleRate, 1)
			if err != nil {
				t.Fatal(err)
			}
			pcm := make([]int16, maxPacketSamples)
			modes := map[string]int{}
			loud := 0
			for i, p := range packets {
				modes[tocMode(p.data)]++
				n, err := dec.DecodeToInt16(p.data, pcm)
				if err != nil {
					t.Fatalf("packet %d: %v", i, err)
				}
				if want := p.ticks / ticksPerSample; n != want {
					t.Fatalf("packet %d: %d samples, want %d", i, n, want)
				}
				if frameLevel(pcm[:n]) > -40 {
					loud++
				}
			}
			if modes[tc.mode] < len(packets)*9/10 {
				t.Errorf("modes %v: want mostly %s", modes, tc.mode)
			}
			if ms := packets[len(packets)/2].ticks * 1000 / rtpClockRate; ms != tc.ms {
				t.Errorf("packets of %d ms, want %d", ms, tc.ms)
			}
			// About 0.8 s of the audio is speech.
			if loudMs := loud * tc.ms; loudMs < 400 {
				t.Errorf("only %d ms of loud audio decoded; the speech is missing", loudMs)
			}
		})
	}
}

// Damaged packets are refused with an error, never a panic, and the decoder
// goes on with good packets afterwards.
func TestDecodeBadPackets(t *testing.T) {
	good := loadOpus(t, "speech.opus")[40].data
	in, err := newIntake(newFakeClock().Now(), newEnergyDetector(), newUtteranceQueue(1, &trackCounters{}, discardLogger()), &trackCounters{}, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	bad := [][]byte{
		{},
		{0xff},             // CELT code 3 without a frame count
		{0x0b, 0xff, 0xff}, // code 3, 63 frames of 60 ms: longer than 120 ms
		{0x4a, 0x01},       // code 2 with a frame length beyond the packet
		make([]byte, 1400), // one SILK frame far too long
		append([]byte{0x7b}, make([]byte, 2000)...),
		good[:2],
	}
	for i, p := range bad {
		if _, err := in.decode(p); err == nil && i < len(bad)-1 {
			t.Errorf("bad packet %d (% x...) decoded without an error", i, p[:min(len(p), 4)])
		}
	}
	if n, err := in.decode(good); err != nil || n != SampleRate/50 {
		t.Errorf("a good packet after bad ones: %d samples, %v", n, err)
	}
}
