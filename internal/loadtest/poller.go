package loadtest

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Poller reads the sockets of many receivers from one goroutine: every
// ReadPace it asks the kernel which of them hold packets (one epoll_wait
// for all) and reads only those. A goroutine per socket, sleeping then
// waiting in Go's netpoller, cost two wake-ups and a read that found
// nothing per video frame and subscriber, about 40 % of the generator's
// time.
type Poller struct {
	epfd  int
	batch *batchReader // shared: the loop reads one socket at a time
	stop  chan struct{}
	done  chan struct{}

	mu     sync.Mutex
	conns  map[int32]*polledConn
	closed bool
}

// NewPoller starts a poller; Close stops it.
func NewPoller() (*Poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll: %w", err)
	}
	p := &Poller{epfd: epfd, batch: newBatchBuffers(64), stop: make(chan struct{}), done: make(chan struct{}),
		conns: map[int32]*polledConn{}}
	go p.run()
	return p, nil
}

// Close stops the poller. Its sockets are not closed: their owners do it.
func (p *Poller) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	close(p.stop)
	<-p.done
	return unix.Close(p.epfd)
}

func (p *Poller) run() {
	defer close(p.done)
	events := make([]unix.EpollEvent, 256)
	var others []int
	tick := time.NewTicker(ReadPace)
	defer tick.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-tick.C:
		}
		p.mu.Lock()
		for {
			// A zero timeout: waiting inside the system call would hold a
			// thread, and the ticker is the wait.
			n, err := unix.EpollWait(p.epfd, events, 0)
			if err != nil && !errors.Is(err, unix.EINTR) {
				break
			}
			for _, ev := range events[:max(n, 0)] {
				if c := p.conns[ev.Fd]; c != nil {
					c.drain(p.batch, &others)
				}
			}
			if n < len(events) {
				break
			}
		}
		p.mu.Unlock()
	}
}

// add registers a socket; from now on only the poller reads it.
func (p *Poller) add(c *polledConn) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return net.ErrClosed
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(c.fd)}
	if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, c.fd, &ev); err != nil {
		return fmt.Errorf("epoll add: %w", err)
	}
	p.conns[int32(c.fd)] = c
	return nil
}

// remove unregisters a socket before it is closed, so that the loop never
// reads a descriptor that may have been reused.
func (p *Poller) remove(c *polledConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns[int32(c.fd)] == c {
		delete(p.conns, int32(c.fd))
		_ = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, c.fd, nil)
	}
}

// polledConn is a receiver's socket read by a Poller, through a descriptor
// of its own: the net.UDPConn it came from is closed, which takes the socket
// out of Go's network poller. Left there as well, every packet would also
// wake Go's poller for nothing, and on loopback the server, whose sends
// deliver the packets, pays for those wake-ups. What is not RTP waits in
// inbox for Pion's reader.
type polledConn struct {
	fd        int
	local     net.Addr
	r         *Receiver
	poller    *Poller
	inbox     chan datagram
	closed    chan struct{}
	closeOnce sync.Once
	writing   sync.RWMutex // Close waits for writes, so none goes to a reused descriptor
}

type datagram struct {
	data []byte
	from net.Addr
}

// inboxSize is how many ICE, DTLS and RTCP packets wait for Pion; more are
// dropped, as a full socket buffer would drop them.
const inboxSize = 64

func (p *Poller) wrap(conn *net.UDPConn, r *Receiver) (net.PacketConn, error) {
	raw, err := conn.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("raw socket: %w", err)
	}
	c := &polledConn{fd: -1, local: conn.LocalAddr(), r: r, poller: p, inbox: make(chan datagram, inboxSize),
		closed: make(chan struct{})}
	var dupErr error
	if err := raw.Control(func(fd uintptr) { c.fd, dupErr = unix.Dup(int(fd)) }); err != nil || dupErr != nil {
		return nil, fmt.Errorf("duplicate the socket: %w", errors.Join(err, dupErr))
	}
	if err := unix.SetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
		_ = unix.Close(c.fd)
		return nil, fmt.Errorf("receive timestamps: %w", err)
	}
	if err := p.add(c); err != nil {
		_ = unix.Close(c.fd)
		return nil, err
	}
	_ = conn.Close()
	return c, nil
}

// drain reads what waits in the socket; the poller's lock is held. others
// is the poller's scratch space for the indices of packets that are not RTP.
func (c *polledConn) drain(b *batchReader, others *[]int) {
	for {
		b.n, b.errno = 0, 0
		b.recvmmsg(uintptr(c.fd))
		if b.n <= 0 {
			return
		}
		*others = c.r.recordBatch(b, b.n, (*others)[:0])
		for _, i := range *others {
			select {
			case c.inbox <- datagram{data: append([]byte(nil), b.data(i)...), from: b.from(i)}:
			default:
			}
		}
		if b.n < len(b.bufs) {
			return
		}
	}
}

// ReadFrom returns the next packet that is not RTP.
func (c *polledConn) ReadFrom(p []byte) (int, net.Addr, error) {
	select {
	case d := <-c.inbox:
		return copy(p, d.data), d.from, nil
	case <-c.closed:
		return 0, nil, net.ErrClosed
	}
}

// WriteTo sends from the socket. It sends ICE, DTLS and RTCP only, so a
// write that would block, never seen on a UDP socket, is a lost packet.
func (c *polledConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	to, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, fmt.Errorf("write to %v: not a UDP address", addr)
	}
	var sa unix.Sockaddr
	if ip4 := to.IP.To4(); ip4 != nil {
		sa = &unix.SockaddrInet4{Port: to.Port, Addr: [4]byte(ip4)}
	} else {
		sa = &unix.SockaddrInet6{Port: to.Port, Addr: [16]byte(to.IP.To16())}
	}
	c.writing.RLock()
	defer c.writing.RUnlock()
	select {
	case <-c.closed:
		return 0, net.ErrClosed
	default:
	}
	if err := unix.Sendto(c.fd, p, 0, sa); err != nil {
		return 0, fmt.Errorf("write to %v: %w", addr, err)
	}
	return len(p), nil
}

func (c *polledConn) LocalAddr() net.Addr { return c.local }

// Deadlines are not kept: Pion's reader stops when the conn is closed.
func (c *polledConn) SetDeadline(time.Time) error      { return nil }
func (c *polledConn) SetReadDeadline(time.Time) error  { return nil }
func (c *polledConn) SetWriteDeadline(time.Time) error { return nil }

func (c *polledConn) Close() error {
	var err error
	c.closeOnce.Do(func() {
		c.poller.remove(c)
		c.writing.Lock()
		defer c.writing.Unlock()
		close(c.closed)
		err = unix.Close(c.fd)
	})
	return err
}
