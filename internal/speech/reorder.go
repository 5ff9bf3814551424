package speech

import "time"

// rtpPacket is one RTP packet of a microphone track as the media plane saw
// it.
type rtpPacket struct {
	seq     uint16
	ts      uint32 // RTP timestamp, 48 kHz clock for Opus
	arrival time.Time
	payload []byte
}

const (
	// rtpClockRate is the RTP clock of Opus, whatever the audio's rate.
	rtpClockRate = 48000
	// reorderSlots is how many packets the reorder buffer holds: a power of
	// two, as a packet's slot is its sequence number modulo it.
	reorderSlots = 16
	// jitterWindow is how long a missing packet is waited for before the
	// gap is concealed with silence: by then later audio is due.
	jitterWindow = 60 * time.Millisecond
	jitterTicks  = int32(jitterWindow * rtpClockRate / time.Second)
	// maxSeqJump is the largest sequence jump, either way, still taken for
	// the same stream (6 s of 20 ms packets): beyond it the sender
	// restarted, with a new SSRC or a new random start.
	maxSeqJump = 300
	// restartAfterLate is how many packets in a row from before the
	// buffer's position it takes to conclude that the sender restarted with
	// a slightly smaller sequence number, rather than that the network
	// delivered a few stragglers.
	restartAfterLate = 8
)

// packetSink receives what a reorderBuffer lets out, in order.
type packetSink interface {
	// release gives the next packet of the stream. The packet is only
	// valid during the call.
	release(p *rtpPacket)
	// lost says that n packets were given up for: the next release starts
	// after a gap, whose length the RTP timestamps tell.
	lost(n int)
	// restart says that the packets from now on belong to a new stream,
	// with its own sequence numbers and timestamps.
	restart()
}

// reorderBuffer is a small jitter buffer: it puts packets back in sequence
// order, drops duplicates and stragglers, and gives up on a missing packet
// once the audio after it spans jitterWindow or it was waited for as long.
type reorderBuffer struct {
	slots   [reorderSlots]rtpPacket
	filled  [reorderSlots]bool
	held    int
	started bool
	next    uint16 // sequence number of the next packet to release
	newest  uint32 // latest RTP timestamp held
	lateRun int    // packets in a row from before next
}

// seqAhead is how far seq is after the buffer's position, negative when
// before; sequence numbers wrap at 65536.
func (b *reorderBuffer) seqAhead(seq uint16) int {
	return int(int16(seq - b.next))
}

// add takes one packet (copying it) and releases whatever can go out.
func (b *reorderBuffer) add(p *rtpPacket, out packetSink) {
	if !b.started {
		b.started = true
		b.next = p.seq
	}
	ahead := b.seqAhead(p.seq)
	switch {
	case ahead > maxSeqJump || ahead < -maxSeqJump:
		b.restart(p.seq, out)
	case ahead < 0:
		b.lateRun++
		if b.lateRun < restartAfterLate {
			return // a straggler or duplicate: its gap was concealed already
		}
		b.restart(p.seq, out)
	default:
		// The window may have to move forward for the packet to fit.
		for b.seqAhead(p.seq) >= reorderSlots {
			b.step(out)
		}
	}
	b.lateRun = 0

	i := p.seq % reorderSlots
	if b.filled[i] {
		return // duplicate
	}
	slot := &b.slots[i]
	slot.seq, slot.ts, slot.arrival = p.seq, p.ts, p.arrival
	slot.payload = append(slot.payload[:0], p.payload...)
	b.filled[i] = true
	if b.held == 0 || int32(p.ts-b.newest) > 0 {
		b.newest = p.ts
	}
	b.held++
	b.drain(out)
}

// restart lets out the packets of the old stream and starts over at seq.
func (b *reorderBuffer) restart(seq uint16, out packetSink) {
	b.flush(out)
	out.restart()
	b.next = seq
	b.lateRun = 0
}

// step moves past the next sequence number: its packet is released if held,
// else counted lost.
func (b *reorderBuffer) step(out packetSink) {
	i := b.next % reorderSlots
	if b.filled[i] {
		b.filled[i] = false
		b.held--
		out.release(&b.slots[i])
	} else {
		out.lost(1)
	}
	b.next++
}

// oldest returns the held packet nearest to the buffer's position.
func (b *reorderBuffer) oldest() *rtpPacket {
	for k := range reorderSlots {
		i := (b.next + uint16(k)) % reorderSlots
		if b.filled[i] {
			return &b.slots[i]
		}
	}
	return nil
}

// drain releases packets while the next one is there, and skips a gap once
// the audio held after it spans the jitter window.
func (b *reorderBuffer) drain(out packetSink) {
	for b.held > 0 {
		if b.filled[b.next%reorderSlots] {
			b.step(out)
			continue
		}
		if int32(b.newest-b.oldest().ts) < jitterTicks {
			return
		}
		b.step(out)
	}
}

// expire gives up on a gap that has been waited for longer than the jitter
// window: when the sender pauses (DTX) after a loss, no later audio comes to
// push the gap out.
func (b *reorderBuffer) expire(now time.Time, out packetSink) {
	if b.held == 0 || now.Sub(b.oldest().arrival) < jitterWindow {
		return
	}
	for !b.filled[b.next%reorderSlots] {
		b.step(out)
	}
	b.drain(out)
}

// flush releases every held packet, skipping the gaps: the stream ends.
func (b *reorderBuffer) flush(out packetSink) {
	for b.held > 0 {
		b.step(out)
	}
}
