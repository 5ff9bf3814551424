package sfu

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"

	"github.com/pion/dtls/v3"
	"github.com/pion/dtls/v3/pkg/crypto/prf"
	"github.com/pion/dtls/v3/pkg/protocol/extension"
	"github.com/pion/dtls/v3/pkg/protocol/handshake"
	"github.com/pion/srtp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/visio-meet/visio/internal/sfu/srtpseal"
	"github.com/visio-meet/visio/internal/sfu/udpout"
)

// The fast egress path sends subscribers' RTP without Pion's write stack:
// each subscriber connection encrypts with its own SRTP sealer, and the
// packets of one forwarding round leave in batches (udpout: sendmmsg, with a
// subscriber's share of the round as one GSO message). Pion keeps the rest
// (ICE, DTLS, RTCP). The keys come from the DTLS handshake of the subscribe
// connection, where the server is the DTLS server (browsers answer the
// server's offer with setup:active); when they cannot be had, or media goes
// over TCP, packets take Pion's path.

// mediaSocket is one of the engine's UDP sockets for media.
type mediaSocket struct {
	conn  *net.UDPConn
	out   *udpout.Sender
	local netip.AddrPort
	// announced lists the addresses clients know this socket by: its own,
	// or the public ones that replace it in candidates.
	announced []netip.Addr
}

// fastPath is where and how one subscriber's packets are sent directly.
// What sending a packet reads comes first, in one allocation: the fast path
// is touched once per packet for every subscriber in turn, and a pointer
// more would be a cache miss more.
type fastPath struct {
	socket *mediaSocket
	mu     sync.Mutex // guards sealer: the subscriber's tracks are forwarded on several goroutines
	sealer srtpseal.Sealer
	dest   udpout.Addr
}

// newFastPathTo returns the fast path to dest through socket with keys, or
// an error when the sealer cannot take the keys.
func newFastPathTo(socket *mediaSocket, dest netip.AddrPort, keys *srtpKeys) (*fastPath, error) {
	f := &fastPath{socket: socket, dest: udpout.NewAddr(dest)}
	if err := f.sealer.Init(srtpseal.Profile(keys.profile), keys.key, keys.salt); err != nil {
		return nil, err
	}
	return f, nil
}

// seal encrypts plain, whose header is headerLen bytes, into dst.
func (f *fastPath) seal(dst, plain []byte, headerLen int, ssrc, roc uint32, seq uint16) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sealer.Seal(dst, plain, headerLen, ssrc, roc, seq)
}

// srtpKeys are the server's sending keys on one connection. Each fast path
// of the connection (a new one follows each change of candidate pair) seals
// with a sealer of its own, which the connection's down tracks share: a
// context per down track would, with thousands of them, not keep its key
// schedule in the processor's caches.
type srtpKeys struct {
	key, salt []byte
	profile   srtp.ProtectionProfile
}

// dtlsSecrets collects, from one connection's DTLS handshake, what the SRTP
// key exporter needs: the randoms, the master secret, the cipher suite and
// the SRTP profile. Pion hands the master secret to a key-log writer; it
// stays in memory, like the keys Pion derives from it.
type dtlsSecrets struct {
	mu           sync.Mutex
	clientRandom []byte
	masterSecret []byte
	serverRandom []byte
	cipherSuite  dtls.CipherSuiteID
	profile      srtp.ProtectionProfile
}

// Write receives key-log lines: "CLIENT_RANDOM <hex> <hex>".
func (s *dtlsSecrets) Write(p []byte) (int, error) {
	fields := bytes.Fields(p)
	if len(fields) == 3 && string(fields[0]) == "CLIENT_RANDOM" {
		random, err1 := hex.DecodeString(string(fields[1]))
		secret, err2 := hex.DecodeString(string(fields[2]))
		if err1 == nil && err2 == nil {
			s.mu.Lock()
			s.clientRandom, s.masterSecret = random, secret
			s.mu.Unlock()
		}
	}
	return len(p), nil
}

// onServerHello records the server's random, cipher suite and SRTP profile,
// and sends the message unchanged.
func (s *dtlsSecrets) onServerHello(m handshake.MessageServerHello) handshake.Message {
	random := m.Random.MarshalFixed()
	s.mu.Lock()
	s.serverRandom = random[:]
	if m.CipherSuiteID != nil {
		s.cipherSuite = dtls.CipherSuiteID(*m.CipherSuiteID)
	}
	for _, ext := range m.Extensions {
		if useSRTP, ok := ext.(*extension.UseSRTP); ok && len(useSRTP.ProtectionProfiles) == 1 {
			s.profile = srtp.ProtectionProfile(useSRTP.ProtectionProfiles[0])
		}
	}
	s.mu.Unlock()
	return &m
}

