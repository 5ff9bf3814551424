package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/visio-meet/visio/internal/room"
)

// startNodes starts n nodes clustered over loopback routes, each embedding
// its NATS server, and waits until all are ready and see each other.
func startNodes(t *testing.T, n int, adjust ...func(i int, cfg *Config)) []*Cluster {
	t.Helper()
	addrs := make([]string, n)
	for i := range addrs {
		addrs[i] = freeAddr(t)
	}
	nodes := make([]*Cluster, n)
	for i := range nodes {
		var routes []string
		for j, a := range addrs {
			if j != i {
				routes = append(routes, a)
			}
		}
		cfg := Config{
			Node: NodeID(fmt.Sprintf("node-%d", i+1)), URL: fmt.Sprintf("http://node-%d.test", i+1),
			Name: "test", RouteAddr: addrs[i], Routes: routes, Secret: "a route secret for the test cluster",
			DataDir: t.TempDir(), Heartbeat: 200 * time.Millisecond, NodeTimeout: time.Second,
			Log: slog.New(slog.DiscardHandler),
		}
		for _, f := range adjust {
			f(i, &cfg)
		}
		c, err := Start(cfg)
		if err != nil {
			t.Fatal(err)
		}
		nodes[i] = c
		t.Cleanup(func() { _ = c.Close() })
	}
	eventually(t, 30*time.Second, "the nodes do not form a cluster", func() bool {
		for _, c := range nodes {
			if c.Ready() != nil || len(c.Nodes()) != n {
				return false
			}
		}
		return true
	})
	return nodes
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func eventually(t *testing.T, within time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal(what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func byID(nodes []*Cluster, id NodeID) *Cluster {
	for _, c := range nodes {
		if c.Self() == id {
			return c
		}
	}
	return nil
}

// crash stops a node as a killed process would: no goodbye in the registry.
func (c *Cluster) crash() {
	c.stop()
	c.wg.Wait()
	c.conn.Close()
	c.nats.Shutdown()
	c.nats.WaitForShutdown()
}

func TestEveryNodeSendsARoomToTheSameNodeAndRoomsSpread(t *testing.T) {
	t.Parallel()
	nodes := startNodes(t, 3)
	ctx := context.Background()
	hosts := map[NodeID]int{}
	for i := range 12 {
		code := room.Code(fmt.Sprintf("abc-defg-h%02d", i))
		first, err := nodes[i%3].Place(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range nodes {
			n, err := c.Place(ctx, code)
			if err != nil || n.ID != first.ID || n.URL != first.URL {
				t.Fatalf("room %s: node %s sends it to %v (%v), another to %s", code, c.Self(), n.ID, err, first.ID)
			}
		}
		hosts[first.ID]++
	}
	if len(hosts) != 3 {
		t.Errorf("12 rooms went to %d of the 3 nodes: %v", len(hosts), hosts)
	}
}

func TestTheNodeAChoseHostsTheRoomAndTheOthersRefuseIt(t *testing.T) {
	t.Parallel()
	nodes := startNodes(t, 3)
	ctx := context.Background()
	code := room.Code("abc-defg-hij")
	placed, err := nodes[0].Place(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	host := byID(nodes, placed.ID)
	if moved, err := host.Host(ctx, code, true); err != nil || moved {
		t.Fatalf("the chosen node: moved %v, %v", moved, err)
	}
	for _, c := range nodes {
		if c == host {
			continue
		}
		if _, err := c.Host(ctx, code, true); !errors.Is(err, room.ErrElsewhere) {
			t.Errorf("node %s would start a second meeting of the room: %v", c.Self(), err)
		}
	}
	// When the meeting ends the room is free again.
	host.Release(code)
	eventually(t, 5*time.Second, "a released room stays in the directory", func() bool {
		_, rev, err := nodes[1].entry(ctx, code)
		return err == nil && rev == 0
	})
}

func TestARoomOfALostNodeMovesAndItsMeetingContinues(t *testing.T) {
	t.Parallel()
	nodes := startNodes(t, 3)
	ctx := context.Background()
	code := room.Code("abc-defg-hij")
	placed, err := nodes[0].Place(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	lost := byID(nodes, placed.ID)
	if _, err := lost.Host(ctx, code, true); err != nil {
		t.Fatal(err)
	}
	lost.crash()
	var survivor *Cluster
	for _, c := range nodes {
		if c != lost {
			survivor = c
		}
	}
	start := time.Now()
	var next Node
	eventually(t, 10*time.Second, "the room stays on the lost node", func() bool {
		next, err = survivor.Place(ctx, code)
		return err == nil && next.ID != lost.Self()
	})
	t.Logf("room re-placed %v after its node was lost (node timeout 1 s)", time.Since(start).Round(10*time.Millisecond))
	newHost := byID(nodes, next.ID)
	// Every first join says so, whichever starts the meeting.
	for range 2 {
		if moved, err := newHost.Host(ctx, code, true); err != nil || !moved {
			t.Fatalf("the new node does not continue the meeting: moved %v, %v", moved, err)
		}
	}
	// Once that meeting has ended, the room's next one starts afresh.
	newHost.Release(code)
	eventually(t, 5*time.Second, "the ended meeting stays in the directory", func() bool {
		_, rev, err := newHost.entry(ctx, code)
		return err == nil && rev == 0
	})
	if moved, err := newHost.Host(ctx, code, true); err != nil || moved {
		t.Errorf("a new meeting after the moved one ended: moved %v, %v", moved, err)
	}
}

func TestADrainingNodeTakesNoNewMeetingsButKeepsItsOwn(t *testing.T) {
	t.Parallel()
	nodes := startNodes(t, 3)
	ctx := context.Background()
	kept := room.Code("abc-defg-kep")
	placed, err := nodes[0].Place(ctx, kept)
	if err != nil {
		t.Fatal(err)
	}
	drained := byID(nodes, placed.ID)
	if _, err := drained.Host(ctx, kept, true); err != nil {
		t.Fatal(err)
	}
	drained.Drain()
	eventually(t, 5*time.Second, "the others do not see the node draining", func() bool {
		for _, c := range nodes {
			if n, _ := c.alive(drained.Self()); !n.Draining {
				return false
			}
		}
		return true
	})
	for i := range 9 {
		code := room.Code(fmt.Sprintf("xyz-defg-h%02d", i))
		n, err := nodes[i%3].Place(ctx, code)
		if err != nil || n.ID == drained.Self() {
			t.Fatalf("new room %s placed on %s (%v), which drains", code, n.ID, err)
		}
	}
	if n, err := nodes[1].Place(ctx, kept); err != nil || n.ID != drained.Self() {
		t.Errorf("the draining node's own meeting moved to %s (%v)", n.ID, err)
	}
	if _, err := drained.Host(ctx, "new-room-abc", true); !errors.Is(err, room.ErrElsewhere) {
		t.Errorf("a draining node starts a meeting nobody placed there: %v", err)
	}
}

func TestPlacementFollowsLoad(t *testing.T) {
	t.Parallel()
	nodes := startNodes(t, 3, func(i int, cfg *Config) {
		if i == 0 {
			cfg.Load = func() Load { return Load{Participants: 50, Meetings: 3} }
		}
	})
	ctx := context.Background()
	eventually(t, 5*time.Second, "the load report does not spread", func() bool {
		n, _ := nodes[2].alive(nodes[0].Self())
		return n.Participants == 50
	})
	for i := range 6 {
		n, err := nodes[i%3].Place(ctx, room.Code(fmt.Sprintf("lod-defg-h%02d", i)))
		if err != nil || n.ID == nodes[0].Self() {
			t.Fatalf("a new room went to the busiest node %s (%v)", n.ID, err)
		}
	}
}

func TestASingleNodeOpensNoSocket(t *testing.T) {
	t.Parallel()
	c, err := Start(Config{Node: "alone", URL: "http://alone.test", DataDir: t.TempDir(), Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	eventually(t, 10*time.Second, "a single node never gets ready", func() bool { return c.Ready() == nil })
	if c.nats.Addr() != nil {
		t.Errorf("the embedded NATS server listens on %v", c.nats.Addr())
	}
	n, err := c.Place(context.Background(), "abc-defg-hij")
	if err != nil || n.ID != "alone" {
		t.Fatalf("placed on %v: %v", n.ID, err)
	}
}

func TestTheMeetingsOfALostNodeSpreadOverTheOthers(t *testing.T) {
	t.Parallel()
	nodes := startNodes(t, 3)
	ctx := context.Background()
	lost := nodes[0]
	var codes []room.Code
	for i := range 10 {
		code := room.Code(fmt.Sprintf("spr-eadx-%03d", i))
		if _, err := lost.Host(ctx, code, true); err != nil {
			t.Fatal(err)
		}
		codes = append(codes, code)
	}
	lost.crash()
	eventually(t, 10*time.Second, "the node is not seen lost", func() bool {
		_, ok := nodes[1].alive(lost.Self())
		return !ok
	})
	got := map[NodeID]int{}
	for _, code := range codes {
		n, err := nodes[1].Place(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		got[n.ID]++
	}
	if got[nodes[1].Self()] < 3 || got[nodes[2].Self()] < 3 {
		t.Errorf("10 meetings of a lost node went %v", got)
	}
}

func TestPeopleStartingAMeetingAtOnceThroughDifferentNodesAllGetIn(t *testing.T) {
	t.Parallel()
	nodes := startNodes(t, 3)
	ctx := context.Background()
	code := room.Code("con-curr-ent")
	errs := make(chan error, 12)
	for i := range 12 {
		go func() {
			n, err := nodes[i%3].Place(ctx, code)
			if err == nil {
				_, err = byID(nodes, n.ID).Host(ctx, code, true)
			}
			errs <- err
		}()
	}
	for range 12 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
