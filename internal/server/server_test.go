package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"

	"github.com/visio-meet/visio/internal/client"
	"github.com/visio-meet/visio/internal/config"
	"github.com/visio-meet/visio/internal/protocol"
	"github.com/visio-meet/visio/internal/room"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const (
	mic    = protocol.SourceMicrophone
	camera = protocol.SourceCamera
	screen = protocol.SourceScreen
)

type testServer struct {
	*Server
	url string
}

// startServer runs a real server on free loopback ports with short ICE
// timeouts, and shuts it down at the end of the test.
func startServer(t testing.TB, change ...func(*config.Config, *Options)) *testServer {
	t.Helper()
	return startServerLogging(t, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), change...)
}

// startServerLogging is startServer with the server's log going to log.
func startServerLogging(t testing.TB, log *slog.Logger, change ...func(*config.Config, *Options)) *testServer {
	t.Helper()
	cfg := config.Default()
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.Media.UDPPort = 0
	cfg.Media.TCPPort = 0
	cfg.TURN.UDPPort, cfg.TURN.TCPPort, cfg.TURN.TLSPort = 0, 0, 0 // tests that need TURN pick free ports
	cfg.Media.ICEDisconnectedTimeout = time.Second
	cfg.Media.ICEFailedTimeout = 2 * time.Second
	cfg.Database.URL = "sqlite:" + filepath.Join(t.TempDir(), "visio.db")
	cfg.Rooms.AllowUnregistered = true // media tests meet at any code; the access tests create their rooms
	opts := Options{ICEKeepalive: 300 * time.Millisecond}
	opts.Meeting.ReconnectGrace = 500 * time.Millisecond // tests of resumption set more
	for _, f := range change {
		f(cfg, &opts)
	}
	srv, err := Start(cfg, opts, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return &testServer{Server: srv, url: "http://" + srv.Addr()}
}

func (s *testServer) join(t *testing.T, ctx context.Context, code room.Code, name string, sources ...protocol.Source) *client.Client {
	t.Helper()
	return s.joinWith(t, ctx, client.Options{Room: string(code), Name: name}, sources...)
}

// joinWith joins with options; their URL is the server's.
func (s *testServer) joinWith(t testing.TB, ctx context.Context, opts client.Options, sources ...protocol.Source) *client.Client {
	t.Helper()
	name := opts.Name
	opts.URL = s.url
	c, err := client.Join(ctx, opts)
	if err != nil {
		t.Fatalf("%s cannot join: %v", name, err)
	}
	t.Cleanup(c.Kill)
	if len(sources) > 0 {
		if err := c.Publish(ctx, sources...); err != nil {
			t.Fatalf("%s cannot publish: %v", name, err)
		}
	}
	return c
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// receiving waits until c has received at least n packets of each source of
// the participant from.
func receiving(t *testing.T, ctx context.Context, c *client.Client, from *client.Client, n int, sources ...protocol.Source) {
	t.Helper()
	id := from.ID()
	err := c.WaitFor(ctx, func(s client.State) bool {
		for _, src := range sources {
			if s.Received[client.TrackKey{Participant: id, Source: src}].Packets < n {
				return false
			}
		}
		return true
	})
	if err != nil {
		t.Fatalf("no %v from %s: %v; received %+v", sources, id, err, c.State().Received)
	}
}

func packets(c *client.Client, from *client.Client, src protocol.Source) int {
	return c.State().Received[client.TrackKey{Participant: from.ID(), Source: src}].Packets
}

func TestTwoParticipantsReceiveEachOther(t *testing.T) {
	srv := startServer(t)
	ctx := testContext(t)
	code := room.NewCode()
	alice := srv.join(t, ctx, code, "Alice", mic, camera)
	bob := srv.join(t, ctx, code, "Bob", mic, camera)

	receiving(t, ctx, alice, bob, 50, mic, camera)
	receiving(t, ctx, bob, alice, 50, mic, camera)

	st := bob.State()
	if p, ok := st.Others[alice.ID()]; !ok || p.Name != "Alice" || len(p.Tracks) != 2 {
		t.Fatalf("Bob's view of Alice: %+v", st.Others)
	}
	for _, key := range []client.TrackKey{{Participant: alice.ID(), Source: camera}, {Participant: bob.ID(), Source: camera}} {
		receiver := bob
		if key.Participant == bob.ID() {
			receiver = alice
		}
		if r := receiver.State().Received[key]; r.Keyframes == 0 {
			t.Errorf("%v: no keyframe received, the picture would never appear", key)
		}
	}
	if m := srv.Meetings().Meeting(code); m == nil || len(m.Participants()) != 2 {
		t.Fatal("the server does not hold one meeting of two")
	}

	// RTCP: the subscriber gets sender reports (for lip sync), the publisher
	// gets receiver reports (for its bandwidth estimate).
	key := client.TrackKey{Participant: alice.ID(), Source: camera}
	if err := bob.WaitFor(ctx, func(s client.State) bool { return s.Received[key].SenderReports > 0 }); err != nil {
		t.Fatal("Bob got no RTCP sender report for Alice's camera")
	}
	waitUntil(t, func() bool { return alice.ReceiverReports(camera) > 0 }, "Alice got no RTCP receiver report for her camera")
}

func TestLostPacketsAreRetransmitted(t *testing.T) {
	srv := startServer(t)
	ctx := testContext(t)
	code := room.NewCode()
	alice := srv.join(t, ctx, code, "Alice", camera)
	bob := srv.join(t, ctx, code, "Bob")
	bob.DropIncoming(10) // a 10% loss on Bob's downlink
	receiving(t, ctx, bob, alice, 200, camera)
	time.Sleep(time.Second) // let the last retransmissions land
	got := bob.State().Received[client.TrackKey{Participant: alice.ID(), Source: camera}]
	if got.Missing > 2 {
		t.Fatalf("%d of %d packets never arrived: lost packets were not retransmitted", got.Missing, got.Packets)
	}
}

func TestICETCPFallbackWhenUDPIsBlocked(t *testing.T) {
	srv := startServer(t, func(c *config.Config, _ *Options) { c.Media.TCPPort = freeTCPPort(t) })
	ctx := testContext(t)
	code := room.NewCode()
	alice := srv.join(t, ctx, code, "Alice", mic, camera)
	bob, err := client.Join(ctx, client.Options{URL: srv.url, Room: string(code), Name: "Bob behind a firewall", TCPOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bob.Kill)
	if err := bob.Publish(ctx, mic, camera); err != nil {
		t.Fatal(err)
	}
	receiving(t, ctx, bob, alice, 30, mic, camera)
	receiving(t, ctx, alice, bob, 30, mic, camera)
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestMuteIsSeenByOthers(t *testing.T) {
	srv := startServer(t)
	ctx := testContext(t)
	code := room.NewCode()
	alice := srv.join(t, ctx, code, "Alice", mic, camera)
	bob := srv.join(t, ctx, code, "Bob")
	receiving(t, ctx, bob, alice, 10, mic)

	trackMuted := func(src protocol.Source, muted bool) func(client.State) bool {
		return func(s client.State) bool {
			for _, tr := range s.Others[alice.ID()].Tracks {
				if tr.Source == src {
					return tr.Muted == muted
				}
			}
			return false
		}
	}
	if err := alice.SetMuted(ctx, mic, true); err != nil {
		t.Fatal(err)
	}
	if err := bob.WaitFor(ctx, trackMuted(mic, true)); err != nil {
		t.Fatalf("Bob does not see Alice's microphone muted: %v", err)
	}
	if err := alice.SetMuted(ctx, camera, true); err != nil {
		t.Fatal(err)
	}
	if err := bob.WaitFor(ctx, trackMuted(camera, true)); err != nil {
		t.Fatalf("Bob does not see Alice's camera off: %v", err)
	}
	if err := alice.SetMuted(ctx, mic, false); err != nil {
		t.Fatal(err)
	}
	if err := bob.WaitFor(ctx, trackMuted(mic, false)); err != nil {
		t.Fatalf("Bob does not see Alice unmuted: %v", err)
	}
	// Someone joining now learns the state in the welcome.
	carol := srv.join(t, ctx, code, "Carol")
	if !trackMuted(camera, true)(carol.State()) {
		t.Fatalf("Carol does not learn that Alice's camera is off: %+v", carol.State().Others[alice.ID()])
	}
}

func TestLeaveKillAndMediaFailureAreSeen(t *testing.T) {
	srv := startServer(t)
	ctx := testContext(t)
	code := room.NewCode()
	observer := srv.join(t, ctx, code, "Observer", mic)
	leaver := srv.join(t, ctx, code, "Leaver", mic, camera)
	killed := srv.join(t, ctx, code, "Killed", mic, camera)
	failing := srv.join(t, ctx, code, "Failing", mic, camera)
	for _, c := range []*client.Client{leaver, killed, failing} {
		receiving(t, ctx, observer, c, 20, mic, camera)
	}
	gone := func(c *client.Client) func(client.State) bool {
		id := c.ID()
		return func(s client.State) bool { _, here := s.Others[id]; return !here }
	}

	if err := leaver.Leave(ctx); err != nil {
		t.Fatalf("leave: %v", err)
	}
	if err := observer.WaitFor(ctx, gone(leaver)); err != nil {
		t.Fatal("a participant who left is still listed")
	}

	killed.Kill()
	if err := observer.WaitFor(ctx, gone(killed)); err != nil {
		t.Fatal("a killed client is still listed")
	}

	failing.BlockMedia(true)
	if err := observer.WaitFor(ctx, gone(failing)); err != nil {
		t.Fatal("a client whose media connection failed is still listed")
	}
	if err := failing.WaitFor(ctx, func(s client.State) bool { return s.Closed }); err != nil {
		t.Fatal("the server did not close the failed client's session")
	}
	if got := failing.State().Bye; got != protocol.ReasonConnectionFailed {
		t.Errorf("the failed client was told %q, want %q", got, protocol.ReasonConnectionFailed)
	}

	// Nothing of the three remains on the server.
	m := srv.Meetings().Meeting(code)
	deadline := time.Now().Add(5 * time.Second)
	for {
		subs := 0
		for _, p := range m.Participants() {
			subs += len(p.Peer().Subscriptions())
		}
		if len(m.Participants()) == 1 && subs == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("left over: %d participants, %d subscriptions", len(m.Participants()), subs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	before := packets(observer, leaver, mic)
	time.Sleep(300 * time.Millisecond)
	if after := packets(observer, leaver, mic); after != before {
		t.Errorf("media of a participant who left still arrives (%d then %d packets)", before, after)
	}

	if err := observer.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, func() bool { meetings, _ := srv.Meetings().Counts(); return meetings == 0 }, "the empty meeting did not end")
}

func waitUntil(t *testing.T, cond func() bool, msg string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestScreenShareComesAndGoes(t *testing.T) {
	srv := startServer(t)
	ctx := testContext(t)
	code := room.NewCode()
	alice := srv.join(t, ctx, code, "Alice", mic, camera)
	bob := srv.join(t, ctx, code, "Bob", mic)
	carol := srv.join(t, ctx, code, "Carol", mic, camera)

	if err := alice.Publish(ctx, screen, protocol.SourceScreenAudio); err != nil {
		t.Fatal(err)
	}
	receiving(t, ctx, bob, alice, 20, screen, protocol.SourceScreenAudio, camera)
	receiving(t, ctx, carol, alice, 20, screen, protocol.SourceScreenAudio)
	receiving(t, ctx, alice, carol, 20, mic, camera)

	if err := alice.Unpublish(ctx, screen); err != nil {
		t.Fatal(err)
	}
	noScreen := func(s client.State) bool {
		for _, tr := range s.Others[alice.ID()].Tracks {
			if tr.Source == screen {
				return false
			}
		}
		return true
	}
	if err := bob.WaitFor(ctx, noScreen); err != nil {
		t.Fatal("Bob still sees Alice's screen share")
	}
	before := packets(bob, alice, camera)
	time.Sleep(300 * time.Millisecond)
	if packets(bob, alice, camera) == before {
		t.Fatal("Alice's camera stopped when she stopped sharing her screen")
	}
}

func TestKeyframeRequestsReachThePublisherRateLimited(t *testing.T) {
	srv := startServer(t)
	ctx := testContext(t)
	code := room.NewCode()
	alice := srv.join(t, ctx, code, "Alice", camera)
	bob := srv.join(t, ctx, code, "Bob")
	receiving(t, ctx, bob, alice, 20, camera)

	time.Sleep(600 * time.Millisecond) // past the limiter window of the join's own request
	before := alice.KeyframeRequests(camera)
	key := client.TrackKey{Participant: alice.ID(), Source: camera}
	for range 20 {
		if err := bob.RequestKeyframe(key); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	waitUntil(t, func() bool { return alice.KeyframeRequests(camera) > before }, "Bob's keyframe request never reached Alice")
	time.Sleep(300 * time.Millisecond)
	if got := alice.KeyframeRequests(camera) - before; got > 2 {
		t.Fatalf("20 requests in 200 ms reached the publisher %d times; the limit is one per 500 ms", got)
	}
}

func TestActiveSpeaker(t *testing.T) {
	srv := startServer(t)
	ctx := testContext(t)
	code := room.NewCode()
	alice := srv.join(t, ctx, code, "Alice", mic)
	bob := srv.join(t, ctx, code, "Bob", mic)
	bob.SetSpeaking(false)
	alice.SetSpeaking(true)

	speaker := func(c *client.Client) func(client.State) bool {
		return func(s client.State) bool { return s.Speakers.Active == c.ID() }
	}
	if err := bob.WaitFor(ctx, speaker(alice)); err != nil {
		t.Fatalf("Alice speaks but is not the active speaker: %+v", bob.State().Speakers)
	}
	alice.SetSpeaking(false)
	bob.SetSpeaking(true)
	if err := alice.WaitFor(ctx, speaker(bob)); err != nil {
		t.Fatalf("Bob speaks but is not the active speaker: %+v", alice.State().Speakers)
	}
	if err := alice.SetMuted(ctx, mic, true); err != nil {
		t.Fatal(err)
	}
	if err := bob.SetMuted(ctx, mic, true); err != nil {
		t.Fatal(err)
	}
	if err := alice.WaitFor(ctx, func(s client.State) bool { return len(s.Speakers.Speaking) == 0 }); err != nil {
		t.Fatalf("muted participants still shown as speaking: %+v", alice.State().Speakers)
	}
}

func TestRoomCap(t *testing.T) {
	srv := startServer(t, func(c *config.Config, _ *Options) { c.Rooms.MaxParticipants = 2 })
	ctx := testContext(t)
	code := room.NewCode()
	srv.join(t, ctx, code, "One")
	srv.join(t, ctx, code, "Two")
	_, err := client.Join(ctx, client.Options{URL: srv.url, Room: string(code), Name: "Three"})
	if err == nil {
		t.Fatal("a third participant joined a meeting capped at two")
	}
	// Another room is not affected.
	srv.join(t, ctx, room.NewCode(), "Elsewhere")
}

func TestShutdownTellsParticipants(t *testing.T) {
	srv := startServer(t)
	ctx := testContext(t)
	alice := srv.join(t, ctx, room.NewCode(), "Alice", mic)
	srv.Meetings().Close()
	if err := alice.WaitFor(ctx, func(s client.State) bool { return s.Closed }); err != nil {
		t.Fatal("the session was not closed on shutdown")
	}
	if got := alice.State().Bye; got != protocol.ReasonServerShutdown {
		t.Fatalf("told %q, want %q", got, protocol.ReasonServerShutdown)
	}
}

// sendExpectingError sends raw bytes and waits for the error they cause.
func sendExpectingError(t *testing.T, ctx context.Context, c *client.Client, raw string, want protocol.ErrorCode) {
	t.Helper()
	n := len(c.State().Errors)
	if err := c.SendRaw(ctx, []byte(raw)); err != nil {
		t.Fatalf("send %.40q: %v", raw, err)
	}
	if err := c.WaitFor(ctx, func(s client.State) bool { return len(s.Errors) > n }); err != nil {
		t.Fatalf("no error for %.60q", raw)
	}
	if got := c.State().Errors[n]; got.Code != want || got.Message == "" {
		t.Fatalf("%.60q: got error %+v, want code %s", raw, got, want)
	}
}

func TestGarbageGetsTypedErrorsAndTheMeetingGoesOn(t *testing.T) {
	srv := startServer(t)
	ctx := testContext(t)
	code := room.NewCode()
	alice := srv.join(t, ctx, code, "Alice", mic, camera)
	bob := srv.join(t, ctx, code, "Bob", mic, camera)
	receiving(t, ctx, bob, alice, 20, mic, camera)

	// Before joining.
	stranger, err := client.Connect(ctx, client.Options{URL: srv.url, Name: "Stranger"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stranger.Kill)
	sendExpectingError(t, ctx, stranger, `{"type":"publish","tracks":[]}`, protocol.CodeNotJoined)
	sendExpectingError(t, ctx, stranger, `{"type":"join","room":"../../etc","name":"S"}`, protocol.CodeBadRoom)
	sendExpectingError(t, ctx, stranger, `{"type":"join","room":"`+string(code)+`","name":""}`, protocol.CodeInvalid)

	// Alone in a room, nobody sends anything, so there is nothing to answer.
	loner := srv.join(t, ctx, room.NewCode(), "Loner")
	sendExpectingError(t, ctx, loner, `{"type":"answer","sdp":"v=0"}`, protocol.CodeOutOfOrder)
	sendExpectingError(t, ctx, loner, `{"type":"candidate","target":"subscribe","candidate":{"candidate":"candidate:1 1 udp 1 192.0.2.9 9 typ host"}}`, protocol.CodeOutOfOrder)
	sendExpectingError(t, ctx, loner, `{"type":"candidate","target":"publish","candidate":{"candidate":"candidate:1 1 udp 1 192.0.2.9 9 typ host"}}`, protocol.CodeOutOfOrder)

	mallory := srv.join(t, ctx, code, "Mallory", mic)
	for _, c := range []struct {
		raw  string
		code protocol.ErrorCode
	}{
		{`{`, protocol.CodeBadJSON},
		{`"just a string"`, protocol.CodeBadJSON},
		{`{"type":"dance"}`, protocol.CodeUnknownType},
		{`{"type":"join","room":"` + string(code) + `","name":"Again"}`, protocol.CodeAlreadyJoined},
		{`{"type":"publish","sdp":"this is not SDP","tracks":[]}`, protocol.CodeBadSDP},
		{`{"type":"publish","sdp":"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n","tracks":[]}`, protocol.CodeBadSDP},
		{`{"type":"candidate","target":"publish","candidate":{"candidate":"garbage","sdpMid":"0"}}`, protocol.CodeBadCandidate},
		{`{"type":"mute","source":"screen","muted":true}`, protocol.CodeInvalid},
		{`{"type":"publish","tracks":[{"mid":"0","source":"camera"}]}`, protocol.CodeInvalid}, // mid 0 carries the microphone
	} {
		sendExpectingError(t, ctx, mallory, c.raw, c.code)
	}
	if err := mallory.SendRaw(ctx, nil); err != nil { // an empty message
		t.Fatal(err)
	}

	// A flood is cut down to the rate limit, with one error.
	flood := []byte(`{"type":"mute","source":"microphone","muted":false}`)
	for range 400 {
		if err := mallory.SendRaw(ctx, flood); err != nil {
			t.Fatal(err)
		}
	}
	if err := mallory.WaitFor(ctx, func(s client.State) bool {
		for _, e := range s.Errors {
			if e.Code == protocol.CodeRateLimited {
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatal("a flood of 400 messages was not rate limited")
	}

	// Mallory is still in the meeting, and the others never noticed.
	if _, ok := alice.State().Others[mallory.ID()]; !ok {
		t.Fatal("Mallory was dropped for sending bad messages")
	}
	before := packets(bob, alice, camera)
	time.Sleep(500 * time.Millisecond)
	if packets(bob, alice, camera) <= before {
		t.Fatal("media between Alice and Bob stopped")
	}

	// An oversized message closes that one connection only.
	huge := make([]byte, protocol.MaxMessageBytes+1)
	for i := range huge {
		huge[i] = 'x'
	}
	_ = mallory.SendRaw(ctx, huge)
	if err := mallory.WaitFor(ctx, func(s client.State) bool { return s.Closed }); err != nil {
		t.Fatal("an oversized message did not close the connection")
	}
	id := mallory.ID()
	if err := alice.WaitFor(ctx, func(s client.State) bool { _, here := s.Others[id]; return !here }); err != nil {
		t.Fatal("Mallory's closed connection left her in the meeting")
	}
	before = packets(bob, alice, mic)
	time.Sleep(300 * time.Millisecond)
	if packets(bob, alice, mic) <= before {
		t.Fatal("media between Alice and Bob stopped")
	}
}

func TestCrossOriginWebSocketIsRefused(t *testing.T) {
	srv := startServer(t)
	ctx := testContext(t)
	_, res, err := websocket.Dial(ctx, "ws://"+srv.Addr()+"/ws", &websocket.DialOptions{
		Subprotocols: []string{protocol.Subprotocol},
		HTTPHeader:   http.Header{"Origin": {"https://evil.example"}},
	})
	if err == nil || res == nil || res.StatusCode != http.StatusForbidden {
		t.Fatalf("a page from another origin opened a signalling session: %v %v", err, res)
	}
}

func TestHTTPS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	pool := writeSelfSignedCert(t, certFile, keyFile)
	srv := startServer(t, func(c *config.Config, _ *Options) { c.HTTP.TLSCert, c.HTTP.TLSKey = certFile, keyFile })
	httpsClient := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	res, err := httpsClient.Get("https://" + srv.Addr() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz over HTTPS = %d", res.StatusCode)
	}
}

func writeSelfSignedCert(t *testing.T, certFile, keyFile string) *x509.CertPool {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}

// A subscriber over ICE-TCP whose connection stops taking data (a frozen
// laptop, a congested uplink) must not hold up the others: its packets are
// dropped, as they would be over UDP.
func TestAStalledTCPSubscriberDoesNotHoldUpTheOthers(t *testing.T) {
	port := freeTCPPort(t)
	srv := startServer(t, func(c *config.Config, _ *Options) {
		c.Media.TCPPort = port
		c.Media.ICEFailedTimeout = time.Minute // the server does not give up on Carol during the test
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	code := room.NewCode()
	alice := srv.join(t, ctx, code, "Alice", mic, camera)
	bob := srv.join(t, ctx, code, "Bob", mic, camera)

	proxy := newStallingProxy(t, fmt.Sprintf("127.0.0.1:%d", port))
	carol := srv.joinWith(t, ctx, client.Options{Room: string(code), Name: "Carol over TCP", TCPOnly: true,
		EditServerSDP: func(sdp string) string {
			return strings.ReplaceAll(sdp, fmt.Sprintf(" %d typ host tcptype", port), fmt.Sprintf(" %d typ host tcptype", proxy.port()))
		}})
	receiving(t, ctx, carol, alice, 50, mic, camera)
	receiving(t, ctx, bob, alice, 50, mic, camera)

	// Carol's side stops reading: the server's socket buffer and its queue
	// for her fill within seconds.
	proxy.stall()
	stalledAt := packets(carol, alice, camera)
	for i := range 5 {
		// 100 packets of each track is ~3 s of Alice's media; a forwarder
		// blocked on Carol's connection would send Bob nothing more.
		wait, cancel := context.WithTimeout(ctx, 10*time.Second)
		before := packets(bob, alice, camera)
		err := bob.WaitFor(wait, func(client.State) bool { return packets(bob, alice, camera) >= before+100 })
		cancel()
		if err != nil {
			t.Fatalf("%d s after Carol's connection stalled, Bob stopped receiving Alice's camera", 3*i)
		}
	}
	if got := packets(carol, alice, camera); got > stalledAt+200 {
		t.Fatalf("Carol received %d packets after her connection stalled: the stall did not happen", got-stalledAt)
	}
}

// stallingProxy relays TCP connections to a server, and can stop reading
// from the server, as a client that stops reading would.
type stallingProxy struct {
	ln      net.Listener
	stalled chan struct{} // closed by stall
	done    chan struct{} // closed at the end of the test
}

func newStallingProxy(t *testing.T, server string) *stallingProxy {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stallingProxy{ln: ln, stalled: make(chan struct{}), done: make(chan struct{})}
	var wg sync.WaitGroup
	t.Cleanup(func() { close(p.done); ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp4", server)
			if err != nil {
				c.Close()
				continue
			}
			// A small receive buffer: a stall fills the server's side sooner.
			_ = s.(*net.TCPConn).SetReadBuffer(8 << 10)
			wg.Go(func() { _, _ = io.Copy(s, c); s.Close() })
			wg.Go(func() {
				defer c.Close()
				buf := make([]byte, 8<<10)
				for {
					n, err := s.Read(buf)
					if err != nil {
						return
					}
					if _, err := c.Write(buf[:n]); err != nil {
						return
					}
					select {
					case <-p.stalled:
						<-p.done // nothing more is read from the server
						return
					default:
					}
				}
			})
		}
	})
	return p
}

func (p *stallingProxy) port() int { return p.ln.Addr().(*net.TCPAddr).Port }
func (p *stallingProxy) stall()    { close(p.stalled) }
