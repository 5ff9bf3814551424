//go:build linux

package udpout

import (
	"encoding/binary"
	"net"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

type rawSockaddr = unix.RawSockaddrInet4

func encodeSockaddr(ap netip.AddrPort) rawSockaddr {
	var sa unix.RawSockaddrInet4
	if !ap.Addr().Is4() {
		return sa // sent one by one: see sysQueue.send
	}
	sa.Family = unix.AF_INET
	port := (*[2]byte)(unsafe.Pointer(&sa.Port))
	binary.BigEndian.PutUint16(port[:], ap.Port())
	sa.Addr = ap.Addr().As4()
	return sa
}

type sysConn struct{ raw syscall.RawConn }

func newSysConn(c *net.UDPConn) sysConn {
	raw, err := c.SyscallConn()
	if err != nil {
		return sysConn{}
	}
	return sysConn{raw: raw}
}

// supportsGSO asks the kernel for the socket's segment size: kernels
// without GSO do not know the option.
func (c sysConn) supportsGSO() bool {
	if c.raw == nil {
		return false
	}
	ok := false
	_ = c.raw.Control(func(fd uintptr) {
		_, err := unix.GetsockoptInt(int(fd), unix.IPPROTO_UDP, unix.UDP_SEGMENT)
		ok = err == nil
	})
	return ok
}

// mmsghdr is the kernel's struct mmsghdr; Go pads it as C does.
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
}

var gsoControlLen = unix.CmsgSpace(2)

// sysQueue holds a queue's system call arguments, reused from call to call
// so that sending allocates nothing.
type sysQueue struct {
	hdrs  []mmsghdr
	iovs  []unix.Iovec
	ctrl  []byte
	write func(fd uintptr) bool // made once: a closure made per call would be allocated

	start, end int // the headers the next call sends
	sent       int
	errno      unix.Errno
}

func (s *sysQueue) send(q *Queue) {
	raw := q.sender.sys.raw
	if raw == nil {
		for i := range q.msgs {
			q.sendEach(&q.msgs[i])
		}
		return
	}
	if s.write == nil {
		s.hdrs = make([]mmsghdr, maxMessages)
		s.iovs = make([]unix.Iovec, maxBuffers)
		s.ctrl = make([]byte, maxMessages*gsoControlLen)
		s.write = s.sendmmsg
	}
	for i := range q.msgs {
		s.prepare(i, q)
	}
	s.start, s.end = 0, len(q.msgs)
	for s.start < s.end {
		if err := raw.Write(s.write); err != nil {
			return // the socket is closed
		}
		switch {
		case s.errno != 0:
			// The message at start failed. A run the kernel or the device
			// cannot segment goes again datagram by datagram; EIO says the
			// device never can.
			m := &q.msgs[s.start]
			if s.errno == unix.EIO && m.count > 1 {
				q.sender.refusedGSO(s.errno)
			}
			q.sendEach(m)
			s.start++
		case s.sent > 0:
			s.start += s.sent
		default:
			s.start++
		}
	}
}

func (s *sysQueue) prepare(i int, q *Queue) {
	m := &q.msgs[i]
	h := &s.hdrs[i].hdr
	*h = unix.Msghdr{}
	if m.to.addrPort.Addr().Is4() {
		h.Name = (*byte)(unsafe.Pointer(&m.to.raw))
		h.Namelen = unix.SizeofSockaddrInet4
	} // else no address: the call fails for this message, which then goes by sendEach
	for j, b := range q.bufs[m.first : m.first+m.count] {
		v := &s.iovs[m.first+j]
		v.Base = nil
		if len(b) > 0 {
			v.Base = &b[0]
		}
		v.SetLen(len(b))
	}
	h.Iov = &s.iovs[m.first]
	h.SetIovlen(m.count)
	if m.count > 1 {
		c := s.ctrl[i*gsoControlLen : (i+1)*gsoControlLen]
		cmsg := (*unix.Cmsghdr)(unsafe.Pointer(&c[0]))
		cmsg.Level = unix.IPPROTO_UDP
		cmsg.Type = unix.UDP_SEGMENT
		cmsg.SetLen(unix.CmsgLen(2))
		binary.NativeEndian.PutUint16(c[unix.CmsgLen(0):], uint16(m.size))
		h.Control = &c[0]
		h.SetControllen(gsoControlLen)
	}
}

func (s *sysQueue) sendmmsg(fd uintptr) bool {
	n, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&s.hdrs[s.start])), uintptr(s.end-s.start), 0, 0, 0)
	if errno == unix.EAGAIN {
		return false // wait until the socket can take more
	}
	s.sent, s.errno = int(n), errno
	return true
}
