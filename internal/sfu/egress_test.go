package sfu

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/dtls/v3/pkg/crypto/selfsign"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"

	"github.com/visio-meet/visio/internal/sfu/rtpparse"
	"github.com/visio-meet/visio/internal/sfu/udpout"
)

// The keys derived from the captured handshake secrets must be the ones the
// DTLS client (the browser) expects the server to send with.
func TestDTLSSecretsYieldTheServerKeys(t *testing.T) {
	for _, suite := range []dtls.CipherSuiteID{dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, dtls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384} {
		for _, profile := range []dtls.SRTPProtectionProfile{dtls.SRTP_AEAD_AES_128_GCM, dtls.SRTP_AES128_CM_HMAC_SHA1_80} {
			client, secrets := dtlsHandshake(t, suite, profile)
			state, ok := client.ConnectionState()
			if !ok {
				t.Fatal("no client state")
			}
			want := srtp.Config{Profile: srtp.ProtectionProfile(profile)}
			if err := want.ExtractSessionKeysFromDTLS(&state, true); err != nil {
				t.Fatal(err)
			}
			got, err := secrets.serverKeys()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.key, want.Keys.RemoteMasterKey) || !bytes.Equal(got.salt, want.Keys.RemoteMasterSalt) ||
				got.profile != srtp.ProtectionProfile(profile) {
				t.Fatalf("suite %v profile %v: derived keys differ from the client's", suite, profile)
			}
		}
	}
}

func dtlsHandshake(t *testing.T, suite dtls.CipherSuiteID, profile dtls.SRTPProtectionProfile) (*dtls.Conn, *dtlsSecrets) {
	t.Helper()
	cert, err := selfsign.GenerateSelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	serverSock, _ := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	clientSock, _ := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	t.Cleanup(func() { serverSock.Close(); clientSock.Close() })
	secrets := &dtlsSecrets{}
	shared := []dtls.Option{dtls.WithCertificates(cert), dtls.WithInsecureSkipVerify(true),
		dtls.WithCipherSuites(suite), dtls.WithSRTPProtectionProfiles(profile),
		dtls.WithExtendedMasterSecret(dtls.RequireExtendedMasterSecret)}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		server, err := dtls.ServerWithOptions(serverSock, clientSock.LocalAddr(),
			append([]dtls.ServerOption{dtls.WithKeyLogWriter(secrets), dtls.WithServerHelloMessageHook(secrets.onServerHello)}, asServerOptions(shared)...)...)
		if err == nil {
			err = server.HandshakeContext(ctx)
			t.Cleanup(func() { server.Close() })
		}
		done <- err
	}()
	client, err := dtls.ClientWithOptions(clientSock, serverSock.LocalAddr(), asClientOptions(shared)...)
	if err != nil {
		t.Fatal(err)
	}
	if err := client.HandshakeContext(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return client, secrets
}

func asServerOptions(opts []dtls.Option) []dtls.ServerOption {
	out := make([]dtls.ServerOption, len(opts))
	for i, o := range opts {
		out[i] = o
	}
	return out
}

func asClientOptions(opts []dtls.Option) []dtls.ClientOption {
	out := make([]dtls.ClientOption, len(opts))
	for i, o := range opts {
		out[i] = o
	}
	return out
}

// fastFixture is a down track bound to a real socket on the fast path, and
// the subscriber's socket with the SRTP context that decrypts what it gets.
func fastFixture(t testing.TB) (*UpTrack, *DownTrack, *net.UDPConn, *srtp.Context) {
	t.Helper()
	up, d, _ := fixture(t)
	send, _ := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	t.Cleanup(func() { send.Close() })
	recv, remote := makeFast(t, d, &mediaSocket{conn: send, out: udpout.NewSender(send, nil)})
	return up, d, recv, remote
}

