package sfu

import (
	"errors"
	"io"

	"github.com/visio-meet/visio/internal/sfu/packetcache"
	"github.com/visio-meet/visio/internal/sfu/rtpparse"
)

// A layer's packets are read from Pion by one goroutine and forwarded by
// another, through an intake: while the forwarder works on a round, the
// packets arriving wait in the intake, and the next round takes them all.
// A round sends each subscriber its packets together, which lets a video
// frame's packets to one subscriber leave as one message (udpout, GSO).
// Nothing waits for a round to fill: an idle forwarder takes a packet as
// soon as it arrives, and rounds grow only when forwarding is the bottleneck.

// intakeSlots bounds a round; a frame of the full camera layer is about a
// dozen packets.
const intakeSlots = 32

// inPacket is one packet in the intake, with what the forwarder learnt of it.
type inPacket struct {
	buf      [packetcache.MaxPacketSize]byte
	n        int
	h        rtpparse.Header
	keyframe bool
	at       int64 // engine time of arrival
}

func (p *inPacket) bytes() []byte { return p.buf[:p.n] }

type intake struct {
	filled chan *inPacket // closed when the stream ends
	free   chan *inPacket
}

func newIntake() *intake {
	in := &intake{filled: make(chan *inPacket, intakeSlots), free: make(chan *inPacket, intakeSlots)}
	for range intakeSlots {
		in.free <- &inPacket{}
	}
	return in
}

// read fills the intake from the layer's stream until it ends.
func (l *layer) read(in *intake) {
	defer close(in.filled)
	for {
		p := <-in.free
		n, _, err := l.remote.Read(p.buf[:])
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrClosedPipe) {
				l.track.log.Debug("track read ended", "rid", l.rid, "err", err)
			}
			return
		}
		p.n = n
		in.filled <- p
	}
}

// next waits for a packet, then takes those that arrived with it, up to
// cap(round). It returns an empty round once the stream has ended.
func (in *intake) next(round []*inPacket) []*inPacket {
	round = round[:0]
	p, ok := <-in.filled
	if !ok {
		return round
	}
	round = append(round, p)
	for len(round) < cap(round) {
		select {
		case p, ok := <-in.filled:
			if !ok {
				return round
			}
			round = append(round, p)
		default:
			return round
		}
	}
	return round
}

// release gives the round's slots back for reading.
func (in *intake) release(round []*inPacket) {
	for _, p := range round {
		in.free <- p
	}
}
