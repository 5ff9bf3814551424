package loadtest

import (
	"errors"
	"fmt"
	"net"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// batchReader reads up to a batch of datagrams per recvmmsg call, each with
// the kernel's receive timestamp. Its buffers and the call's arguments are
// made once: golang.org/x/net's ReadBatch packs its arguments and parses
// every sender's address at each call, which was 6 % of the generator's
// time, and the allocations cost as much again in garbage collection.
type batchReader struct {
	raw   syscall.RawConn
	hdrs  []mmsghdr
	iovs  []unix.Iovec
	names []unix.RawSockaddrAny
	oobs  [][]byte
	bufs  [][]byte
	read  func(fd uintptr) bool // made once: a closure made per call would be allocated
	n     int
	errno unix.Errno
}

// mmsghdr is the kernel's struct mmsghdr; Go pads it as C does.
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
}

const oobSize = 64 // room for a timestamp's control message

func newBatchReader(conn *net.UDPConn, size int) (*batchReader, error) {
	raw, err := conn.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("raw socket: %w", err)
	}
	var optErr error
	if err := errors.Join(raw.Control(func(fd uintptr) {
		optErr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
	}), optErr); err != nil {
		return nil, fmt.Errorf("receive timestamps: %w", err)
	}
	b := newBatchBuffers(size)
	b.raw = raw
	return b, nil
}

// newBatchBuffers returns a batchReader without a socket of its own, whose
// recvmmsg reads the descriptor it is given.
func newBatchBuffers(size int) *batchReader {
	b := &batchReader{hdrs: make([]mmsghdr, size), iovs: make([]unix.Iovec, size),
		names: make([]unix.RawSockaddrAny, size), oobs: make([][]byte, size), bufs: make([][]byte, size)}
	for i := range size {
		b.bufs[i] = make([]byte, 1500)
		b.oobs[i] = make([]byte, oobSize)
		b.iovs[i].Base = &b.bufs[i][0]
		b.iovs[i].SetLen(len(b.bufs[i]))
		h := &b.hdrs[i].hdr
		h.Name = (*byte)(unsafe.Pointer(&b.names[i]))
		h.Iov = &b.iovs[i]
		h.SetIovlen(1)
		h.Control = &b.oobs[i][0]
	}
	b.read = b.recvmmsg
	return b
}

// readBatch waits for datagrams and reads those waiting, up to a batch.
func (b *batchReader) readBatch() (int, error) {
	b.n, b.errno = 0, 0
	if err := b.raw.Read(b.read); err != nil {
		return 0, err
	}
	if b.errno != 0 {
		return 0, fmt.Errorf("recvmmsg: %w", b.errno)
	}
	return b.n, nil
}

func (b *batchReader) recvmmsg(fd uintptr) bool {
	for i := range b.hdrs {
		h := &b.hdrs[i]
		h.hdr.Namelen = unix.SizeofSockaddrAny
		h.hdr.SetControllen(oobSize)
		h.hdr.Flags, h.len = 0, 0
	}
	for {
		n, _, errno := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&b.hdrs[0])), uintptr(len(b.hdrs)), 0, 0, 0)
		switch errno {
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false // nothing yet: wait until the socket is readable
		}
		b.n, b.errno = int(n), errno
		return true
	}
}

// data returns datagram i of the last batch.
func (b *batchReader) data(i int) []byte { return b.bufs[i][:b.hdrs[i].len] }

// oob returns the control messages of datagram i.
func (b *batchReader) oob(i int) []byte { return b.oobs[i][:b.hdrs[i].hdr.Controllen] }

// from returns the sender of datagram i. It allocates, so it is called only
// for the datagrams handed on to Pion.
func (b *batchReader) from(i int) net.Addr {
	switch sa := &b.names[i]; sa.Addr.Family {
	case unix.AF_INET:
		in := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		port := (*[2]byte)(unsafe.Pointer(&in.Port))
		return &net.UDPAddr{IP: net.IP(in.Addr[:]).To16(), Port: int(port[0])<<8 | int(port[1])}
	case unix.AF_INET6:
		in := (*unix.RawSockaddrInet6)(unsafe.Pointer(sa))
		port := (*[2]byte)(unsafe.Pointer(&in.Port))
		return &net.UDPAddr{IP: append(net.IP(nil), in.Addr[:]...), Port: int(port[0])<<8 | int(port[1])}
	}
	return nil
}
