package bwe

// Signal is what the delay-based detector makes of the latest feedback.
type Signal int

// The detector's signals.
const (
	Normal   Signal = iota
	Overuse         // queues are growing: the link is full
	Underuse        // queues are draining
)

// Tuning of the detector, as in Google Congestion Control, but for the
// threshold's floor: GCC lets it fall to 6, where browsers short of CPU,
// whose feedback wobbles by a trend of 6 to 9, read as congested links (a
// 900 kbit/s link's queue shows 20 to 140). It never falls below its start.
const (
	groupSpanUS      = 5_000   // packets sent within 5 ms form one group
	burstGapUS       = 5_000   // packets arriving within 5 ms of the last, and sooner than sent, join its group
	maxBurstUS       = 100_000 // but a group takes no more than 100 ms of arrivals
	trendWindow      = 20      // groups in the regression
	trendMinPoints   = 8       // groups before the first slope
	trendSmoothing   = 0.9
	trendGain        = 4.0
	overuseTimeMS    = 10.0
	thresholdStart   = 12.5
	thresholdMin     = thresholdStart
	thresholdMax     = 600.0
	thresholdUp      = 0.0087
	thresholdDown    = 0.039
	maxDeltasCounted = 60
)

// packetGroup is a burst of packets: the server sends a frame's packets to
// a subscriber back to back, and the link spreads them.
type packetGroup struct {
	firstSend, lastSend       int64 // µs, server clock
	firstArrival, lastArrival int64 // µs, subscriber clock
	valid                     bool
}

// inBurst reports whether a packet arrived in a burst with the group: soon
// after its last packet, and closer to it than they were sent. A receiver
// that was late to read its socket, or a link that held packets and let
// them go at once, delivers such bursts; the time they waited shows as a
// delay that does not last, not as a queue that grows, so the burst is
// measured as one group.
func (g *packetGroup) inBurst(sentUS, arrivalUS int64) bool {
	sendDelta := sinceUS(g.lastSend, sentUS)
	if sendDelta == 0 {
		return true // sent together: a frame's packets
	}
	arrivalDelta := arrivalUS - g.lastArrival
	return arrivalDelta-sendDelta < 0 && arrivalDelta <= burstGapUS && arrivalUS-g.firstArrival < maxBurstUS
}

// delayDetector finds whether queuing delay grows, from the arrival times of
// groups compared with their send times.
type delayDetector struct {
	current, previous packetGroup

	numDeltas   int
	accumulated float64 // ms
	smoothed    float64 // ms
	firstArrive int64
	points      [trendWindow]struct{ x, y float64 }
	npoints     int

	threshold     float64
	lastThreshold float64 // ms of the last threshold update, -1 before
	overusingMS   float64 // -1 when not over the threshold
	overuseCount  int
	previousTrend float64
	signal        Signal
}

func newDelayDetector() delayDetector {
	return delayDetector{threshold: thresholdStart, lastThreshold: -1, overusingMS: -1}
}

// add takes one received packet, in send order.
func (d *delayDetector) add(sentUS, arrivalUS int64) {
	if !d.current.valid {
		d.current = newPacketGroup(sentUS, arrivalUS)
		return
	}
	if sinceUS(d.current.firstSend, sentUS) <= groupSpanUS || d.current.inBurst(sentUS, arrivalUS) {
		if sinceUS(d.current.lastSend, sentUS) >= 0 {
			d.current.lastSend = sentUS
		}
		d.current.lastArrival = max(d.current.lastArrival, arrivalUS)
		return
	}
	if d.previous.valid {
		sendDelta := float64(sinceUS(d.previous.lastSend, d.current.lastSend)) / 1000
		recvDelta := float64(d.current.lastArrival-d.previous.lastArrival) / 1000
		if sendDelta > 0 && recvDelta > -1000 {
			d.update(recvDelta-sendDelta, sendDelta, float64(d.current.lastArrival)/1000)
		}
	}
	d.previous = d.current
	d.current = newPacketGroup(sentUS, arrivalUS)
}

func newPacketGroup(sentUS, arrivalUS int64) packetGroup {
	return packetGroup{firstSend: sentUS, lastSend: sentUS, firstArrival: arrivalUS, lastArrival: arrivalUS, valid: true}
}

// update adds the delay variation of one group (ms) to the trend line.
func (d *delayDetector) update(delta, sendDelta, arrivalMS float64) {
	d.numDeltas = min(d.numDeltas+1, 1000)
	d.accumulated += delta
	d.smoothed = trendSmoothing*d.smoothed + (1-trendSmoothing)*d.accumulated
	if d.npoints == 0 {
		d.firstArrive = int64(arrivalMS)
	}
	point := struct{ x, y float64 }{arrivalMS - float64(d.firstArrive), d.smoothed}
	if d.npoints < trendWindow {
		d.points[d.npoints] = point
		d.npoints++
	} else {
		copy(d.points[:], d.points[1:])
		d.points[trendWindow-1] = point
	}
	trend := d.previousTrend
	if d.npoints >= trendMinPoints {
		// A subscriber gets a burst per frame: waiting for a full window
		// would take most of a second.
		if slope, ok := regression(d.points[:d.npoints]); ok {
			trend = slope
		}
	}
	d.detect(float64(min(d.numDeltas, maxDeltasCounted))*trend*trendGain, sendDelta, arrivalMS)
}

// regression returns the slope of the least-squares line through points.
func regression(points []struct{ x, y float64 }) (float64, bool) {
	var sx, sy float64
	for _, p := range points {
		sx += p.x
		sy += p.y
	}
	mx, my := sx/float64(len(points)), sy/float64(len(points))
	var num, den float64
	for _, p := range points {
		num += (p.x - mx) * (p.y - my)
		den += (p.x - mx) * (p.x - mx)
	}
	if den == 0 {
		return 0, false
	}
	return num / den, true
}

func (d *delayDetector) detect(trend, sendDelta, nowMS float64) {
	if d.numDeltas < 2 {
		d.signal = Normal
		return
	}
	switch {
	case trend > d.threshold:
		if d.overusingMS < 0 {
			d.overusingMS = sendDelta / 2
		} else {
			d.overusingMS += sendDelta
		}
		d.overuseCount++
		if d.overusingMS > overuseTimeMS && d.overuseCount > 1 && trend >= d.previousTrend {
			d.overusingMS, d.overuseCount = 0, 0
			d.signal = Overuse
		}
	case trend < -d.threshold:
		d.overusingMS, d.overuseCount = -1, 0
		d.signal = Underuse
	default:
		d.overusingMS, d.overuseCount = -1, 0
		d.signal = Normal
	}
	d.previousTrend = trend
	d.adaptThreshold(trend, nowMS)
}

// adaptThreshold lets the threshold follow the trend slowly, so that the
// detector neither starves against loss-based competing flows nor fires on
// noise.
func (d *delayDetector) adaptThreshold(trend, nowMS float64) {
	if d.lastThreshold < 0 {
		d.lastThreshold = nowMS
	}
	abs := max(trend, -trend)
	if abs > d.threshold+15 {
		d.lastThreshold = nowMS // a spike: ignore it
		return
	}
	k := thresholdUp
	if abs < d.threshold {
		k = thresholdDown
	}
	dt := min(max(nowMS-d.lastThreshold, 0), 100)
	d.threshold = min(max(d.threshold+k*(abs-d.threshold)*dt, thresholdMin), thresholdMax)
	d.lastThreshold = nowMS
}
