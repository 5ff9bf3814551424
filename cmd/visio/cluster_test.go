package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/visio-meet/visio/internal/client"
	"github.com/visio-meet/visio/internal/protocol"
	"github.com/visio-meet/visio/internal/room"
	"github.com/visio-meet/visio/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// A cluster of three real visio processes on this machine, their embedded
// NATS servers joined over loopback routes, sharing a real PostgreSQL.

type node struct {
	name string
	url  string
	cmd  *exec.Cmd
	log  *bytes.Buffer
	done chan struct{}
}

// startCluster builds visio and starts three nodes of one cluster.
func startCluster(t *testing.T, extra ...string) []*node {
	t.Helper()
	if testing.Short() {
		t.Skip("starts three servers")
	}
	bin := filepath.Join(t.TempDir(), "visio")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build visio: %v\n%s", err, out)
	}
	db := storetest.Postgres(t)
	const n = 3
	var routes [n]string
	for i := range routes {
		routes[i] = freeTCP(t)
	}
	nodes := make([]*node, n)
	for i := range nodes {
		httpAddr := freeTCP(t)
		var peers []string
		for j, r := range routes {
			if j != i {
				peers = append(peers, r)
			}
		}
		nd := &node{name: fmt.Sprintf("node-%d", i+1), url: "http://" + httpAddr, log: &bytes.Buffer{}, done: make(chan struct{})}
		args := append([]string{"serve",
			"--database.url=" + db, "--http.addr=" + httpAddr, "--media.udp_port=" + freeUDP(t), "--media.tcp_port=0",
			"--turn.udp_port=0", "--turn.tcp_port=0", "--chat.max_file_bytes=0", "--log.level=info",
			"--tokens.secret=a secret shared by the nodes of the test cluster",
			"--cluster.node=" + nd.name, "--cluster.url=" + nd.url, "--cluster.route_addr=" + routes[i],
			"--cluster.routes=" + strings.Join(peers, ","), "--cluster.secret=the route secret of the test cluster, long enough",
			"--cluster.data_dir=" + t.TempDir(),
		}, extra...)
		nd.cmd = exec.Command(bin, args...)
		nd.cmd.Stderr = nd.log // read once the process has exited
		if err := nd.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { _ = nd.cmd.Wait(); close(nd.done) }()
		nodes[i] = nd
		t.Cleanup(func() {
			_ = nd.cmd.Process.Signal(syscall.SIGKILL)
			<-nd.done
			if t.Failed() {
				t.Logf("log of %s:\n%s", nd.name, nd.log)
			}
		})
	}
	for _, nd := range nodes {
		waitReady(t, nd)
	}
	return nodes
}

