package srtpseal

import (
	"bytes"
	"crypto/rand"
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// pionContext is the reference implementation the browsers' libsrtp has
// been tested against.
func pionContext(t testing.TB, p Profile, key, salt []byte) *srtp.Context {
	t.Helper()
	ctx, err := srtp.CreateContext(key, salt, srtp.ProtectionProfile(p))
	if err != nil {
		t.Fatal(err)
	}
	return ctx
}

func keys(t testing.TB, p Profile) (key, salt []byte) {
	t.Helper()
	kl, err := srtp.ProtectionProfile(p).KeyLen()
	if err != nil {
		t.Fatal(err)
	}
	sl, err := srtp.ProtectionProfile(p).SaltLen()
	if err != nil {
		t.Fatal(err)
	}
	key, salt = make([]byte, kl), make([]byte, sl)
	_, _ = rand.Read(key)
	_, _ = rand.Read(salt)
	return key, salt
}

// sealerWithKeys is a sealer of new random keys for p, and the keys.
func sealerWithKeys(t testing.TB, p Profile) (*Sealer, []byte, []byte) {
	t.Helper()
	key, salt := keys(t, p)
	s, err := New(p, key, salt)
	if err != nil {
		t.Fatal(err)
	}
	return s, key, salt
}

func TestSealedPacketsDecryptAtTheReceiver(t *testing.T) {
	for _, p := range []Profile{AEADAES128GCM, AEADAES256GCM, AES128CMHMACSHA1_80} {
		s, key, salt := sealerWithKeys(t, p)
		receiver := pionContext(t, p, key, salt)
		// Numbers across a wrap of the sequence number, and a retransmission
		// from before it: the receiver only accepts them with the right
		// rollover counter.
		cases := []struct {
			seq uint16
			roc uint32
		}{{65534, 0}, {65535, 0}, {0, 1}, {1, 1}, {65533, 0}, {2, 1}}
		for i, c := range cases {
			h := rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: c.seq, Timestamp: uint32(960 * i), SSRC: 0xdeadbeef, Marker: i%2 == 0}
			if i == 3 {
				_ = h.SetExtension(3, []byte{1, 2})
			}
			payload := bytes.Repeat([]byte{byte(i)}, 20+100*i)
			plain, err := (&rtp.Packet{Header: h, Payload: payload}).Marshal()
			if err != nil {
				t.Fatal(err)
			}
			sealed := s.Seal(nil, plain, h.MarshalSize(), h.SSRC, c.roc, c.seq)
			got, err := receiver.DecryptRTP(nil, sealed, nil)
			if err != nil {
				t.Fatalf("profile %#x, packet %d (seq %d, roc %d): %v", p, i, c.seq, c.roc, err)
			}
			if !bytes.Equal(got, plain) {
				t.Fatalf("profile %#x, packet %d: decrypted to other bytes", p, i)
			}
		}
	}
}

func TestSealingMatchesTheReferenceByteForByte(t *testing.T) {
	for _, p := range []Profile{AEADAES128GCM, AEADAES256GCM, AES128CMHMACSHA1_80} {
		s, key, salt := sealerWithKeys(t, p)
		ref := pionContext(t, p, key, salt)
		h := rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: 7, Timestamp: 9000, SSRC: 42}
		plain, _ := (&rtp.Packet{Header: h, Payload: []byte("a video frame's first bytes")}).Marshal()
		want, err := ref.EncryptRTP(nil, plain, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Seal([]byte("kept"), plain, 12, 42, 0, 7); !bytes.Equal(got, append([]byte("kept"), want...)) {
			t.Fatalf("profile %#x: sealed %x, want %x", p, got, want)
		}
	}
}

func TestRefusesWhatItCannotSeal(t *testing.T) {
	if _, err := New(0x0002, make([]byte, 16), make([]byte, 14)); err == nil {
		t.Fatal("HMAC-SHA1-32 accepted")
	}
	if _, err := New(AEADAES128GCM, make([]byte, 32), make([]byte, 12)); err == nil {
		t.Fatal("a 256-bit key accepted for AES-128")
	}
}

func BenchmarkSeal(b *testing.B) {
	for _, c := range []struct {
		name    string
		profile Profile
		size    int
	}{{"gcm-audio", AEADAES128GCM, 100}, {"gcm-video", AEADAES128GCM, 1100}, {"hmac-video", AES128CMHMACSHA1_80, 1100}} {
		b.Run(c.name, func(b *testing.B) {
			s, _, _ := sealerWithKeys(b, c.profile)
			plain := make([]byte, c.size)
			plain[0] = 0x80
			dst := make([]byte, 0, c.size+Overhead)
			b.SetBytes(int64(c.size))
			seq := uint16(0)
			for b.Loop() {
				seq++
				s.Seal(dst, plain, 12, 1, 0, seq)
			}
		})
	}
}

func BenchmarkPionEncrypt(b *testing.B) {
	key, salt := keys(b, AEADAES128GCM)
	ctx := pionContext(b, AEADAES128GCM, key, salt)
	plain, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 1}, Payload: make([]byte, 88)}).Marshal()
	dst := make([]byte, 0, 200)
	var h rtp.Header
	for b.Loop() {
		if _, err := ctx.EncryptRTP(dst, plain, &h); err != nil {
			b.Fatal(err)
		}
	}
}
