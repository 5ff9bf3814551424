package meeting

import (
	"time"

	"github.com/visio-meet/visio/internal/protocol"
	"github.com/visio-meet/visio/internal/sfu"
)

// qualityInterval is how often participants' connections are rated.
const qualityInterval = 2 * time.Second

// rateQuality turns measurements into what the interface shows. The
// thresholds are those at which calls are known to suffer: a few percent of
// loss makes video stutter, a tenth breaks speech; a quarter second of
// round trip makes people talk over each other.
func rateQuality(q sfu.Quality) protocol.Quality {
	switch {
	case !q.Known:
		return ""
	case q.Loss >= 0.10 || q.RTT >= 500*time.Millisecond || q.Jitter >= 100*time.Millisecond:
		return protocol.QualityPoor
	case q.Loss >= 0.03 || q.RTT >= 250*time.Millisecond || q.Jitter >= 40*time.Millisecond:
		return protocol.QualityFair
	}
	return protocol.QualityGood
}

var qualityRank = map[protocol.Quality]int{"": 0, protocol.QualityPoor: 1, protocol.QualityFair: 2, protocol.QualityGood: 3}

// updateQuality rates every participant's connection and tells everyone
// when a rating changes. A rating falls at once but rises only after two
// good checks, so that the indicator does not flicker.
func (m *Meeting) updateQuality() {
	m.mu.Lock()
	peers := make(map[*Participant]*sfu.Peer, len(m.participants))
	for _, p := range m.participants {
		peers[p] = p.peer
	}
	m.mu.Unlock()
	measured := make(map[*Participant]protocol.Quality, len(peers))
	for p, peer := range peers {
		measured[p] = rateQuality(peer.Quality()) // outside m.mu: it takes the peers' locks
	}

	m.mu.Lock()
	changed := false
	for p, q := range measured {
		if p.left {
			continue
		}
		rising := qualityRank[q] > qualityRank[p.quality]
		if rising && p.qualityRising != q {
			p.qualityRising = q // once more before it counts
			continue
		}
		p.qualityRising = ""
		if q != p.quality {
			p.quality, changed = q, true
		}
	}
	if changed {
		m.broadcastLocked(nil, m.qualityLocked())
	}
	m.mu.Unlock()
}

// qualityLocked returns everyone's rating.
func (m *Meeting) qualityLocked() *protocol.QualityReport {
	ratings := make(map[string]protocol.Quality, len(m.participants))
	for _, p := range m.participants {
		if p.quality != "" {
			ratings[string(p.id)] = p.quality
		}
	}
	return &protocol.QualityReport{Participants: ratings}
}
