// Package srtpseal encrypts outgoing RTP packets for the media server's fast
// egress path. It does only what a sender needs, for the three SRTP profiles
// the server's DTLS offers (RFC 7714 AES-GCM, RFC 3711 AES-CM with
// HMAC-SHA1-80): the caller knows each packet's header length, SSRC,
// sequence number and rollover counter, so nothing is parsed or looked up
// per packet, and the packet is sealed into the caller's buffer.
package srtpseal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // RFC 3711's authentication, not a choice
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
)

// Profile is an SRTP protection profile, numbered as in DTLS-SRTP (RFC 5764).
type Profile uint16

// The profiles a Sealer supports.
const (
	AES128CMHMACSHA1_80 Profile = 0x0001
	AEADAES128GCM       Profile = 0x0007
	AEADAES256GCM       Profile = 0x0008
)

// Key derivation labels (RFC 3711 §4.3.1).
const (
	labelEncryption = 0x00
	labelAuth       = 0x01
	labelSalt       = 0x02
)

const (
	hmacTagLen = 10 // HMAC-SHA1-80
	hmacKeyLen = 20
	cmSaltLen  = 14
	gcmSaltLen = 12
)

// ErrProfile is returned for a profile a Sealer does not implement.
var ErrProfile = errors.New("unsupported SRTP protection profile")

// Sealer encrypts the RTP packets of one sender's keys. It is not safe for
// concurrent use. What AES-GCM reads at every packet comes first, on one
// cache line: a server seals for many subscribers in turn, so their sealers
// are rarely in the processor's nearest caches.
type Sealer struct {
	gcm   cipher.AEAD // AES-GCM profiles
	salt  [16]byte
	gcmIV [gcmSaltLen]byte // in the Sealer, so that it does not escape per packet
	// AES-CM with HMAC-SHA1
	block  cipher.Block
	mac    hash.Hash
	macSum [sha1.Size]byte
	iv     [16]byte
}

// New derives the session keys from a master key and salt.
func New(profile Profile, masterKey, masterSalt []byte) (*Sealer, error) {
	s := &Sealer{}
	if err := s.Init(profile, masterKey, masterSalt); err != nil {
		return nil, err
	}
	return s, nil
}

// Init is New in place, for a Sealer inside its user's struct (where its
// user's per-packet state shares its cache lines). It replaces what s held;
// after an error, s must not be used.
func (s *Sealer) Init(profile Profile, masterKey, masterSalt []byte) error {
	*s = Sealer{}
	keyLen, saltLen := 16, gcmSaltLen
	switch profile {
	case AEADAES128GCM:
	case AEADAES256GCM:
		keyLen = 32
	case AES128CMHMACSHA1_80:
		saltLen = cmSaltLen
	default:
		return fmt.Errorf("%w %#04x", ErrProfile, uint16(profile))
	}
	if len(masterKey) != keyLen || len(masterSalt) != saltLen {
		return fmt.Errorf("SRTP master key of %d bytes and salt of %d: profile %#04x wants %d and %d",
			len(masterKey), len(masterSalt), uint16(profile), keyLen, saltLen)
	}
	master, err := aes.NewCipher(masterKey)
	if err != nil {
		return fmt.Errorf("SRTP master key: %w", err)
	}
	derive := func(label byte, n int) []byte {
		return deriveKey(master, masterSalt, label, n)
	}
	copy(s.salt[:], derive(labelSalt, saltLen))
	block, err := aes.NewCipher(derive(labelEncryption, keyLen))
	if err != nil {
		return fmt.Errorf("SRTP session key: %w", err)
	}
	if profile == AES128CMHMACSHA1_80 {
		s.block = block
		s.mac = hmac.New(sha1.New, derive(labelAuth, hmacKeyLen))
		return nil
	}
	if s.gcm, err = cipher.NewGCM(block); err != nil {
		return fmt.Errorf("SRTP AES-GCM: %w", err)
	}
	return nil
}

// deriveKey is the AES-CM key derivation function with a key derivation
// rate of zero (RFC 3711 §4.3.3): the keystream of the master key from the
// master salt with the label in its eighth byte.
func deriveKey(master cipher.Block, masterSalt []byte, label byte, n int) []byte {
	var in [16]byte
	copy(in[:], masterSalt)
	in[7] ^= label
	out := make([]byte, (n+15)/16*16)
	for i := 0; i*16 < n; i++ {
		binary.BigEndian.PutUint16(in[14:], uint16(i))
		master.Encrypt(out[i*16:], in[:])
	}
	return out[:n]
}

// Overhead is the most a sealed packet is longer than the plain one.
const Overhead = 16

// Seal appends to dst the SRTP packet of plain, whose first headerLen bytes
// are the RTP header (with its extensions), numbered roc<<16|seq for ssrc.
// dst and plain must not overlap.
func (s *Sealer) Seal(dst, plain []byte, headerLen int, ssrc, roc uint32, seq uint16) []byte {
	header, payload := plain[:headerLen], plain[headerLen:]
	dst = append(dst, header...)
	if s.gcm != nil {
		// RFC 7714 §8.1: 00 00 SSRC ROC SEQ, xor the salt.
		iv := &s.gcmIV
		iv[0], iv[1] = 0, 0
		binary.BigEndian.PutUint32(iv[2:], ssrc)
		binary.BigEndian.PutUint32(iv[6:], roc)
		binary.BigEndian.PutUint16(iv[10:], seq)
		for i := range iv {
			iv[i] ^= s.salt[i]
		}
		return s.gcm.Seal(dst, iv[:], payload, header)
	}
	// RFC 3711 §4.1.1: the counter is the salt xor SSRC and index, shifted
	// by 16 bits.
	s.iv = s.salt
	s.iv[14], s.iv[15] = 0, 0
	var index [12]byte
	binary.BigEndian.PutUint32(index[0:], ssrc)
	binary.BigEndian.PutUint32(index[4:], roc)
	binary.BigEndian.PutUint16(index[8:], seq)
	for i := range 10 {
		s.iv[4+i] ^= index[i]
	}
	start := len(dst)
	dst = append(dst, payload...)
	cipher.NewCTR(s.block, s.iv[:]).XORKeyStream(dst[start:], dst[start:])
	s.mac.Reset()
	s.mac.Write(dst[start-headerLen:])
	var rocBytes [4]byte
	binary.BigEndian.PutUint32(rocBytes[:], roc)
	s.mac.Write(rocBytes[:])
	return append(dst, s.mac.Sum(s.macSum[:0])[:hmacTagLen]...)
}