func waitReady(t *testing.T, nd *node) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := http.Get(nd.url + "/readyz")
		why := ""
		if err == nil {
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
			why = string(b)
		}
		select {
		case <-nd.done:
			t.Fatalf("%s exited: %s", nd.name, nd.log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is not ready after 60 s: %v %s", nd.name, err, why)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func freeTCP(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func freeUDP(t *testing.T) string {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return fmt.Sprint(c.LocalAddr().(*net.UDPAddr).Port)
}

// hostOf says which node hosts a room's meeting, asking one of them.
func hostOf(t *testing.T, nodes []*node, via *node, code string) *node {
	t.Helper()
	g, err := client.RequestJoin(context.Background(), client.Options{URL: via.url, Room: code, Name: "Curieux"})
	if err != nil {
		t.Fatal(err)
	}
	for _, nd := range nodes {
		if g.SignalURL == "ws://"+strings.TrimPrefix(nd.url, "http://")+"/ws" {
			return nd
		}
	}
	t.Fatalf("the meeting is at %q, which is no node", g.SignalURL)
	return nil
}

func others(nodes []*node, not *node) []*node {
	var out []*node
	for _, nd := range nodes {
		if nd != not {
			out = append(out, nd)
		}
	}
	return out
}

// createRoom creates a trusted room as a guest browser (its owner, since
// nobody signs in here) and returns its code and the owner's cookies.
func createRoom(t *testing.T, via *node) (string, http.CookieJar) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	res, err := (&http.Client{Jar: jar}).Post(via.url+"/api/v1/rooms", "application/json", strings.NewReader(`{"access":"trusted"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var rm struct{ Code string }
	if err := json.NewDecoder(res.Body).Decode(&rm); err != nil || res.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("create a room: %d %v %s", res.StatusCode, err, b)
	}
	return rm.Code, jar
}

func join(t *testing.T, ctx context.Context, via *node, code, name string, jar http.CookieJar) *client.Client {
	t.Helper()
	c, err := client.Join(ctx, client.Options{URL: via.url, Room: code, Name: name, Cookies: jar})
	if err != nil {
		t.Fatalf("%s joins through %s: %v", name, via.name, err)
	}
	t.Cleanup(c.Kill)
	return c
}

// admitted lets a guest in from the lobby.
func admitted(t *testing.T, ctx context.Context, host, guest *client.Client) {
	t.Helper()
	if err := host.WaitFor(ctx, func(s client.State) bool { return len(s.Lobby) > 0 }); err != nil {
		t.Fatal("the host does not see the guest knock")
	}
	if err := host.Admit(ctx, host.State().Lobby[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := guest.WaitFor(ctx, func(s client.State) bool { return s.Self.ID != "" }); err != nil {
		t.Fatal("the guest is not let in")
	}
}

func hears(ctx context.Context, listener *client.Client, speaker string) error {
	key := client.TrackKey{Participant: speaker, Source: protocol.SourceMicrophone}
	var before int
	if err := listener.WaitFor(ctx, func(s client.State) bool { before = s.Received[key].Packets; return before > 0 }); err != nil {
		return err
	}
	return listener.WaitFor(ctx, func(s client.State) bool { return s.Received[key].Packets > before+20 })
}

func TestPeopleEnteringThroughDifferentNodesMeetAndComeBackWhenTheirNodeDies(t *testing.T) {
	nodes := startCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	code, ownerJar := createRoom(t, nodes[0])
	host := hostOf(t, nodes, nodes[0], code)
	entries := others(nodes, host)
	// Alice (the owner) and Bob (a guest she lets in) come in through the
	// two nodes that do not host the meeting.
	alice := join(t, ctx, entries[0], code, "Alice", ownerJar)
	if !room.Role(alice.State().Self.Role).IsHost() {
		t.Fatalf("the room's owner is %q in its meeting", alice.State().Self.Role)
	}
	bob := join(t, ctx, entries[1], code, "Bob", nil)
	admitted(t, ctx, alice, bob)
	for _, c := range []*client.Client{alice, bob} {
		if err := c.Publish(ctx, protocol.SourceMicrophone); err != nil {
			t.Fatal(err)
		}
	}
	if err := hears(ctx, bob, alice.ID()); err != nil {
		t.Fatal("Bob does not hear Alice")
	}
	if err := hears(ctx, alice, bob.ID()); err != nil {
		t.Fatal("Alice does not hear Bob")
	}
	if err := alice.SendChat(ctx, protocol.ChatSend{Text: "Avant la panne", ClientID: "c1"}); err != nil {
		t.Fatal(err)
	}
	if err := bob.WaitFor(ctx, func(s client.State) bool { return len(s.Chat.Messages) == 1 }); err != nil {
		t.Fatal("Bob does not get Alice's message")
	}
	aliceID, bobID := alice.ID(), bob.ID()

	// The node hosting the meeting dies.
	killed := time.Now()
	if err := host.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-host.done
	for _, c := range []*client.Client{alice, bob} {
		go func() {
			for ctx.Err() == nil {
				if err := c.Rejoin(ctx); err == nil {
					return
				}
				time.Sleep(500 * time.Millisecond)
			}
		}()
	}
	backIn := func(s client.State) bool { return s.Self.ID != "" && len(s.Others) == 1 }
	for _, c := range []*client.Client{alice, bob} {
		if err := c.WaitFor(ctx, backIn); err != nil {
			t.Fatal("not back in the meeting")
		}
	}
	if err := hears(ctx, bob, aliceID); err != nil {
		t.Fatal("after the move, Bob does not hear Alice")
	}
	if err := hears(ctx, alice, bobID); err != nil {
		t.Fatal("after the move, Alice does not hear Bob")
	}
	recovery := time.Since(killed)
	t.Logf("back in the meeting, hearing each other, %v after its node was killed", recovery.Round(10*time.Millisecond))
	if recovery > 10*time.Second {
		t.Errorf("recovery took %v, more than 10 s", recovery)
	}
	if alice.ID() != aliceID || bob.ID() != bobID {
		t.Errorf("they came back as other participants: %s, %s (were %s, %s)", alice.ID(), bob.ID(), aliceID, bobID)
	}
	if !room.Role(alice.State().Self.Role).IsHost() {
		t.Error("Alice is no longer a host after the move")
	}
	if bob.State().Waiting {
		t.Error("Bob, let in before, waits in the lobby again")
	}

	// Carol, arriving later, still waits for a host and then sees what was
	// said before the node died.
	carol := join(t, ctx, entries[0], code, "Carol", nil)
	admitted(t, ctx, alice, carol)
	if err := carol.WaitFor(ctx, func(s client.State) bool { return len(s.Chat.Messages) == 1 }); err != nil {
		t.Fatal("the chat history is lost")
	}
	if m := carol.State().Chat.Messages[0]; m.Text != "Avant la panne" || m.From != aliceID {
		t.Errorf("history after the move: %+v", m)
	}
}

func TestADrainedNodeTakesNoNewMeetingsAndStopsWhenItsMeetingEnds(t *testing.T) {
	nodes := startCluster(t, "--cluster.drain_timeout=1m", "--rooms.allow_unregistered=true")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code := string(room.NewCode())
	host := hostOf(t, nodes, nodes[0], code)
	entry := others(nodes, host)[0]
	alice := join(t, ctx, entry, code, "Alice", nil)

	if err := host.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitUnready(t, host)
	for range 6 {
		code := string(room.NewCode())
		if hostOf(t, nodes, entry, code) == host {
			t.Fatalf("new meeting %s placed on the draining node", code)
		}
	}
	select {
	case <-host.done:
		t.Fatal("the draining node stopped while its meeting goes on")
	case <-time.After(2 * time.Second):
	}
	if err := alice.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-host.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the drained node does not stop once its meeting ended")
	}
}

func TestAtTheEndOfItsDrainANodeMovesItsMeetingsAndTheirPeopleFollow(t *testing.T) {
	nodes := startCluster(t, "--cluster.drain_timeout=2s")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code, ownerJar := createRoom(t, nodes[0])
	host := hostOf(t, nodes, nodes[0], code)
	entries := others(nodes, host)
	alice := join(t, ctx, entries[0], code, "Alice", ownerJar)
	bob := join(t, ctx, entries[1], code, "Bob", nil)
	admitted(t, ctx, alice, bob)
	if err := alice.SendChat(ctx, protocol.ChatSend{Text: "Avant le déménagement", ClientID: "c1"}); err != nil {
		t.Fatal(err)
	}
	if err := bob.WaitFor(ctx, func(s client.State) bool { return len(s.Chat.Messages) == 1 }); err != nil {
		t.Fatal("Bob does not get Alice's message")
	}
	aliceID, bobID := alice.ID(), bob.ID()

	if err := host.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*client.Client{alice, bob} {
		if err := c.WaitFor(ctx, func(s client.State) bool { return s.Bye == protocol.ReasonMoved }); err != nil {
			t.Fatalf("not told the meeting moved: %+v", c.State().Bye)
		}
		if err := c.Rejoin(ctx); err != nil {
			t.Fatalf("rejoin: %v", err)
		}
	}
	if err := alice.WaitFor(ctx, func(s client.State) bool { return len(s.Others) == 1 }); err != nil {
		t.Fatal("Alice and Bob are not together again")
	}
	if alice.ID() != aliceID || bob.ID() != bobID || bob.State().Waiting {
		t.Errorf("after the move: Alice %s (was %s), Bob %s (was %s), Bob waiting %v", alice.ID(), aliceID, bob.ID(), bobID, bob.State().Waiting)
	}
	if moved := hostOf(t, nodes, entries[0], code); moved == host {
		t.Error("the meeting is still on the drained node")
	}
	carol := join(t, ctx, entries[1], code, "Carol", nil)
	admitted(t, ctx, alice, carol)
	if err := carol.WaitFor(ctx, func(s client.State) bool { return len(s.Chat.Messages) == 1 }); err != nil {
		t.Fatal("the chat history did not move with the meeting")
	}
	select {
	case <-host.done:
	case <-time.After(15 * time.Second):
		t.Fatal("the drained node does not stop")
	}
}

func waitUnready(t *testing.T, nd *node) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := http.Get(nd.url + "/readyz")
		if err != nil {
			t.Fatalf("%s stopped answering: %v", nd.name, err)
		}
		res.Body.Close()
		if res.StatusCode == http.StatusServiceUnavailable {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still says it is ready while draining", nd.name)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
