package loadtest

import "time"

// histogramStep is the resolution of a Histogram; it spans 0 to 200 ms.
const (
	histogramStep    = 100 * time.Microsecond
	histogramBuckets = 2000
)

// Histogram counts durations in 100 µs buckets up to 200 ms; longer ones go
// to the last bucket. The zero value is empty and ready.
type Histogram struct {
	counts [histogramBuckets + 1]uint32
	n      int
}

// Add counts one duration; negative ones count as zero.
func (h *Histogram) Add(d time.Duration) {
	i := int(d / histogramStep)
	switch {
	case i < 0:
		i = 0
	case i > histogramBuckets:
		i = histogramBuckets
	}
	h.counts[i]++
	h.n++
}

// Merge adds the counts of o.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
}

// Count returns how many durations were added.
func (h *Histogram) Count() int { return h.n }

// Quantile returns the upper bound of the bucket holding quantile q (0 to 1).
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := int(q * float64(h.n-1))
	seen := 0
	for i, c := range h.counts {
		seen += int(c)
		if seen > rank {
			return time.Duration(i+1) * histogramStep
		}
	}
	return histogramBuckets * histogramStep
}
