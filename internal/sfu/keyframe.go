package sfu

import (
	"strings"

	"github.com/pion/webrtc/v4"
)

// keyframeDetector returns the function that tells, from an RTP payload of
// the codec, whether the packet starts a keyframe: where a subscriber can
// start decoding, and so where the server may switch it to another layer.
func keyframeDetector(mimeType string) func([]byte) bool {
	switch {
	case strings.EqualFold(mimeType, webrtc.MimeTypeVP8):
		return vp8KeyframeStart
	case strings.EqualFold(mimeType, webrtc.MimeTypeH264):
		return h264KeyframeStart
	}
	return func([]byte) bool { return false }
}

// vp8KeyframeStart reads the VP8 payload descriptor (RFC 7741 §4.2) and the
// first byte of the VP8 frame header (RFC 6386 §9.1).
func vp8KeyframeStart(p []byte) bool {
	if len(p) < 1 {
		return false
	}
	start, partition := p[0]&0x10 != 0, p[0]&0x07
	if !start || partition != 0 {
		return false
	}
	i := 1
	if p[0]&0x80 != 0 { // X: extension byte
		if len(p) < 2 {
			return false
		}
		x := p[1]
		i = 2
		if x&0x80 != 0 { // I: picture id, 7 or 15 bits
			if len(p) <= i {
				return false
			}
			if p[i]&0x80 != 0 {
				i += 2
			} else {
				i++
			}
		}
		if x&0x40 != 0 { // L: TL0PICIDX
			i++
		}
		if x&0x30 != 0 { // T or K: TID/KEYIDX
			i++
		}
	}
	return len(p) > i && p[i]&0x01 == 0 // P bit clear: a keyframe
}

// H.264 NAL unit types (RFC 6184).
const (
	h264IDR   = 5
	h264SPS   = 7
	h264STAPA = 24
	h264FUA   = 28
)

func h264KeyframeStart(p []byte) bool {
	if len(p) < 1 {
		return false
	}
	switch nal := p[0] & 0x1f; nal {
	case h264IDR, h264SPS:
		return true
	case h264STAPA:
		for i := 1; i+2 < len(p); {
			size := int(p[i])<<8 | int(p[i+1])
			i += 2
			if size == 0 || i+size > len(p) {
				return false
			}
			if t := p[i] & 0x1f; t == h264IDR || t == h264SPS {
				return true
			}
			i += size
		}
	case h264FUA:
		if len(p) < 2 {
			return false
		}
		start, t := p[1]&0x80 != 0, p[1]&0x1f
		return start && (t == h264IDR || t == h264SPS)
	}
	return false
}
