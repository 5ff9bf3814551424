package loadtest

import (
	"context"
	"fmt"
	"net"
	"time"
)

// SendLoop sends size-byte UDP datagrams to addr at rate packets per second,
// one per system call as the server does, until ctx is done. It is the
// physical floor the server is compared with: run it in its own process and
// measure that process's CPU time.
func SendLoop(ctx context.Context, addr string, rate, size int) (int, error) {
	conn, err := net.Dial("udp4", addr)
	if err != nil {
		return 0, fmt.Errorf("baseline socket: %w", err)
	}
	defer conn.Close()
	buf := make([]byte, size)
	buf[0] = 0x80
	// Send in small bursts every millisecond to hold the rate without a
	// timer per packet.
	const tick = time.Millisecond
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	start := time.Now()
	sent := 0
	for {
		select {
		case <-ctx.Done():
			return sent, nil
		case now := <-ticker.C:
			due := int(now.Sub(start).Seconds() * float64(rate))
			for ; sent < due; sent++ {
				if _, err := conn.Write(buf); err != nil {
					return sent, fmt.Errorf("baseline send: %w", err)
				}
			}
		}
	}
}

// Drain reads and discards datagrams on conn until it is closed, and
// reports how many arrived. It reads at the same pace as the synthetic
// subscribers, so that the kernel's receive work charged to the sender is
// the same in the baseline as in the scenario.
func Drain(conn *net.UDPConn) int {
	_ = conn.SetReadBuffer(16 << 20)
	batch, err := newBatchReader(conn, 64)
	if err != nil {
		return 0
	}
	total := 0
	for {
		n, err := batch.readBatch()
		if err != nil {
			return total
		}
		total += n
		if n < len(batch.bufs) {
			time.Sleep(ReadPace)
		}
	}
}
