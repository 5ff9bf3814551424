package speech

import (
	"sync"
	"time"
)

const (
	// ringSlots is how many packets may wait between Packet and the
	// track's intake goroutine: 1.28 s of 20 ms packets, far more than the
	// goroutine needs to keep up unless the machine is starved.
	ringSlots = 64
	// maxPayload bounds one RTP payload; a packet has to fit a UDP datagram
	// on a usual path MTU.
	maxPayload = 1500
	// slotBytes is allocated up front for each slot; Opus speech packets are
	// 20 to 200 bytes, so slots rarely grow.
	slotBytes = 256
)

// packetRing hands packets from the media plane's goroutine to the track's
// intake goroutine without ever waiting for the latter: when it is full, new
// packets are refused.
type packetRing struct {
	mu    sync.Mutex
	slots [ringSlots]rtpPacket
	head  int // index of the oldest packet
	count int
	// wake has room for one signal: a put while the intake goroutine is
	// busy needs no second signal, it will find the packet anyway.
	wake chan struct{}
}

func newPacketRing() *packetRing {
	r := &packetRing{wake: make(chan struct{}, 1)}
	for i := range r.slots {
		r.slots[i].payload = make([]byte, 0, slotBytes)
	}
	return r
}

// put copies one packet into the ring and reports whether there was room.
func (r *packetRing) put(seq uint16, timestamp uint32, arrival time.Time, payload []byte) bool {
	r.mu.Lock()
	if r.count == ringSlots {
		r.mu.Unlock()
		return false
	}
	slot := &r.slots[(r.head+r.count)%ringSlots]
	slot.seq, slot.ts, slot.arrival = seq, timestamp, arrival
	slot.payload = append(slot.payload[:0], payload...)
	r.count++
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
	return true
}

// take moves the oldest packet into dst and reports whether there was one.
// The payload buffers of dst and the slot are swapped rather than copied, so
// that buffers circulate instead of being allocated.
func (r *packetRing) take(dst *rtpPacket) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.count == 0 {
		return false
	}
	slot := &r.slots[r.head]
	dst.seq, dst.ts, dst.arrival = slot.seq, slot.ts, slot.arrival
	dst.payload, slot.payload = slot.payload, dst.payload[:0]
	r.head = (r.head + 1) % ringSlots
	r.count--
	return true
}
