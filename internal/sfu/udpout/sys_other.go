//go:build !linux

package udpout

import (
	"net"
	"net/netip"
)

// Elsewhere than Linux, datagrams go one by one.

type rawSockaddr struct{}

func encodeSockaddr(netip.AddrPort) rawSockaddr { return rawSockaddr{} }

type sysConn struct{}

func newSysConn(*net.UDPConn) sysConn { return sysConn{} }

func (sysConn) supportsGSO() bool { return false }

type sysQueue struct{}

func (sysQueue) send(q *Queue) {
	for i := range q.msgs {
		q.sendEach(&q.msgs[i])
	}
}
