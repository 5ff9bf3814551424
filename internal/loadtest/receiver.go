package loadtest

import (
	"encoding/binary"
	"net"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Receiver measures the media one synthetic subscriber gets, at its socket:
// SRTP leaves the RTP header in clear, so counting, loss, jitter and delay
// need no decryption, which keeps the load generator much cheaper than the
// server it measures. ICE, DTLS and RTCP go on to Pion.
type Receiver struct {
	epoch  time.Time
	poller *Poller

	mu      sync.Mutex
	streams map[uint32]*stream
	delays  Histogram
	first   time.Time // arrival of the first media packet
}

type stream struct {
	clockRate   float64
	started     bool
	maxSeq      uint16 // highest sequence number received
	highest     int    // its extended value, counted from the first packet
	received    int
	bytes       int64
	seen        [1024]uint64 // sliding window of received sequence numbers
	lastTransit float64
	jitter      float64 // RFC 3550 interarrival jitter, seconds
}

// NewReceiver returns a receiver for media whose RTP timestamps count from
// epoch (see client.Options.Epoch). Its socket is read by poller, or at
// once by a reader of its own when poller is nil.
func NewReceiver(epoch time.Time, poller *Poller) *Receiver {
	return &Receiver{epoch: epoch, poller: poller, streams: map[uint32]*stream{}}
}

// clockRate tells the RTP clock from the payload type the server offers.
func clockRate(pt uint8) float64 {
	if pt == 111 {
		return 48000
	}
	return 90000
}

// record counts one RTP packet that arrived at now; r.mu is held.
func (r *Receiver) record(pkt []byte, now time.Time) {
	if len(pkt) < 12 {
		return
	}
	pt := pkt[1] & 0x7f
	seq := binary.BigEndian.Uint16(pkt[2:])
	ts := binary.BigEndian.Uint32(pkt[4:])
	ssrc := binary.BigEndian.Uint32(pkt[8:])
	if r.first.IsZero() {
		r.first = now
	}
	s := r.streams[ssrc]
	if s == nil {
		s = &stream{clockRate: clockRate(pt)}
		r.streams[ssrc] = s
	}
	s.add(seq)
	s.bytes += int64(len(pkt))
	// Timestamps count from the epoch, so now minus the timestamp is how
	// long the packet took from the publisher, through the server, to here.
	sinceEpoch := now.Sub(r.epoch).Seconds()
	sent := float64(ts) / s.clockRate
	transit := sinceEpoch - sent
	for transit > 1<<31/s.clockRate { // the 32-bit timestamp wrapped
		transit -= (1 << 32) / s.clockRate
	}
	r.delays.Add(time.Duration(transit * float64(time.Second)))
	if s.received > 1 {
		d := transit - s.lastTransit
		if d < 0 {
			d = -d
		}
		s.jitter += (d - s.jitter) / 16
	}
	s.lastTransit = transit
}

// add records a sequence number; the window holds the last 65,536.
func (s *stream) add(seq uint16) {
	if !s.started {
		s.started, s.maxSeq = true, seq
	}
	// The shortest distance from the highest number so far, across wraps.
	ext := s.highest + int(int16(seq-s.maxSeq))
	if ext < 0 || s.highest-ext > 60000 {
		return // too old to tell
	}
	if ext > s.highest {
		for i := s.highest + 1; i <= ext; i++ { // clear the slots of the numbers passed
			s.seen[(i%65536)/64] &^= 1 << (i % 64)
		}
		s.highest, s.maxSeq = ext, seq
	}
	slot := ext % 65536
	if s.seen[slot/64]&(1<<(slot%64)) == 0 {
		s.seen[slot/64] |= 1 << (slot % 64)
		s.received++
	}
}

// Totals sums up the receiver's streams.
type Totals struct {
	Packets  int
	Bytes    int64
	Expected int           // packets the sequence numbers say were sent
	Jitter   time.Duration // largest stream jitter
}

// Totals returns what was received so far.
func (r *Receiver) Totals() Totals {
	r.mu.Lock()
	defer r.mu.Unlock()
	var t Totals
	for _, s := range r.streams {
		t.Packets += s.received
		t.Bytes += s.bytes
		t.Expected += s.highest + 1
		if j := time.Duration(s.jitter * float64(time.Second)); j > t.Jitter {
			t.Jitter = j
		}
	}
	return t
}

// TakeDelays returns the delays recorded since the last call, and resets them.
func (r *Receiver) TakeDelays() Histogram {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.delays
	r.delays = Histogram{}
	return h
}

// FirstPacket returns when the first media packet arrived, or zero.
func (r *Receiver) FirstPacket() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.first
}

