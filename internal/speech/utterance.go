package speech

import "time"

// Utterance boundaries, in 20 ms frames.
const (
	// onsetFrames voiced frames in a row start an utterance: a single loud
	// frame is a click.
	onsetFrames = 2
	// hangoverFrames of silence end it (500 ms): shorter pauses are
	// between words.
	hangoverFrames = 25
	// prerollFrames before the onset are kept (200 ms), so that soft first
	// sounds the detector missed reach the engine.
	prerollFrames = 10
	// tailFrames of the hangover are kept after the last voiced frame.
	tailFrames = 10
	// minVoicedFrames: shorter blips (300 ms) are not speech.
	minVoicedFrames = 15
	// maxFrames (15 s) of continuous speech are cut into utterances, so
	// that captions and memory stay bounded.
	maxFrames = 750
	// cutWindowFrames: a long utterance is cut at the quietest frame of
	// its last second, most likely between words.
	cutWindowFrames = 50
	// maxUtteranceSamples bounds the samples of one utterance.
	maxUtteranceSamples = maxFrames * FrameSamples
)

// segmenter cuts a stream of 20 ms frames into utterances, from the voice's
// onset to the end of the hangover, and gives them to the queue as they
// grow. Positions are sample counts on the track's timeline; at maps them to
// times since the track's origin.
type segmenter struct {
	detector VoiceDetector
	queue    *utteranceQueue
	at       func(pos int64) time.Duration

	// The last frames, kept as pre-roll.
	history      [prerollFrames + onsetFrames][FrameSamples]int16
	historyLevel [prerollFrames + onsetFrames]float64
	historyNext  int // slot the next frame goes to
	historyLen   int
	onsetRun     int // voiced frames in a row

	// The utterance being spoken, nil while idle.
	cur         *utterance
	curPos      int64 // position of its first sample
	frames      int
	firstVoiced int // frame indexes in cur
	lastVoiced  int
	silentRun   int
	levels      [cutWindowFrames]float64 // by frame index modulo cutWindowFrames
}

func newSegmenter(detector VoiceDetector, queue *utteranceQueue, at func(int64) time.Duration) *segmenter {
	return &segmenter{detector: detector, queue: queue, at: at}
}

// frame takes the next frame, which starts at position pos. A concealed
// frame, silence standing for missing packets, is not shown to the detector:
// it would teach it a noise floor the room does not have.
func (s *segmenter) frame(f []int16, pos int64, concealed bool) {
	voiced := !concealed && s.detector.Speech(f)
	level := frameLevel(f)
	s.remember(f, level)
	if s.cur == nil {
		s.idle(pos, voiced)
		return
	}
	idx := s.frames
	s.queue.add(s.cur, f, voiced)
	s.frames++
	s.levels[idx%cutWindowFrames] = level
	if voiced {
		s.lastVoiced = idx
		s.silentRun = 0
	} else {
		s.silentRun++
	}
	switch {
	case s.silentRun >= hangoverFrames:
		s.end()
	case s.frames >= maxFrames:
		s.cut()
	}
}

// remember keeps the last frames, also during an utterance, so that one
// starting soon after the previous one still has its pre-roll.
func (s *segmenter) remember(f []int16, level float64) {
	copy(s.history[s.historyNext][:], f)
	s.historyLevel[s.historyNext] = level
	s.historyNext = (s.historyNext + 1) % len(s.history)
	s.historyLen = min(s.historyLen+1, len(s.history))
}

// idle looks for an onset; the frame at pos is the newest in the history.
func (s *segmenter) idle(pos int64, voiced bool) {
	if !voiced {
		s.onsetRun = 0
		return
	}
	s.onsetRun++
	if s.onsetRun < onsetFrames {
		return
	}

	// Onset: the utterance starts with the pre-roll.
	s.curPos = pos - int64(s.historyLen-1)*FrameSamples
	voicedPos := pos - int64(s.onsetRun-1)*FrameSamples
	s.cur = s.queue.open(s.at(s.curPos), s.at(voicedPos))
	oldest := (s.historyNext - s.historyLen + len(s.history)) % len(s.history)
	for k := range s.historyLen {
		i := (oldest + k) % len(s.history)
		s.queue.add(s.cur, s.history[i][:], k >= s.historyLen-s.onsetRun)
		s.levels[k%cutWindowFrames] = s.historyLevel[i]
	}
	s.frames = s.historyLen
	s.firstVoiced = s.historyLen - s.onsetRun
	s.lastVoiced = s.historyLen - 1
	s.silentRun = 0
	s.historyLen, s.onsetRun = 0, 0
}

func (s *segmenter) framePos(idx int) int64 {
	return s.curPos + int64(idx)*FrameSamples
}

// end closes the current utterance after its last voiced frame and a short
// tail of the hangover.
func (s *segmenter) end() {
	keepFrames := min(s.frames, s.lastVoiced+1+tailFrames)
	voiced := s.lastVoiced - s.firstVoiced + 1
	s.queue.close(s.cur, keepFrames*FrameSamples, s.at(s.framePos(s.lastVoiced+1)), voiced >= minVoicedFrames)
	s.cur = nil
}

// cut splits an utterance that reached maxFrames at the quietest frame of
// its last second that a stream has not read yet, and goes on with the rest
// as a new utterance.
func (s *segmenter) cut() {
	readFrames := (s.queue.consumed(s.cur) + FrameSamples - 1) / FrameSamples
	best := -1
	for i := max(s.frames-cutWindowFrames, readFrames, s.firstVoiced+1); i < s.frames; i++ {
		if best < 0 || s.levels[i%cutWindowFrames] < s.levels[best%cutWindowFrames] {
			best = i
		}
	}
	if best < 0 || best == s.frames-1 {
		// Nothing left to choose from: cut here, and let the next voiced
		// frame start the next utterance at once.
		s.lastVoiced = min(s.lastVoiced, s.frames-1)
		s.end()
		s.onsetRun = onsetFrames - 1
		return
	}

	at := best + 1
	end := s.at(s.framePos(min(s.lastVoiced, best) + 1))
	s.cur = s.queue.split(s.cur, at*FrameSamples, end, s.at(s.framePos(at)))
	var levels [cutWindowFrames]float64
	for i := at; i < s.frames; i++ {
		levels[(i-at)%cutWindowFrames] = s.levels[i%cutWindowFrames]
	}
	s.levels = levels
	s.curPos = s.framePos(at)
	s.frames -= at
	s.firstVoiced = 0
	s.lastVoiced = max(s.lastVoiced-at, 0)
}

// flush ends the current utterance now (the track stops, or the stream
// jumped) and forgets the pre-roll.
func (s *segmenter) flush() {
	if s.cur != nil {
		s.end()
	}
	s.historyLen, s.onsetRun = 0, 0
}

// reset flushes and forgets what the detector learnt, for a new stream.
func (s *segmenter) reset() {
	s.flush()
	s.detector.Reset()
}