// makeFast puts d's subscriber on the fast path through socket, with keys of
// its own, and returns its socket and the context that decrypts for it.
func makeFast(t testing.TB, d *DownTrack, socket *mediaSocket) (*net.UDPConn, *srtp.Context) {
	t.Helper()
	d.binding.Store(&binding{ssrc: 555, payloadType: 96, writer: discardWriter{}})
	recv, _ := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	t.Cleanup(func() { recv.Close() })
	key, salt := make([]byte, 16), make([]byte, 12)
	_, _ = rand.Read(key)
	_, _ = rand.Read(salt)
	keys := &srtpKeys{key: key, salt: salt, profile: srtp.ProtectionProfileAeadAes128Gcm}
	f, err := newFastPathTo(socket, recv.LocalAddr().(*net.UDPAddr).AddrPort(), keys)
	if err != nil {
		t.Fatal(err)
	}
	d.subscriber.fast.Store(f)
	remote, err := srtp.CreateContext(key, salt, keys.profile)
	if err != nil {
		t.Fatal(err)
	}
	return recv, remote
}

// addSubscriber adds a second subscriber to up, forwarding its low layer.
func addSubscriber(up *UpTrack, id PeerID) *DownTrack {
	p := up.owner.engine.NewPeer(id, ignoreEvents{})
	p.subConnected.Store(true)
	d := newDownTrack(up, p)
	d.want.Store(int32(LayerHigh))
	d.target.Store(int32(LayerLow))
	d.current = LayerLow
	d.history[0] = segment{valid: true, layer: LayerLow}
	up.addDown(d)
	return d
}

// A round of packets that arrived together (a video frame) reaches every
// subscriber whole and in order, each one's share sent as one run.
func TestARoundReachesEverySubscriberInOrder(t *testing.T) {
	up, first, recv1, remote1 := fastFixture(t)
	socket := first.subscriber.fast.Load().socket
	second := addSubscriber(up, "second")
	recv2, remote2 := makeFast(t, second, socket)
	frame := make([][]byte, 12)
	for i := range frame {
		size := 1000
		if i == len(frame)-1 {
			size = 400 // the frame's end
		}
		payload := bytes.Repeat([]byte{byte(i)}, size)
		frame[i] = publisherPacket(t, uint16(40+i), payload)
	}
	receiveRound(t, low(up), frame...)
	for s, sub := range []struct {
		recv   *net.UDPConn
		remote *srtp.Context
	}{{recv1, remote1}, {recv2, remote2}} {
		for i := range frame {
			h, plain, _ := receiveSealed(t, sub.recv, sub.remote)
			var parsed rtpparse.Header
			if err := rtpparse.Parse(plain, &parsed); err != nil {
				t.Fatal(err)
			}
			payload := plain[parsed.PayloadStart:parsed.PayloadEnd]
			if h.SequenceNumber != uint16(40+i) || !bytes.Equal(payload, frame[i][len(frame[i])-len(payload):]) || payload[0] != byte(i) {
				t.Fatalf("subscriber %d, packet %d: got seq %d with %d bytes of payload", s+1, i, h.SequenceNumber, len(payload))
			}
		}
	}
	if socket.out.GSO() {
		t.Log("the kernel segments runs (GSO)")
	}
}

// receiveSealed reads one packet on the subscriber's socket and decrypts it.
func receiveSealed(t *testing.T, recv *net.UDPConn, remote *srtp.Context) (rtp.Header, []byte, int) {
	t.Helper()
	buf := make([]byte, 1600)
	_ = recv.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, err := recv.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	var h rtp.Header
	plain, err := remote.DecryptRTP(nil, buf[:n], &h)
	if err != nil {
		t.Fatalf("the subscriber cannot decrypt: %v", err)
	}
	return h, plain, n
}

