package speech

import "math"

// The energy detector's settings, in dB relative to full scale (dBFS) of a
// 20 ms frame's RMS level.
const (
	// silenceDB is the lowest level, that of digital silence (a muted
	// microphone, a noise-suppressing browser), so that it does not drag
	// the floor to minus infinity.
	silenceDB = -80
	// absoluteFloorDB is the quietest level taken for speech whatever the
	// noise: below it is breath, hiss or a far-away voice. Browsers' gain
	// control brings speech to about -30..-20 dBFS.
	absoluteFloorDB = -50
	// onsetMarginDB is how far above the noise floor a frame must be to
	// start speech, and holdMarginDB to go on with it: the hysteresis keeps
	// the soft ends of words inside the speech.
	onsetMarginDB = 10
	holdMarginDB  = 6
	// The noise floor is the quietest frame of the last floorBlocks blocks
	// of floorBlockFrames frames (2 s): even continuous speech has quiet
	// frames between words that often, and a new, louder noise (a fan) is
	// learned within that time.
	floorBlockFrames = 25
	floorBlocks      = 4
	// dcPole is the pole of the high-pass filter that removes a
	// microphone's DC offset and rumble (about 40 Hz at 16 kHz) before
	// measuring energy.
	dcPole = 0.985
)

// energyDetector is the package's own VoiceDetector: a frame is speech when
// its level is clearly above an adaptive noise floor and above an absolute
// floor. It is pure Go, cheap (one pass over the frame), and good enough
// when each participant has a microphone of their own.
type energyDetector struct {
	prevIn, prevOut float64 // high-pass filter state
	blockMin        [floorBlocks]float64
	block           int // index of the block being filled
	blockFrames     int // frames in it so far
	speaking        bool
}

func newEnergyDetector() *energyDetector {
	d := &energyDetector{}
	d.Reset()
	return d
}

// Reset forgets the noise floor, for a new stream.
func (d *energyDetector) Reset() {
	*d = energyDetector{}
	for i := range d.blockMin {
		d.blockMin[i] = math.Inf(1)
	}
}

// Speech says whether the frame is speech.
func (d *energyDetector) Speech(frame []int16) bool {
	level := d.level(frame)
	d.blockMin[d.block] = min(d.blockMin[d.block], level)
	d.blockFrames++
	if d.blockFrames == floorBlockFrames {
		d.block = (d.block + 1) % floorBlocks
		d.blockFrames = 0
		d.blockMin[d.block] = math.Inf(1)
	}
	floor := math.Inf(1)
	for _, m := range d.blockMin {
		floor = min(floor, m)
	}

	margin := float64(onsetMarginDB)
	if d.speaking {
		margin = holdMarginDB
	}
	d.speaking = level > floor+margin && level > absoluteFloorDB
	return d.speaking
}

// level returns the frame's RMS level in dBFS after the high-pass filter.
func (d *energyDetector) level(frame []int16) float64 {
	if len(frame) == 0 {
		return silenceDB
	}
	var sum float64
	for _, s := range frame {
		x := float64(s)
		y := x - d.prevIn + dcPole*d.prevOut
		d.prevIn, d.prevOut = x, y
		sum += y * y
	}
	return powerDB(sum / float64(len(frame)))
}

// frameLevel returns the RMS level of a frame in dBFS, without filtering:
// used to compare frames of the same utterance.
func frameLevel(frame []int16) float64 {
	if len(frame) == 0 {
		return silenceDB
	}
	var sum float64
	for _, s := range frame {
		sum += float64(s) * float64(s)
	}
	return powerDB(sum / float64(len(frame)))
}

// powerDB converts a mean square of 16-bit samples to dBFS, no lower than
// silenceDB.
func powerDB(meanSquare float64) float64 {
	const fullScale = 32768.0 * 32768.0
	if meanSquare <= 0 {
		return silenceDB
	}
	return max(10*math.Log10(meanSquare/fullScale), silenceDB)
}
