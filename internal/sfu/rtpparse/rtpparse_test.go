package rtpparse

import (
	"bytes"
	"testing"

	"github.com/pion/rtp"
)

func marshal(t testing.TB, p *rtp.Packet) []byte {
	t.Helper()
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseAgreesWithPion(t *testing.T) {
	p := &rtp.Packet{
		Header: rtp.Header{Version: 2, Marker: true, PayloadType: 111, SequenceNumber: 65535,
			Timestamp: 0xdeadbeef, SSRC: 0x01020304, CSRC: []uint32{7, 8}},
		Payload: []byte{1, 2, 3, 4, 5},
	}
	if err := p.Header.SetExtension(1, []byte{0x80 | 42}); err != nil {
		t.Fatal(err)
	}
	if err := p.Header.SetExtension(3, []byte{9, 9, 9}); err != nil {
		t.Fatal(err)
	}
	buf := marshal(t, p)
	var h Header
	if err := Parse(buf, &h); err != nil {
		t.Fatal(err)
	}
	if !h.Marker || h.PayloadType != 111 || h.Seq != 65535 || h.Timestamp != 0xdeadbeef || h.SSRC != 0x01020304 {
		t.Fatalf("header fields wrong: %+v", h)
	}
	if got := buf[h.PayloadStart:h.PayloadEnd]; !bytes.Equal(got, p.Payload) {
		t.Fatalf("payload = %v, want %v", got, p.Payload)
	}
	ext, ok := h.Extension(buf, 1)
	level, voice, ok2 := AudioLevel(ext)
	if !ok || !ok2 || level != 42 || !voice {
		t.Fatalf("audio level = %d voice=%v (%v %v), want 42 true", level, voice, ok, ok2)
	}
	if ext, ok := h.Extension(buf, 3); !ok || !bytes.Equal(ext, []byte{9, 9, 9}) {
		t.Fatalf("extension 3 = %v %v", ext, ok)
	}
	if _, ok := h.Extension(buf, 2); ok {
		t.Fatal("found an extension that is not there")
	}
}

func TestTwoByteExtensionAndPadding(t *testing.T) {
	p := &rtp.Packet{
		Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: 1, Padding: true, PaddingSize: 4,
			Extension: true, ExtensionProfile: 0x1000},
		Payload: []byte{0xaa, 0xbb},
	}
	if err := p.Header.SetExtension(20, make([]byte, 17)); err != nil {
		t.Fatal(err)
	}
	buf := marshal(t, p)
	var h Header
	if err := Parse(buf, &h); err != nil {
		t.Fatal(err)
	}
	if got := buf[h.PayloadStart:h.PayloadEnd]; !bytes.Equal(got, p.Payload) {
		t.Fatalf("payload = %x, want %x (padding must be excluded)", got, p.Payload)
	}
	if ext, ok := h.Extension(buf, 20); !ok || len(ext) != 17 {
		t.Fatalf("two-byte extension = %v %v", ext, ok)
	}
}

func TestRejectsMalformed(t *testing.T) {
	var h Header
	cases := map[string][]byte{
		"empty":          {},
		"short":          {0x80, 0, 0, 1},
		"version 1":      append([]byte{0x40}, make([]byte, 11)...),
		"csrc overrun":   append([]byte{0x8f}, make([]byte, 11)...),
		"ext overrun":    append([]byte{0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xde, 0, 9}, make([]byte, 4)...),
		"zero padding":   {0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0},
		"padding > size": {0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 9},
	}
	for name, b := range cases {
		if err := Parse(b, &h); err == nil {
			t.Errorf("%s: Parse accepted %x", name, b)
		}
	}
}

func TestParseDoesNotAllocate(t *testing.T) {
	p := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111}, Payload: make([]byte, 100)}
	_ = p.Header.SetExtension(1, []byte{30})
	buf := marshal(t, p)
	var h Header
	allocs := testing.AllocsPerRun(100, func() {
		_ = Parse(buf, &h)
		_, _ = h.Extension(buf, 1)
	})
	if allocs != 0 {
		t.Fatalf("Parse allocates %v times per packet", allocs)
	}
}

func BenchmarkParse(b *testing.B) {
	p := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111}, Payload: make([]byte, 1100)}
	_ = p.Header.SetExtension(1, []byte{30})
	buf := marshal(b, p)
	var h Header
	for b.Loop() {
		_ = Parse(buf, &h)
		_, _ = h.Extension(buf, 1)
	}
}

// FuzzParse checks that Parse never reads out of bounds and agrees with
// pion/rtp on every packet both accept.
func FuzzParse(f *testing.F) {
	f.Add([]byte{0x80, 111, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 1, 2, 3})
	f.Add([]byte{0x90, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0xbe, 0xde, 0, 1, 0x10, 0xff, 0, 0, 7})
	f.Add([]byte{0xb0, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0x10, 0x00, 0, 1, 5, 1, 9, 0, 7, 2})
	f.Fuzz(func(t *testing.T, buf []byte) {
		var h Header
		if err := Parse(buf, &h); err != nil {
			return
		}
		if h.PayloadStart > h.PayloadEnd || h.PayloadEnd > len(buf) {
			t.Fatalf("payload bounds %d..%d outside %d bytes", h.PayloadStart, h.PayloadEnd, len(buf))
		}
		for id := uint8(0); id < 255; id++ {
			if ext, ok := h.Extension(buf, id); ok {
				_, _, _ = AudioLevel(ext)
			}
		}
		var p rtp.Packet
		if err := p.Unmarshal(buf); err != nil {
			return
		}
		if p.SequenceNumber != h.Seq || p.Timestamp != h.Timestamp || p.SSRC != h.SSRC ||
			p.PayloadType != h.PayloadType || p.Marker != h.Marker {
			t.Fatalf("fields differ from pion/rtp: %+v vs %+v", h, p.Header)
		}
		if !bytes.Equal(p.Payload, buf[h.PayloadStart:h.PayloadEnd]) {
			t.Fatalf("payload differs from pion/rtp")
		}
	})
}
