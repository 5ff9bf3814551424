package bwe

import (
	"math"
	"sync"

	"github.com/pion/rtcp"
)

// Rate bounds and control, in bits per second and microseconds.
const (
	InitialRate = 3_000_000
	MinRate     = 100_000
	MaxRate     = 50_000_000

	increasePerSecond = 1.08 // multiplicative growth while the link is fine
	decreaseFactor    = 0.85 // of the acknowledged rate, on overuse
	decreaseEveryUS   = 300_000
	ackWindowUS       = 500_000
	ackBuckets        = 10

	probeHoldUS     = 2_000_000  // a probe that survives this long succeeded
	probeBackoffUS  = 8_000_000  // wait after congestion before probing, doubled by each failed probe
	maxProbeBackoff = 60_000_000 // longest wait between probes
)

// Estimator turns one subscriber's feedback into an estimate of the
// bandwidth towards it. Its methods may be called from any goroutine.
type Estimator struct {
	history *History

	mu        sync.Mutex
	estimate  float64
	delay     delayDetector
	acked     ackedRate
	loss      lossWindow
	lastFb    int   // FbPktCount of the last feedback used, -1 before
	lastRate  int64 // µs of the last rate update, 0 before
	lastDecr  int64
	probe     probe
	feedbacks int
}

type probe struct {
	active    bool
	start     int64
	backoff   int64
	notBefore int64
}

// New returns an estimator reading the packets recorded in history.
func New(history *History) *Estimator {
	return &Estimator{history: history, estimate: InitialRate, delay: newDelayDetector(), lastFb: -1,
		probe: probe{backoff: probeBackoffUS}}
}

// Estimate returns the estimated bandwidth in bits per second.
func (e *Estimator) Estimate() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return int(e.estimate)
}

// Stats describes the link as the feedback shows it.
type Stats struct {
	Estimate  int     // bits per second
	Acked     int     // bits per second that arrived, lately
	Loss      float64 // fraction lost over the last half second to second
	Signal    Signal
	Feedbacks int // feedback packets used so far
	Probing   bool
}

// Stats returns the latest figures.
func (e *Estimator) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return Stats{Estimate: int(e.estimate), Acked: e.acked.rate(), Loss: e.loss.fraction(e.lastRate), Signal: e.delay.signal,
		Feedbacks: e.feedbacks, Probing: e.probe.active}
}

// OnFeedback takes one transport-wide feedback packet, received at nowUS
// on the same clock as the recorded send times.
func (e *Estimator) OnFeedback(fb *rtcp.TransportLayerCC, nowUS int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if int(fb.FbPktCount) == e.lastFb {
		return // the same feedback, delivered to another of the subscriber's tracks
	}
	e.lastFb = int(fb.FbPktCount)
	e.feedbacks++

	total, lost := 0, 0
	arrival := int64(fb.ReferenceTime) * 64_000 // µs
	deltas := fb.RecvDeltas
	seq := fb.BaseSequenceNumber
	each := func(status uint16) {
		received := status == rtcp.TypeTCCPacketReceivedSmallDelta || status == rtcp.TypeTCCPacketReceivedLargeDelta
		if received && len(deltas) > 0 {
			arrival += deltas[0].Delta
			deltas = deltas[1:]
		}
		sent, size, ok := e.history.Lookup(seq)
		seq++
		if !ok {
			return
		}
		total++
		if !received {
			lost++
			return
		}
		e.acked.add(arrival, size)
		e.delay.add(sent, arrival)
	}
	remaining := int(fb.PacketStatusCount)
	for _, chunk := range fb.PacketChunks {
		switch c := chunk.(type) {
		case *rtcp.RunLengthChunk:
			for range min(int(c.RunLength), remaining) {
				each(c.PacketStatusSymbol)
				remaining--
			}
		case *rtcp.StatusVectorChunk:
			for _, s := range c.SymbolList {
				if remaining == 0 {
					break
				}
				each(s)
				remaining--
			}
		}
	}
	e.loss.add(nowUS, total, lost)
	e.updateRate(nowUS)
}

