// Package rtpparse reads the fields an SFU needs from an RTP packet without
// copying or allocating: the fixed header, the payload bounds and RFC 8285
// header extensions.
package rtpparse

import (
	"encoding/binary"
	"errors"
)

// Errors for malformed packets; the caller drops the packet.
var (
	ErrShort     = errors.New("rtp: packet shorter than its header")
	ErrVersion   = errors.New("rtp: not version 2")
	ErrPadding   = errors.New("rtp: padding longer than the payload")
	ErrExtension = errors.New("rtp: header extension overruns the packet")
)

const fixedHeaderLen = 12

// Header holds the fields of one parsed packet. Offsets index the buffer that
// was parsed, so a Header is only meaningful next to that buffer.
type Header struct {
	Marker      bool
	PayloadType uint8
	Seq         uint16
	Timestamp   uint32
	SSRC        uint32

	PayloadStart int // first payload byte
	PayloadEnd   int // one past the last payload byte, padding excluded

	extProfile uint16
	extStart   int // first byte of the extension elements
	extEnd     int
}

// Parse fills h from buf. It checks every length so that no later access
// through h can read past buf.
func Parse(buf []byte, h *Header) error {
	if len(buf) < fixedHeaderLen {
		return ErrShort
	}
	if buf[0]>>6 != 2 {
		return ErrVersion
	}
	padding := buf[0]&0x20 != 0
	extension := buf[0]&0x10 != 0
	csrcCount := int(buf[0] & 0x0f)

	h.Marker = buf[1]&0x80 != 0
	h.PayloadType = buf[1] & 0x7f
	h.Seq = binary.BigEndian.Uint16(buf[2:])
	h.Timestamp = binary.BigEndian.Uint32(buf[4:])
	h.SSRC = binary.BigEndian.Uint32(buf[8:])
	h.extProfile, h.extStart, h.extEnd = 0, 0, 0

	offset := fixedHeaderLen + 4*csrcCount
	if len(buf) < offset {
		return ErrShort
	}
	if extension {
		if len(buf) < offset+4 {
			return ErrExtension
		}
		h.extProfile = binary.BigEndian.Uint16(buf[offset:])
		words := int(binary.BigEndian.Uint16(buf[offset+2:]))
		h.extStart = offset + 4
		h.extEnd = h.extStart + 4*words
		if len(buf) < h.extEnd {
			return ErrExtension
		}
		offset = h.extEnd
	}
	end := len(buf)
	if padding {
		if end == offset {
			return ErrPadding
		}
		pad := int(buf[end-1])
		if pad == 0 || end-offset < pad {
			return ErrPadding
		}
		end -= pad
	}
	h.PayloadStart, h.PayloadEnd = offset, end
	return nil
}

// Extension returns the payload of the header extension element with the
// given id, for both the one-byte and the two-byte forms of RFC 8285.
func (h *Header) Extension(buf []byte, id uint8) ([]byte, bool) {
	if id == 0 || h.extEnd == 0 || h.extEnd > len(buf) {
		return nil, false
	}
	b := buf[h.extStart:h.extEnd]
	switch {
	case h.extProfile == 0xBEDE:
		for i := 0; i < len(b); {
			if b[i] == 0 { // padding byte
				i++
				continue
			}
			elemID, length := b[i]>>4, int(b[i]&0x0f)+1
			if elemID == 15 { // reserved: stop parsing (RFC 8285 §4.2)
				return nil, false
			}
			i++
			if i+length > len(b) {
				return nil, false
			}
			if elemID == id {
				return b[i : i+length], true
			}
			i += length
		}
	case h.extProfile&0xFFF0 == 0x1000:
		for i := 0; i < len(b); {
			if b[i] == 0 {
				i++
				continue
			}
			if i+2 > len(b) {
				return nil, false
			}
			elemID, length := b[i], int(b[i+1])
			i += 2
			if i+length > len(b) {
				return nil, false
			}
			if elemID == id {
				return b[i : i+length], true
			}
			i += length
		}
	}
	return nil, false
}

// AudioLevel decodes the RFC 6464 client-to-mixer audio level: the level in
// -dBov (0 is loudest, 127 is silence) and the voice-activity flag.
func AudioLevel(ext []byte) (level uint8, voice bool, ok bool) {
	if len(ext) < 1 {
		return 0, false, false
	}
	return ext[0] & 0x7f, ext[0]&0x80 != 0, true
}