// ReadPace is how long a Poller lets packets gather in the sockets between
// reads: waking up for every packet would cost the generator more than the
// server. The kernel stamps each packet on arrival, so delays are measured
// exactly all the same; only ICE checks wait, which is why the first
// subscriber, whose round trip the report prints, has a reader of its own.
const ReadPace = 10 * time.Millisecond

// Wrap returns the conn to hand to Pion: it reads in batches (recvmmsg),
// records and drops RTP, and passes everything else on.
func (r *Receiver) Wrap(conn *net.UDPConn) net.PacketConn {
	if r.poller != nil {
		if c, err := r.poller.wrap(conn, r); err == nil {
			return c
		} // else read it with a reader of its own, as below
	}
	batch, err := newBatchReader(conn, 64)
	if err != nil {
		// Never seen on Linux. Pion then reads the media, this receiver
		// counts none, and the report shows it all as lost.
		return conn
	}
	return &countingConn{UDPConn: conn, batch: batch, r: r}
}

// wrapSubscribe is a client.Options.WrapConn: it wraps the subscribe
// connection, where media arrives, and leaves the publish one.
func (r *Receiver) wrapSubscribe(conn *net.UDPConn, subscribe bool) net.PacketConn {
	if subscribe {
		return r.Wrap(conn)
	}
	return conn
}

type countingConn struct {
	*net.UDPConn
	batch   *batchReader
	pending []int // indices in the batch of packets not yet handed on
	r       *Receiver
}

func (c *countingConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		if len(c.pending) > 0 {
			i := c.pending[0]
			c.pending = c.pending[1:]
			return copy(p, c.batch.data(i)), c.batch.from(i), nil
		}
		n, err := c.batch.readBatch()
		if err != nil {
			return 0, nil, err
		}
		c.pending = c.r.recordBatch(c.batch, n, c.pending[:0])
	}
}

// recordBatch records the RTP packets among the first n of batch, under one
// lock, and appends the indices of the others to others.
func (r *Receiver) recordBatch(batch *batchReader, n int, others []int) []int {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range n {
		if b := batch.data(i); isRTP(b) {
			r.record(b, arrival(batch.oob(i), now))
		} else {
			others = append(others, i)
		}
	}
	return others
}

// arrival reads the kernel's receive timestamp from a packet's control
// messages, or returns fallback. It walks them in place, where
// unix.ParseSocketControlMessage would allocate at every packet.
func arrival(oob []byte, fallback time.Time) time.Time {
	for len(oob) >= unix.SizeofCmsghdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		size := int(h.Len)
		if size < unix.SizeofCmsghdr || size > len(oob) {
			break
		}
		if h.Level == unix.SOL_SOCKET && h.Type == unix.SCM_TIMESTAMPNS && size >= unix.CmsgLen(16) {
			data := oob[unix.CmsgLen(0):]
			sec := int64(binary.NativeEndian.Uint64(data[0:8]))
			nsec := int64(binary.NativeEndian.Uint64(data[8:16]))
			return time.Unix(sec, nsec)
		}
		oob = oob[min(unix.CmsgSpace(size-unix.CmsgLen(0)), len(oob)):]
	}
	return fallback
}

// isRTP tells RTP from RTCP, STUN and DTLS (RFC 7983, RFC 5761).
func isRTP(b []byte) bool {
	return len(b) > 1 && b[0] >= 128 && b[0] < 192 && (b[1] < 192 || b[1] > 223)
}
