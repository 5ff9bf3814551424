package sfu

import (
	"testing"

	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
)

func TestVP8Keyframes(t *testing.T) {
	cases := map[string]struct {
		p    []byte
		want bool
	}{
		"keyframe, short descriptor":       {[]byte{0x10, 0x00, 0x00, 0x00, 0x9d, 0x01, 0x2a}, true},
		"interframe":                       {[]byte{0x10, 0x01, 0x00}, false},
		"continuation of a keyframe":       {[]byte{0x00, 0x00}, false},
		"keyframe, 15-bit picture id":      {[]byte{0x90, 0x80, 0x81, 0x23, 0x00, 0x00}, true},
		"keyframe, picture id, tl0, tid":   {[]byte{0x90, 0xe0, 0x05, 0x11, 0x22, 0x00}, true},
		"interframe, picture id, tl0, tid": {[]byte{0x90, 0xe0, 0x05, 0x11, 0x22, 0x01}, false},
		"second partition":                 {[]byte{0x11, 0x00}, false},
		"truncated descriptor":             {[]byte{0x90, 0x80}, false},
		"empty":                            {nil, false},
	}
	for name, c := range cases {
		if got := vp8KeyframeStart(c.p); got != c.want {
			t.Errorf("%s: got %v", name, got)
		}
	}
	// What Pion's VP8 payloader produces for a keyframe and a delta frame.
	pay := &codecs.VP8Payloader{EnablePictureID: true}
	key := pay.Payload(1200, append([]byte{0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a}, make([]byte, 3000)...))
	delta := pay.Payload(1200, append([]byte{0x11, 0x02, 0x00}, make([]byte, 3000)...))
	if !vp8KeyframeStart(key[0]) || vp8KeyframeStart(key[1]) || vp8KeyframeStart(delta[0]) {
		t.Fatal("misread Pion's VP8 packets")
	}
}

func TestH264Keyframes(t *testing.T) {
	cases := map[string]struct {
		p    []byte
		want bool
	}{
		"IDR":                     {[]byte{0x65, 0x88}, true},
		"SPS":                     {[]byte{0x67, 0x42}, true},
		"non-IDR slice":           {[]byte{0x41, 0x9a}, false},
		"STAP-A with SPS and PPS": {[]byte{0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce}, true},
		"STAP-A without":          {[]byte{0x78, 0x00, 0x02, 0x06, 0x05}, false},
		"STAP-A overrun":          {[]byte{0x78, 0x00, 0x09, 0x67}, false},
		"FU-A start of IDR":       {[]byte{0x7c, 0x85, 0x00}, true},
		"FU-A middle of IDR":      {[]byte{0x7c, 0x05, 0x00}, false},
		"FU-A start of slice":     {[]byte{0x7c, 0x81, 0x00}, false},
	}
	for name, c := range cases {
		if got := h264KeyframeStart(c.p); got != c.want {
			t.Errorf("%s: got %v", name, got)
		}
	}
}

func FuzzKeyframeDetectors(f *testing.F) {
	f.Add([]byte{0x90, 0xe0, 0x05, 0x11, 0x22, 0x00})
	f.Add([]byte{0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce})
	f.Add([]byte{0x7c, 0x85})
	f.Fuzz(func(t *testing.T, p []byte) {
		for _, mime := range []string{webrtc.MimeTypeVP8, webrtc.MimeTypeH264, webrtc.MimeTypeOpus} {
			keyframeDetector(mime)(p)
		}
	})
}
