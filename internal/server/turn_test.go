package server

import (
	"crypto/tls"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/pion/turn/v5"

	"github.com/visio-meet/visio/internal/client"
	"github.com/visio-meet/visio/internal/config"
	"github.com/visio-meet/visio/internal/protocol"
	"github.com/visio-meet/visio/internal/room"
)

// withTURN runs the server's TURN relay on free ports, UDP and TCP.
func withTURN(t *testing.T) func(*config.Config, *Options) {
	return func(c *config.Config, _ *Options) {
		c.TURN.UDPPort = freeUDPPort(t)
		c.TURN.TCPPort = freeTCPPort(t)
	}
}

func freeUDPPort(t *testing.T) int {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return conn.LocalAddr().(*net.UDPAddr).Port
}

func TestClientsThatOnlyHaveTheRelayStillMeet(t *testing.T) {
	srv := startServer(t, withTURN(t))
	ctx := testContext(t)
	code := room.NewCode()
	alice := srv.join(t, ctx, code, "Alice", mic, camera)
	for _, transport := range []string{"udp", "tcp"} {
		before := srv.turn.Allocations()
		bob := srv.joinWith(t, ctx, client.Options{Room: string(code), Name: "Bob via TURN/" + transport, Relay: transport}, mic, camera)
		receiving(t, ctx, bob, alice, 30, mic, camera)
		receiving(t, ctx, alice, bob, 30, mic, camera)
		if srv.turn.Allocations() < before+2 {
			t.Fatalf("TURN/%s: no relays were allocated for Bob's two connections", transport)
		}
		bob.Kill()
		waitUntil(t, func() bool { return srv.turn.Allocations() == before }, "Bob's relays were not released when he left")
	}
}

func TestTheWelcomeCarriesTURNCredentials(t *testing.T) {
	srv := startServer(t, withTURN(t))
	ctx := testContext(t)
	opts := client.Options{URL: srv.url, Room: string(room.NewCode()), Name: "Alice"}
	grant, err := client.RequestJoin(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Connect(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Kill)
	if err := c.SendMessage(ctx, &protocol.Join{Room: opts.Room, Name: "Alice", Token: grant.Token}); err != nil {
		t.Fatal(err)
	}
	var servers []protocol.ICEServer
	if err := c.WaitFor(ctx, func(s client.State) bool { servers = s.ICEServers; return len(servers) > 0 }); err != nil {
		t.Fatal("no ICE servers in the welcome")
	}
	s := servers[0]
	if len(s.URLs) != 2 || s.Username == "" || s.Credential == "" {
		t.Fatalf("ICE servers: %+v", servers)
	}
}

// The relay is for Visio's media only: it refuses to send anywhere else,
// and refuses clients without valid credentials.
func TestTheRelayIsNotOpen(t *testing.T) {
	srv := startServer(t, withTURN(t))
	udpPort, _, _ := srv.turn.Ports()
	server := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: udpPort}
	username, password := srv.turn.Credentials("tester", time.Minute)

	dial := func(user, pass string) *turn.Client {
		conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		c, err := turn.NewClient(&turn.ClientConfig{STUNServerAddr: server.String(), TURNServerAddr: server.String(),
			Conn: conn, Username: user, Password: pass, Realm: "visio"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		if err := c.Listen(); err != nil {
			t.Fatal(err)
		}
		return c
	}
	if _, err := dial(username, "wrong password").Allocate(); err == nil {
		t.Fatal("a relay was allocated with a wrong password")
	}
	expiredUser, expiredPass := srv.turn.Credentials("tester", -time.Minute)
	if _, err := dial(expiredUser, expiredPass).Allocate(); err == nil {
		t.Fatal("a relay was allocated with expired credentials")
	}

	relay, err := dial(username, password).Allocate()
	if err != nil {
		t.Fatalf("valid credentials refused: %v", err)
	}
	defer relay.Close()
	// Another service on this machine: the relay must not reach it.
	victim, err := net.ListenPacket("udp4", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no second loopback address: %v", err)
	}
	defer victim.Close()
	if _, err := relay.WriteTo([]byte("hello"), victim.LocalAddr()); err == nil {
		buf := make([]byte, 100)
		_ = victim.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		if n, _, err := victim.ReadFrom(buf); err == nil {
			t.Fatalf("the relay delivered %q to an address that is not the media server's", buf[:n])
		}
	}
}

func TestTURNOverTLSWhenACertificateIsConfigured(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	pool := writeSelfSignedCert(t, certFile, keyFile)
	srv := startServer(t, func(c *config.Config, _ *Options) {
		c.TURN.TLSPort = freeTCPPort(t)
		c.TURN.TLSCert, c.TURN.TLSKey = certFile, keyFile
	})
	_, _, tlsPort := srv.turn.Ports()
	conn, err := tls.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(tlsPort)), &tls.Config{RootCAs: pool})
	if err != nil {
		t.Fatalf("TURN over TLS does not accept a connection: %v", err)
	}
	defer conn.Close()
	username, password := srv.turn.Credentials("tester", time.Minute)
	c, err := turn.NewClient(&turn.ClientConfig{STUNServerAddr: conn.RemoteAddr().String(), TURNServerAddr: conn.RemoteAddr().String(),
		Conn: turn.NewSTUNConn(conn), Username: username, Password: password, Realm: "visio"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	relay, err := c.Allocate()
	if err != nil {
		t.Fatalf("no relay over TLS: %v", err)
	}
	relay.Close()
	servers := iceServers(srv.turn, "visio.example.org", time.Minute)("ignored")
	if urls := servers[0].URLs; !slices.Contains(urls, "turns:visio.example.org:"+strconv.Itoa(tlsPort)+"?transport=tcp") {
		t.Fatalf("the welcome does not offer TURN over TLS: %v", urls)
	}
}