func TestFastPathSendsWhatTheSubscriberCanDecrypt(t *testing.T) {
	up, d, recv, remote := fastFixture(t)
	d.history[0].start = 65534 // where this track's numbers begin
	payload := []byte("frame data shared by every subscriber")
	// Sequence numbers that wrap: the rollover counter must follow.
	for _, seq := range []uint16{65534, 65535, 0, 1} {
		receive(t, up, publisherPacket(t, seq, payload))
		h, plain, _ := receiveSealed(t, recv, remote)
		var parsed rtpparse.Header
		if err := rtpparse.Parse(plain, &parsed); err != nil {
			t.Fatal(err)
		}
		if h.SSRC != 555 || h.PayloadType != 96 || h.SequenceNumber != seq || len(h.Extensions) != 0 ||
			!bytes.Equal(plain[parsed.PayloadStart:parsed.PayloadEnd], payload) {
			t.Fatalf("seq %d: got header %+v payload %q", seq, h, plain[parsed.PayloadStart:parsed.PayloadEnd])
		}
	}
	if d.Stats().PacketsSent != 4 {
		t.Fatalf("packets sent = %d", d.Stats().PacketsSent)
	}
	// A retransmission from before the wrap is sealed with the rollover
	// counter it was first sent with: the subscriber decrypts it.
	d.resend(d.binding.Load(), 65535)
	if h, _, _ := receiveSealed(t, recv, remote); h.SequenceNumber != 65535 {
		t.Fatalf("retransmitted seq %d", h.SequenceNumber)
	}
}

func TestFastPathDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items, so allocations are not meaningful")
	}
	up, _, recv, _ := fastFixture(t)
	go func() { // drain
		buf := make([]byte, 1600)
		for {
			if _, err := recv.Read(buf); err != nil {
				return
			}
		}
	}()
	// Rounds of four packets, through the forwarder's path.
	l := low(up)
	round := make([]*inPacket, 4)
	for i := range round {
		round[i] = &inPacket{}
	}
	seq := uint16(1)
	forward := func() {
		for _, p := range round {
			p.n = copy(p.buf[:], publisherPacket(t, seq, make([]byte, 1000)))
			seq++
			l.accept(p)
		}
		l.forwardRound(round)
	}
	forward() // creates the batch and its buffers
	// publisherPacket allocates: rewrite the sequence numbers in place.
	allocs := testing.AllocsPerRun(1000, func() {
		for _, p := range round {
			binary.BigEndian.PutUint16(p.buf[2:], seq)
			seq++
			l.accept(p)
		}
		l.forwardRound(round)
	})
	if allocs != 0 {
		t.Fatalf("the fast path allocates %v times per round", allocs)
	}
}

func BenchmarkFastPathSeal(b *testing.B) {
	_, d, _, _ := fastFixture(b)
	pkt := publisherPacket(b, 1, make([]byte, 1100))
	var h rtpparse.Header
	_ = rtpparse.Parse(pkt, &h)
	bind, f := d.binding.Load(), d.subscriber.fast.Load()
	dst := make([]byte, 0, udpout.MaxDatagram)
	for b.Loop() {
		d.seal(dst, f, bind, h.Seq, h.Timestamp, 0, &h, pkt)
	}
}

func TestPacketsCarryTheTransportWideSequenceNumber(t *testing.T) {
	up, d, recv, remote := fastFixture(t)
	d.binding.Store(&binding{ssrc: 555, payloadType: 96, transportCC: 5, writer: discardWriter{}})
	bare := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 100, SequenceNumber: 3, SSRC: 1234}, Payload: []byte("no room before me")}
	short, err := bare.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	// The first packet has room for the header before its payload; the
	// second, with no extension of its own, has not.
	for i, pkt := range [][]byte{publisherPacket(t, 2, []byte("room before me")), short} {
		receive(t, up, pkt)
		h, plain, n := receiveSealed(t, recv, remote)
		ext := h.GetExtension(5)
		if len(ext) != 2 || binary.BigEndian.Uint16(ext) != uint16(i+1) || !bytes.HasSuffix(plain, pkt[len(pkt)-10:]) {
			t.Fatalf("packet %d: transport-wide number %v in %+v", i, ext, h)
		}
		if _, size, ok := d.subscriber.sent.Lookup(uint16(i + 1)); !ok || size < n {
			t.Fatalf("packet %d is not in the send history (size %d)", i, size)
		}
	}
}
