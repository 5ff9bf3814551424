package sfu

import (
	"sync"

	"github.com/pion/rtcp"
)

// Stats is what a subscriber reported about a track it receives.
type Stats struct {
	PacketsSent  uint32
	FractionLost float64 // 0 to 1, over the subscriber's last report interval
	Jitter       uint32  // in RTP timestamp units
	RTTMillis    float64 // 0 until measured
}

// Stats returns the latest figures for this track.
func (d *DownTrack) Stats() Stats {
	s := d.stats.snapshot()
	s.PacketsSent = uint32(d.packets.Load())
	return s
}

// receiverStats keeps the subscriber's receiver reports. The round-trip time
// needs the time each sender report left, found by its NTP middle bits.
type receiverStats struct {
	mu     sync.Mutex
	latest Stats
	sent   [4]struct {
		lsr uint32
		at  int64
	}
	next int
}

func (s *receiverStats) sentReport(ntpTime uint64, at int64) {
	s.mu.Lock()
	s.sent[s.next] = struct {
		lsr uint32
		at  int64
	}{uint32(ntpTime >> 16), at}
	s.next = (s.next + 1) % len(s.sent)
	s.mu.Unlock()
}

func (s *receiverStats) update(r rtcp.ReceptionReport, now int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latest.FractionLost = float64(r.FractionLost) / 256
	s.latest.Jitter = r.Jitter
	if r.LastSenderReport == 0 {
		return
	}
	for _, sent := range s.sent {
		if sent.lsr == r.LastSenderReport && sent.at != 0 {
			// DLSR is in units of 1/65536 s.
			rtt := float64(now-sent.at)/1e6 - float64(r.Delay)*1000/65536
			if rtt >= 0 {
				s.latest.RTTMillis = rtt
			}
			return
		}
	}
}

func (s *receiverStats) snapshot() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.latest
}
