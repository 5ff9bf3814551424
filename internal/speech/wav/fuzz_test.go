package wav

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzDecode feeds Decode what a client may upload: it must never panic,
// never return more samples than the limit allows, and only fail with one
// of its documented errors.
func FuzzDecode(f *testing.F) {
	var encoded bytes.Buffer
	_ = Encode(&encoded, []int16{1, -2, 3, -4}, 16000)
	f.Add(encoded.Bytes())
	f.Add(riff(fmtChunk(formatPCM, 2, 44100, 24), chunk{id: "data", data: []byte{1, 2, 3, 4, 5, 6}}))
	f.Add(riff(extensibleChunk(formatFloat, 1, 48000, 32), chunk{id: "data", data: le32(0x3f000000)}))
	f.Add(riff(chunk{id: "data", data: le16(3, 4)}, fmtChunk(formatPCM, 1, 8000, 16)))
	f.Add(riff(fmtChunk(formatPCM, 1, 8000, 8), chunk{id: "data", data: []byte{1, 2, 3}, size: 0xFFFFFFFF}))
	f.Add(riff(chunk{id: "LIST", data: []byte("x")}, fmtChunk(formatFloat, 1, 8000, 64), chunk{id: "data", data: le64(1)}))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVEfmt \xff\xff\xff\xff"))
	const limit = 4096
	f.Fuzz(func(t *testing.T, file []byte) {
		samples, rate, channels, err := Decode(bytes.NewReader(file), limit)
		if err != nil {
			if !errors.Is(err, ErrNotWAV) && !errors.Is(err, ErrUnsupported) &&
				!errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("undocumented error %v", err)
			}
			return
		}
		if len(samples)*2 > limit {
			t.Fatalf("%d samples over the limit of %d bytes", len(samples), limit)
		}
		if channels < 1 || channels > MaxChannels || rate < MinRate || rate > MaxRate {
			t.Fatalf("accepted %d channels at %d Hz", channels, rate)
		}
		if len(samples)%channels != 0 {
			t.Fatalf("%d samples are not whole frames of %d channels", len(samples), channels)
		}
		mono := ToSpeech(samples, rate, channels)
		if want := len(samples) / channels * 16000 / rate; len(mono) != want {
			t.Fatalf("ToSpeech gave %d samples, want %d", len(mono), want)
		}
	})
}
