package sfu

import (
	"cmp"
	"slices"
	"time"

	"github.com/pion/webrtc/v4"
)

// allocateInterval is how often a subscriber's bandwidth is shared out again.
const allocateInterval = 500 * time.Millisecond

// probeMargin is added to what an upgrade needs when probing for it.
const probeMargin = 1.1

// allocate shares the subscriber's estimated bandwidth among the video
// tracks it receives: audio first, then the lowest layer of each video
// (bigger tiles first), then one layer up at a time while the estimate
// allows. A subscriber that cannot keep up thus gets lower layers, or no
// video at all on a link too poor for it, instead of losing packets of
// everything. When an upgrade is wanted that the estimate does not allow,
// the estimator is asked to probe for it.
func (p *Peer) allocate() {
	downs := p.Subscriptions()
	if p.bwe.Stats().Feedbacks == 0 {
		// No feedback (yet, or ever: not every client sends it): nothing to
		// go by, so nothing is held back.
		for _, d := range downs {
			d.setLimit(LayerHigh)
		}
		return
	}
	estimate := p.bwe.Estimate()
	wanted, probe := share(downs, estimate)
	if probe > 0 && p.bwe.Probe(int(float64(estimate+probe)*probeMargin), p.engine.now()/1000) {
		wanted, _ = share(downs, p.bwe.Estimate())
	}
	for d, limit := range wanted {
		if d.setLimit(limit) {
			st := p.bwe.Stats()
			p.log.Debug("layer limit", "track", d.up.id, "layer", limit, "estimate", st.Estimate, "acked", st.Acked,
				"loss", st.Loss, "signal", st.Signal, "probing", st.Probing)
		}
	}
}

// share returns the layer limit of each video track for a budget, and how
// much more the next upgrade would need (0 if none is wanted).
func share(downs []*DownTrack, budget int) (map[*DownTrack]Layer, int) {
	var video []*DownTrack
	for _, d := range downs {
		if d.up.kind == webrtc.RTPCodecTypeAudio {
			budget -= d.up.layerRate(LayerLow)
		} else if Layer(d.want.Load()) != LayerNone {
			video = append(video, d)
		}
	}
	slices.SortStableFunc(video, func(a, b *DownTrack) int {
		return cmp.Or(cmp.Compare(b.want.Load(), a.want.Load()), cmp.Compare(a.up.id, b.up.id))
	})
	limits := make(map[*DownTrack]Layer, len(video))
	rate := make(map[*DownTrack]int, len(video))
	for _, d := range video {
		limits[d] = LayerNone
		// A lowest layer is kept while the link carries half of it: a lossy
		// or briefly congested link should give a small picture, not none.
		if lowest := d.up.nextLayer(LayerNone); lowest != LayerNone {
			if r := d.up.layerRate(lowest); r <= 2*budget {
				limits[d], rate[d] = lowest, r
				budget -= r
			}
		}
	}
	missing := 0
	for upgraded := true; upgraded; {
		upgraded = false
		for _, d := range video {
			next := d.up.nextLayer(limits[d])
			if next == LayerNone || next > Layer(d.want.Load()) {
				continue
			}
			extra := d.up.layerRate(next) - rate[d]
			if extra > budget {
				if missing == 0 {
					missing = extra - budget
				}
				continue
			}
			limits[d], rate[d] = next, rate[d]+extra
			budget -= extra
			upgraded = true
		}
	}
	for _, d := range video {
		if limits[d] != LayerNone && limits[d] >= Layer(d.want.Load()) {
			limits[d] = LayerHigh // got all it wants: no limit
		}
	}
	return limits, missing
}
