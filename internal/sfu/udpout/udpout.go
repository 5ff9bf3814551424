// Package udpout sends UDP datagrams in batches: many datagrams in one
// sendmmsg system call and, where the kernel has UDP generic segmentation
// offload (GSO, Linux 4.18 and later), a run of datagrams to one address as
// a single message that the kernel or the network card cuts up.
//
// Sending media, the kernel's work per message dominates, not the system
// call (measured in BENCHMARKS.md): sendmmsg alone saves little, while GSO
// pays the trip through the network stack once for the whole run. Runs come
// from a video frame's packets forwarded to one subscriber together.
package udpout

import (
	"log/slog"
	"net"
	"net/netip"
	"sync/atomic"
)

// Limits of one queue and of one GSO message. The kernel takes at most 64
// segments per message, and at most 64 KiB in all.
const (
	MaxDatagram = 1600 // the largest datagram a queue buffer holds
	maxMessages = 64   // messages per system call
	maxBuffers  = 1024 // datagrams a queue holds before it must flush
	maxSegments = 64
	maxGSOBytes = 60000
	// maxSegmentSize keeps runs to datagrams that cross an Ethernet link
	// whole: the kernel refuses a segment larger than the path's MTU, where
	// a lone datagram would be fragmented.
	maxSegmentSize = 1472
)

// Addr is a destination, encoded once for the system call rather than at
// every packet.
type Addr struct {
	addrPort netip.AddrPort
	raw      rawSockaddr
}

// NewAddr encodes an IPv4 destination (IPv4-mapped IPv6 included). For an
// IPv6 one, datagrams are sent one by one.
func NewAddr(ap netip.AddrPort) Addr {
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	return Addr{addrPort: ap, raw: encodeSockaddr(ap)}
}

// Sender sends on one UDP socket. It is safe for concurrent use; each
// goroutine fills a Queue of its own.
type Sender struct {
	conn *net.UDPConn
	gso  atomic.Bool
	sys  sysConn
	log  *slog.Logger
}

// NewSender prepares batched sending on conn, with GSO when the kernel
// supports it. log hears of GSO turned off because the device refused it.
func NewSender(conn *net.UDPConn, log *slog.Logger) *Sender {
	s := &Sender{conn: conn, log: log}
	s.sys = newSysConn(conn)
	s.gso.Store(s.sys.supportsGSO())
	return s
}

// GSO tells whether runs are sent as one message.
func (s *Sender) GSO() bool { return s.gso.Load() }

// DisableGSO makes the sender send every datagram as its own message.
func (s *Sender) DisableGSO() { s.gso.Store(false) }

// refusedGSO turns GSO off after the network device refused a run.
func (s *Sender) refusedGSO(err error) {
	if s.gso.Swap(false) && s.log != nil {
		s.log.Warn("the network device refuses UDP segmentation offload: media now leaves datagram by datagram, at a higher CPU cost",
			"local", s.conn.LocalAddr().String(), "err", err)
	}
}

// Send sends one datagram at once.
func (s *Sender) Send(b []byte, to *Addr) error {
	_, err := s.conn.WriteToUDPAddrPort(b, to.addrPort)
	return err
}

// Queue gathers datagrams for one Sender until they are flushed. It belongs
// to one goroutine.
type Queue struct {
	sender *Sender
	bufs   [][]byte // the datagrams queued, then the free buffers
	used   int      // buffers holding queued datagrams
	msgs   []message
	sys    sysQueue
}

// message is a run of queued datagrams to one address: bufs[first:first+count].
// Every datagram of a run but the last is size bytes long; the last may be
// shorter, as GSO requires.
type message struct {
	to           *Addr
	first, count int
	size, last   int
}

// NewQueue returns an empty queue for s.
func NewQueue(s *Sender) *Queue {
	return &Queue{sender: s, msgs: make([]message, 0, maxMessages)}
}

// Sender returns the sender the queue flushes to.
func (q *Queue) Sender() *Sender { return q.sender }

// Buffer returns an empty buffer of capacity MaxDatagram for the next
// datagram, flushing the queue first if it is full. The datagram written in
// it must be passed to Add before Buffer is called again.
func (q *Queue) Buffer() []byte {
	if q.used == maxBuffers || len(q.msgs) == maxMessages {
		q.Flush()
	}
	if q.used == len(q.bufs) {
		q.bufs = append(q.bufs, make([]byte, 0, MaxDatagram))
	}
	return q.bufs[q.used][:0]
}

// Add queues datagram b, written in the buffer Buffer returned last, for to.
// Consecutive datagrams to the same *Addr join one run while their sizes
// allow it.
func (q *Queue) Add(b []byte, to *Addr) {
	i := q.used
	q.bufs[i] = b
	q.used++
	if n := len(q.msgs); n > 0 {
		m := &q.msgs[n-1]
		// While a run's datagrams are all of its size, it holds size*count bytes.
		if m.to == to && m.last == m.size && len(b) <= m.size && m.count < maxSegments &&
			m.size*m.count+len(b) <= maxGSOBytes && q.sender.gso.Load() {
			m.count++
			m.last = len(b)
			return
		}
	}
	gsoAble := len(b) <= maxSegmentSize && to.addrPort.Addr().Is4()
	size := len(b)
	if !gsoAble {
		size = -1 // nothing joins it
	}
	q.msgs = append(q.msgs, message{to: to, first: i, count: 1, size: size, last: len(b)})
}

// Flush sends what is queued. A datagram the kernel refuses is dropped, as
// a full socket buffer would drop it: media is never retried here.
func (q *Queue) Flush() {
	if len(q.msgs) > 0 {
		q.sys.send(q)
	}
	for i := range q.used {
		q.bufs[i] = q.bufs[i][:0]
	}
	q.used = 0
	q.msgs = q.msgs[:0]
}

// sendEach sends the datagrams of m one by one: the fallback when the run
// could not go as one message.
func (q *Queue) sendEach(m *message) {
	for _, b := range q.bufs[m.first : m.first+m.count] {
		_ = q.sender.Send(b, m.to)
	}
}
