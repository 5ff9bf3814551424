package loadtest

import (
	"encoding/binary"
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
	r := NewReceiver(epoch, 0)
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

func TestReceiverIgnoresDuplicates(t *testing.T) {
	r := NewReceiver(time.Now(), 0)
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