// updateRate moves the estimate after feedback.
func (e *Estimator) updateRate(now int64) {
	acked := float64(e.acked.rate())
	loss := e.loss.fraction(now)
	failed := false
	switch {
	case e.delay.signal == Overuse || loss > 0.1:
		if now-e.lastDecr >= decreaseEveryUS && acked > 0 {
			// Growing queues mean the link is full: back off below what it
			// carried. Loss alone may be the radio's: back off gently.
			target := acked * (1 - 0.5*loss)
			if e.delay.signal == Overuse {
				target = min(target, decreaseFactor*acked)
			}
			e.estimate = min(e.estimate, target)
			e.lastDecr = now
			// Right after congestion, trying more would only add to it.
			e.probe.notBefore = max(e.probe.notBefore, now+e.probe.backoff)
		}
		failed = true
	case e.delay.signal == Normal && loss < 0.02 && !e.probe.active && e.lastRate != 0:
		grown := e.estimate * math.Pow(increasePerSecond, float64(now-e.lastRate)/1e6)
		// Without a probe, do not grow far beyond what the link has shown it
		// carries: an idle subscriber says nothing about its link.
		if limit := 1.5*acked + 10_000; grown > limit {
			grown = max(e.estimate, limit)
		}
		e.estimate = grown
	}
	if e.probe.active {
		switch {
		case failed:
			e.probe.active = false
			e.probe.notBefore = now + e.probe.backoff
			e.probe.backoff = min(2*e.probe.backoff, maxProbeBackoff)
		case now-e.probe.start >= probeHoldUS:
			e.probe.active = false
			e.probe.backoff = probeBackoffUS
		}
	}
	e.estimate = min(max(e.estimate, MinRate), MaxRate)
	e.lastRate = now
}

// Probe raises the estimate to rate for a trial, if the link looks healthy
// and the last failed probe is old enough; it reports whether it did. The
// caller then sends more, and the feedback tells whether the link carries
// it: if not, the estimate falls back and the next probe waits twice as
// long.
func (e *Estimator) Probe(rate int, nowUS int64) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.probe.active || nowUS < e.probe.notBefore || e.delay.signal != Normal || e.loss.fraction(nowUS) >= 0.02 ||
		e.feedbacks == 0 || float64(rate) <= e.estimate {
		return false
	}
	e.probe.active, e.probe.start = true, nowUS
	e.estimate = min(float64(rate), MaxRate)
	return true
}

// ackedRate measures the rate at which packets arrived, over the last half
// second of arrival times.
type ackedRate struct {
	buckets [ackBuckets]struct {
		index int64 // arrival time / bucket span
		bytes int
	}
	newest, oldest int64 // bucket indexes; oldest is 0 before any packet
}

const bucketUS = ackWindowUS / ackBuckets

func (a *ackedRate) add(arrivalUS int64, size int) {
	i := arrivalUS / bucketUS
	b := &a.buckets[int(((i%ackBuckets)+ackBuckets)%ackBuckets)]
	if b.index != i {
		b.index, b.bytes = i, 0
	}
	b.bytes += size
	a.newest = max(a.newest, i)
	if a.oldest == 0 {
		a.oldest = i
	}
}

// rate returns bits per second over the window ending at the newest
// arrival, or over what arrived so far when that is shorter.
func (a *ackedRate) rate() int {
	bytes := 0
	for _, b := range a.buckets {
		if b.index > a.newest-ackBuckets && b.index <= a.newest {
			bytes += b.bytes
		}
	}
	span := min(a.newest-a.oldest+1, ackBuckets) * bucketUS
	return int(int64(bytes) * 8 * 1_000_000 / span)
}

// lossWindow counts lost packets over the last half second to second, by
// the server's clock.
type lossWindow struct {
	start               int64 // µs when the current half began
	total, lost         int
	prevTotal, prevLost int
}

func (w *lossWindow) add(nowUS int64, total, lost int) {
	if nowUS-w.start >= ackWindowUS {
		w.prevTotal, w.prevLost = w.total, w.lost
		if nowUS-w.start >= 2*ackWindowUS {
			w.prevTotal, w.prevLost = 0, 0
		}
		w.total, w.lost, w.start = 0, 0, nowUS
	}
	w.total += total
	w.lost += lost
}

// fraction returns the share of packets lost lately; what is older than a
// second, when no feedback came since, no longer counts.
func (w *lossWindow) fraction(nowUS int64) float64 {
	if nowUS-w.start >= 2*ackWindowUS {
		return 0
	}
	if t := w.total + w.prevTotal; t > 0 {
		return float64(w.lost+w.prevLost) / float64(t)
	}
	return 0
}
