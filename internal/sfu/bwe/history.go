// Package bwe estimates the bandwidth towards one subscriber from the
// transport-wide congestion control feedback (draft-holmer-rmcat-transport-
// wide-cc-extensions-01) it sends: which of the packets the server numbered
// arrived, and when. The estimate follows Google Congestion Control in
// outline: a delay-based detector (a trend line over the growth of queuing
// delay) and a loss-based bound drive an increase/decrease rate controller.
// Probe lets the caller try a higher rate, backing off when the link refuses
// it.
//
// The forwarding path only records each packet it sends (History.Record,
// lock-free and allocation-free); everything else runs when feedback
// arrives, a few times a second per subscriber.
package bwe

import "sync/atomic"

// historySize is how many packets are remembered: about three seconds of a
// busy subscriber, far more than a feedback interval.
const historySize = 1 << 13

// timeBits is how many bits of the send time in microseconds a slot keeps:
// enough for 38 hours, compared modulo that span.
const timeBits = 37

// History remembers when each packet was sent and how large it was, by its
// transport-wide sequence number. Any goroutine may record; one reads.
type History struct {
	slots [historySize]atomic.Uint64 // seq (16 bits) | size (11 bits) | time (37 bits), 0 when empty
}

// Record notes that the packet numbered seq, of size bytes, left at sentUS
// (microseconds on the caller's clock).
func (h *History) Record(seq uint16, sentUS int64, size int) {
	size = min(max(size, 1), 1<<11-1) // at least 1, so that no record is 0
	h.slots[int(seq)%historySize].Store(uint64(seq)<<48 | uint64(size)<<timeBits | uint64(sentUS)&(1<<timeBits-1))
}

// Lookup returns what was recorded for seq, if it is still remembered.
func (h *History) Lookup(seq uint16) (sentUS int64, size int, ok bool) {
	v := h.slots[int(seq)%historySize].Load()
	if v == 0 || uint16(v>>48) != seq {
		return 0, 0, false
	}
	return int64(v & (1<<timeBits - 1)), int(v >> timeBits & (1<<11 - 1)), true
}

// sinceUS returns b-a for two times read from the history, which wrap.
func sinceUS(a, b int64) int64 {
	d := (b - a) & (1<<timeBits - 1)
	if d >= 1<<(timeBits-1) {
		d -= 1 << timeBits
	}
	return d
}