var errNoSecrets = errors.New("the DTLS handshake did not yield SRTP keys (the server was not the DTLS server)")

// serverKeys derives the keys the DTLS server sends with (RFC 5764 §4.2).
func (s *dtlsSecrets) serverKeys() (*srtpKeys, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.masterSecret == nil || s.serverRandom == nil || s.profile == 0 {
		return nil, errNoSecrets
	}
	cfg := srtp.Config{Profile: s.profile}
	if err := cfg.ExtractSessionKeysFromDTLS(s, false); err != nil {
		return nil, fmt.Errorf("derive SRTP keys: %w", err)
	}
	return &srtpKeys{key: cfg.Keys.LocalMasterKey, salt: cfg.Keys.LocalMasterSalt, profile: s.profile}, nil
}

// ExportKeyingMaterial is the TLS 1.2 exporter (RFC 5705) without context,
// as Pion's DTLS computes it. It is called with s.mu held.
func (s *dtlsSecrets) ExportKeyingMaterial(label string, context []byte, length int) ([]byte, error) {
	if len(context) != 0 {
		return nil, errors.New("exporter context is not supported")
	}
	hash := prf.HashFunc(sha256.New)
	switch s.cipherSuite {
	case dtls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, dtls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384:
		hash = sha512.New384
	}
	seed := append(append([]byte(label), s.clientRandom...), s.serverRandom...)
	return prf.PHash(s.masterSecret, seed, length, hash)
}

// findSocket returns the media socket behind a local candidate.
func (e *Engine) findSocket(c *webrtc.ICECandidate) *mediaSocket {
	if c == nil || c.Protocol != webrtc.ICEProtocolUDP {
		return nil
	}
	ip, err := netip.ParseAddr(c.Address)
	if err != nil {
		return nil
	}
	for _, s := range e.sockets {
		if int(s.local.Port()) != int(c.Port) {
			continue
		}
		for _, a := range s.announced {
			if a == ip.Unmap() {
				return s
			}
		}
	}
	return nil
}

// newFastPath prepares direct sending on the selected candidate pair, or
// returns nil when packets must take Pion's path.
func (e *Engine) newFastPath(pair *webrtc.ICECandidatePair, keys *srtpKeys) *fastPath {
	if pair == nil || keys == nil {
		return nil
	}
	socket := e.findSocket(pair.Local)
	if socket == nil || pair.Remote == nil {
		return nil
	}
	remote, err := netip.ParseAddr(pair.Remote.Address)
	if err != nil {
		return nil
	}
	f, err := newFastPathTo(socket, netip.AddrPortFrom(remote, pair.Remote.Port), keys)
	if err != nil {
		e.log.Debug("packets take Pion's path", "reason", err) // a profile the sealer lacks
		return nil
	}
	return f
}

// sendBatch gathers the packets of one forwarding round, a queue per
// socket. It belongs to one goroutine at a time.
type sendBatch struct {
	queues []*udpout.Queue
}

// queue returns the queue for socket.
func (b *sendBatch) queue(socket *mediaSocket) *udpout.Queue {
	for _, q := range b.queues {
		if q.Sender() == socket.out {
			return q
		}
	}
	q := udpout.NewQueue(socket.out)
	b.queues = append(b.queues, q)
	return q
}

func (b *sendBatch) flush() {
	for _, q := range b.queues {
		q.Flush()
	}
}

// sendBatches keeps the batches of finished rounds for the next ones: a
// batch holds up to a megabyte and a half of buffers, so there are as many
// as rounds run at once, not one per layer.
type sendBatches struct {
	free chan *sendBatch
}

func newSendBatches() sendBatches { return sendBatches{free: make(chan *sendBatch, 8)} }

func (s sendBatches) get() *sendBatch {
	select {
	case b := <-s.free:
		return b
	default:
		return &sendBatch{}
	}
}

func (s sendBatches) put(b *sendBatch) {
	select {
	case s.free <- b:
	default: // more rounds ran at once than are kept
	}
}
