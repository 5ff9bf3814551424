package loadtest

import (
	"encoding/binary"
	"net"
	"testing"
	"time"
)

func rtpPacket(pt uint8, seq uint16, ts, ssrc uint32) []byte {
	b := make([]byte, 100)
	b[0], b[1] = 0x80, pt
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], ssrc)
	return b
}

func TestReceiverCountsLossAndDelay(t *testing.T) {
	epoch := time.Now().Add(-time.Hour)
	r := NewReceiver(epoch, nil)
	// 100,000 audio packets, 20 ms apart, each arriving 3 ms after it was
	// sent, with sequence numbers wrapping and every 100th packet lost.
	for i := range 100000 {
		sent := time.Duration(i) * 20 * time.Millisecond
		if i%100 == 99 {
			continue
		}
		ts := uint32(int64(sent) * 48000 / int64(time.Second))
		r.record(rtpPacket(111, uint16(60000+i), ts, 7), epoch.Add(sent+3*time.Millisecond))
	}
	tot := r.Totals()
	if tot.Expected != 100000-1 || tot.Packets != 99000 {
		t.Fatalf("received %d of %d expected, want 99000 of 99999", tot.Packets, tot.Expected)
	}
	d := r.TakeDelays()
	if p50 := d.Quantile(0.5); p50 < 3*time.Millisecond || p50 > 3200*time.Microsecond {
		t.Fatalf("median delay %v, want 3 ms", p50)
	}
	if tot.Jitter > 100*time.Microsecond {
		t.Fatalf("jitter %v for a steady stream", tot.Jitter)
	}
}

// On a real socket, RTP is counted with the kernel's arrival time, not the
// time it is read, and everything else goes on to Pion, whether the socket
// has a reader of its own or is read by a poller.
func TestWrappedSocketTimesPacketsOnArrival(t *testing.T) {
	t.Run("own reader", func(t *testing.T) { testWrappedSocket(t, nil) })
	t.Run("poller", func(t *testing.T) {
		poller, err := NewPoller()
		if err != nil {
			t.Fatal(err)
		}
		defer poller.Close()
		testWrappedSocket(t, poller)
	})
}

func testWrappedSocket(t *testing.T, poller *Poller) {
	recv, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	send, err := net.DialUDP("udp4", nil, recv.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer send.Close()
	epoch := time.Now()
	r := NewReceiver(epoch, poller)
	conn := r.Wrap(recv)
	// The kernel starts stamping packets a moment after the first socket
	// asks, when no other socket had (net_enable_timestamp is deferred).
	time.Sleep(50 * time.Millisecond)
	for seq := range uint16(5) {
		ts := uint32(time.Since(epoch) * 90000 / time.Second)
		if _, err := send.Write(rtpPacket(96, seq, ts, 9)); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(300 * time.Millisecond) // read late: the delay must not include this
	stun := []byte{0x00, 0x01, 0x00, 0x00}
	if _, err := send.Write(stun); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, from, err := conn.ReadFrom(buf)
	if err != nil || string(buf[:n]) != string(stun) {
		t.Fatalf("read %q, %v: want the STUN packet", buf[:n], err)
	}
	if from.String() != send.LocalAddr().String() {
		t.Fatalf("the STUN packet came from %v, read as from %v", send.LocalAddr(), from)
	}
	if tot := r.Totals(); tot.Packets != 5 {
		t.Fatalf("counted %d RTP packets of 5", tot.Packets)
	}
	if d := r.TakeDelays(); d.Quantile(0.99) > 100*time.Millisecond {
		t.Fatalf("delay %v: the packets were timed when read, not when they arrived", d.Quantile(0.99))
	}
	// Pion's reader stops when its conn is closed.
	done := make(chan error, 1)
	go func() { _, _, err := conn.ReadFrom(buf); done <- err }()
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err == nil {
		t.Fatal("a read went on after the conn was closed")
	}
}

func TestReceiverIgnoresDuplicates(t *testing.T) {
	r := NewReceiver(time.Now(), nil)
	for range 3 {
		r.record(rtpPacket(96, 5, 0, 1), time.Now())
	}
	r.record(rtpPacket(96, 6, 0, 1), time.Now())
	if tot := r.Totals(); tot.Packets != 2 || tot.Expected != 2 {
		t.Fatalf("%+v, want 2 of 2", tot)
	}
}

func TestIsRTP(t *testing.T) {
	cases := map[string]struct {
		b    []byte
		want bool
	}{
		"rtp opus":      {[]byte{0x80, 111}, true},
		"rtp marker":    {[]byte{0x80, 0x80 | 96}, true},
		"rtcp sr":       {[]byte{0x80, 200}, false},
		"rtcp feedback": {[]byte{0x81, 205}, false},
		"stun":          {[]byte{0x00, 0x01}, false},
		"dtls":          {[]byte{22, 254}, false},
	}
	for name, c := range cases {
		if isRTP(c.b) != c.want {
			t.Errorf("%s: isRTP = %v", name, !c.want)
		}
	}
}
