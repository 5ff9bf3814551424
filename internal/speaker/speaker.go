// Package speaker tells who is speaking in a meeting from the audio levels
// that browsers attach to each Opus packet (RFC 6464), without decoding audio.
//
// The media path only bumps counters on a Meter; a Detector turns the counts
// into a speaking set and one active speaker at a steady pace, with hysteresis
// so that the highlight does not flicker between people.
package speaker

import (
	"slices"
	"sync"
	"sync/atomic"
)

// LoudLevel is the quietest level, in -dBov, that counts as voice. Speech into
// a browser microphone sits around 20 to 45; silence and muted tracks send 127.
const LoudLevel = 50

const (
	smoothing    = 0.5  // weight of the newest interval in the score
	startTalking = 0.35 // score above which someone is speaking
	stopTalking  = 0.15 // score below which they stop
	takeOver     = 0.15 // lead a new speaker needs over the current active one
)

// Meter counts the packets of one audio track. Its methods are safe to call
// from the media path: they are two atomic additions.
type Meter struct {
	packets atomic.Uint32
	loud    atomic.Uint32
}

// Observe records one packet's audio level in -dBov (0 loudest, 127 silent).
func (m *Meter) Observe(level uint8) {
	m.packets.Add(1)
	if level <= LoudLevel {
		m.loud.Add(1)
	}
}

type participant struct {
	meter    *Meter
	score    float64
	speaking bool
}

// Result is what a Detector decided at one tick.
type Result struct {
	Active   string   // the dominant speaker; the last one while nobody speaks
	Speaking []string // everyone speaking now, sorted
}

// Detector keeps one score per participant. Safe for concurrent use.
type Detector struct {
	mu     sync.Mutex
	people map[string]*participant
	last   Result
}

// NewDetector returns an empty detector.
func NewDetector() *Detector {
	return &Detector{people: map[string]*participant{}}
}

// Meter returns the meter for participant id, creating it the first time.
func (d *Detector) Meter(id string) *Meter {
	d.mu.Lock()
	defer d.mu.Unlock()
	p, ok := d.people[id]
	if !ok {
		p = &participant{meter: &Meter{}}
		d.people[id] = p
	}
	return p.meter
}

// Remove forgets a participant; a later Update no longer reports them.
func (d *Detector) Remove(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.people, id)
}

// Last returns the result of the latest Update.
func (d *Detector) Last() Result {
	d.mu.Lock()
	defer d.mu.Unlock()
	return Result{Active: d.last.Active, Speaking: slices.Clone(d.last.Speaking)}
}

// Update reads and resets every meter, and reports the new result and whether
// it differs from the previous one. Call it at a fixed interval (a few hundred
// milliseconds): the smoothing assumes a steady pace.
func (d *Detector) Update() (Result, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()

	var speaking []string
	best, bestScore := "", 0.0
	for id, p := range d.people {
		packets, loud := p.meter.packets.Swap(0), p.meter.loud.Swap(0)
		activity := 0.0
		if packets > 0 {
			activity = float64(loud) / float64(packets)
		}
		p.score = (1-smoothing)*p.score + smoothing*activity
		switch {
		case p.score >= startTalking:
			p.speaking = true
		case p.score < stopTalking:
			p.speaking = false
		}
		if p.speaking {
			speaking = append(speaking, id)
			if p.score > bestScore || (p.score == bestScore && id < best) {
				best, bestScore = id, p.score
			}
		}
	}
	slices.Sort(speaking)

	active := d.last.Active
	current, present := d.people[active]
	switch {
	case !present:
		active = best
	case best != "" && best != active && (!current.speaking || bestScore > current.score+takeOver):
		active = best
	}
	next := Result{Active: active, Speaking: speaking}
	changed := next.Active != d.last.Active || !slices.Equal(next.Speaking, d.last.Speaking)
	d.last = next
	return next, changed
}
