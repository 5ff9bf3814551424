// Package cluster makes several visio nodes one service through NATS: each
// node reports its load, and a room directory places every meeting on one
// node, re-placing it when that node is lost. One code path serves every
// size: a NATS server inside the process for a single node, embedded servers
// joined by routes for a cluster of nodes, or an external NATS cluster.
//
// Nodes report themselves on a plain NATS subject, not in JetStream: a
// node's loss makes JetStream elect new leaders for a few seconds, during
// which heartbeats stored there would stall and make live nodes look lost.
// The directory, which must outlive any node, is a replicated JetStream
// key-value bucket.
//
// Only placement and liveness go through NATS. What a meeting must keep
// (chat, roles, transcripts) lives in the database, and media flow straight
// between the participants and the node hosting their meeting.
package cluster

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/crypto/bcrypt"

	"github.com/visio-meet/visio/internal/room"
)

// NodeID names a node for the life of the cluster.
type NodeID string

// Load is what a node reports of itself with each heartbeat.
type Load struct {
	Meetings     int
	Participants int
}

// Config says how a node joins the cluster.
type Config struct {
	Node NodeID
	// URL is where browsers reach this node itself (http://host:port): the
	// apps open their signalling connection there when it hosts their room.
	URL string
	// NATSURL, when set, is an external NATS cluster to use instead of an
	// embedded server (credentials may be in the URL; never logged).
	NATSURL string
	// Name, RouteAddr and Routes make the embedded server one of a cluster:
	// it listens for its peers on RouteAddr and dials Routes (host:port).
	// Without RouteAddr the embedded server is alone and opens no socket.
	Name      string
	RouteAddr string
	Routes    []string
	// Secret authenticates the routes between embedded servers.
	Secret string
	// Replicas of the room directory: 3 survives the loss of one node of
	// three. 0 picks 3, or fewer when fewer nodes embed NATS.
	Replicas int
	// DataDir keeps the embedded server's JetStream files; a node alone
	// (without RouteAddr) keeps them in a temporary directory instead, as
	// they hold nothing that outlives it.
	DataDir string
	// Heartbeat is how often the node reports itself (default 500 ms);
	// NodeTimeout how long without a report before a node is lost (2 s).
	Heartbeat   time.Duration
	NodeTimeout time.Duration
	// Load reports the node's load at each heartbeat.
	Load func() Load
	Log  *slog.Logger
}

// Cluster is this node's membership of the cluster.
type Cluster struct {
	cfg         Config
	incarnation string // tells this run of the node from the previous ones
	log         *slog.Logger
	nats        *server.Server // nil with an external NATS
	tempDir     string         // the lone node's JetStream files
	conn        *nats.Conn

	ready    chan struct{} // closed once the directory is open
	rooms    jetstream.KeyValue
	draining atomic.Bool

	mu     sync.Mutex
	seen   map[NodeID]seenNode  // by this node's clock, so clocks need not agree
	hosted map[room.Code]uint64 // this node's meetings: their entries' revisions

	stop context.CancelFunc
	wg   sync.WaitGroup
}

type seenNode struct {
	Node
	at        time.Time
	sentSince int // meetings this node placed there since its report
}

// Where the cluster's state is: the room directory's JetStream bucket,
// and the subject of the nodes' reports.
const (
	roomsBucket  = "visio_rooms"
	nodesSubject = "visio.nodes"
)

// Start joins the cluster: it starts the embedded NATS server (or connects
// to the external one), then opens the cluster's buckets in the background,
// since a clustered JetStream needs its peers first (Ready tells when).
func Start(cfg Config) (*Cluster, error) {
	if cfg.Node == "" {
		return nil, errors.New("cluster: a node needs a name (cluster.node)")
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = 500 * time.Millisecond
	}
	if cfg.NodeTimeout <= 0 {
		cfg.NodeTimeout = 4 * cfg.Heartbeat
	}
	if cfg.Replicas <= 0 {
		switch {
		case cfg.NATSURL != "":
			cfg.Replicas = 3
		default: // as many as there are embedded servers, up to 3
			cfg.Replicas = min(3, len(cfg.Routes)+1)
		}
	}
	if cfg.Load == nil {
		cfg.Load = func() Load { return Load{} }
	}
	c := &Cluster{
		cfg:         cfg,
		incarnation: strings.ToLower(rand.Text()[:10]),
		log:         cfg.Log,
		ready:       make(chan struct{}),
		seen:        map[NodeID]seenNode{},
		hosted:      map[room.Code]uint64{},
	}
	var err error
	if cfg.NATSURL != "" {
		c.conn, err = nats.Connect(cfg.NATSURL, c.connOptions()...)
		if err != nil {
			return nil, fmt.Errorf("cluster: connect to cluster.nats_url %s: %w", redact(cfg.NATSURL), err)
		}
	} else if err := c.embed(); err != nil {
		return nil, err
	}
	ctx, stop := context.WithCancel(context.Background())
	c.stop = stop
	c.wg.Go(func() { c.run(ctx) })
	return c, nil
}

// embed starts the NATS server inside the process and connects to it.
func (c *Cluster) embed() error {
	user, pass := "visio", rand.Text()
	if c.cfg.RouteAddr == "" {
		dir, err := os.MkdirTemp("", "visio-nats-")
		if err != nil {
			return fmt.Errorf("cluster: a directory for the embedded NATS server: %w", err)
		}
		c.cfg.DataDir, c.tempDir = dir, dir
	}
	opts := &server.Options{
		ServerName: string(c.cfg.Node),
		JetStream:  true,
		StoreDir:   c.cfg.DataDir,
		NoSigs:     true,
		DontListen: c.cfg.RouteAddr == "",
	}
	if c.cfg.RouteAddr != "" {
		// A clustered server must listen for clients too (nats-server
		// #5174): on loopback, with a password only this process knows.
		hash, err := bcrypt.GenerateFromPassword([]byte(pass), bcrypt.MinCost)
		if err != nil {
			return fmt.Errorf("cluster: %w", err)
		}
		opts.Host, opts.Port, opts.Username, opts.Password = "127.0.0.1", server.RANDOM_PORT, user, string(hash)
		host, port, err := splitHostPort(c.cfg.RouteAddr)
		if err != nil {
			return fmt.Errorf("cluster.route_addr: %w", err)
		}
		opts.Cluster = server.ClusterOpts{Name: c.cfg.Name, Host: host, Port: port, Username: "visio", Password: c.cfg.Secret}
		for _, r := range c.cfg.Routes {
			u, err := url.Parse("nats://" + r)
			if err != nil || u.Port() == "" {
				return fmt.Errorf("cluster.routes: %q is not host:port", r)
			}
			u.User = url.UserPassword("visio", c.cfg.Secret)
			opts.Routes = append(opts.Routes, u)
		}
	}
	s, err := server.NewServer(opts)
	if err != nil {
		_ = os.RemoveAll(c.tempDir)
		return fmt.Errorf("cluster: embedded NATS server: %w", err)
	}
	s.SetLoggerV2(natsLog{c.log.With("part", "nats")}, false, false, false)
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		_ = os.RemoveAll(c.tempDir)
		return fmt.Errorf("cluster: the embedded NATS server did not start within 10 s: is cluster.route_addr %s free?", c.cfg.RouteAddr)
	}
	c.nats = s
	c.conn, err = nats.Connect("", append(c.connOptions(), nats.InProcessServer(s), nats.UserInfo(user, pass))...)
	if err != nil {
		s.Shutdown()
		_ = os.RemoveAll(c.tempDir)
		return fmt.Errorf("cluster: connect to the embedded NATS server: %w", err)
	}
	return nil
}

func (c *Cluster) connOptions() []nats.Option {
	return []nats.Option{
		nats.Name("visio " + string(c.cfg.Node)),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				c.log.Warn("lost the connection to NATS", "err", err)
			}
		}),
		nats.ReconnectHandler(func(*nats.Conn) { c.log.Info("connected to NATS again") }),
	}
}

// run reports this node and listens to the others, opens the directory,
// and keeps the entries of this node's meetings fresh, until ctx ends.
func (c *Cluster) run(ctx context.Context) {
	sub, err := c.conn.Subscribe(nodesSubject, c.saw)
	if err != nil {
		c.log.Error("cluster: listen to the other nodes", "err", err)
		return
	}
	defer func() { _ = sub.Unsubscribe() }()
	c.heartbeat()
	tick := time.NewTicker(c.cfg.Heartbeat)
	defer tick.Stop()
	js, err := jetstream.New(c.conn)
	if err != nil {
		c.log.Error("cluster: JetStream", "err", err)
		return
	}
	for attempt := 0; ; attempt++ {
		if err = c.openDirectory(ctx, js); err == nil {
			break
		}
		if attempt%20 == 19 {
			c.log.Warn("cluster: waiting for JetStream (the cluster needs a majority of its nodes)", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			c.heartbeat()
		case <-time.After(250 * time.Millisecond):
		}
	}
	close(c.ready)
	c.log.Info("node joined the cluster", "url", c.cfg.URL, "replicas", c.cfg.Replicas)
	// Apart from the heartbeats, which must never wait for JetStream.
	c.wg.Go(func() { c.every(ctx, roomTTL/4, c.refreshRooms) })
	c.every(ctx, c.cfg.Heartbeat, func(context.Context) { c.heartbeat() })
}

// every calls f every period until ctx ends.
func (c *Cluster) every(ctx context.Context, period time.Duration, f func(context.Context)) {
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			f(ctx)
		}
	}
}

func (c *Cluster) openDirectory(ctx context.Context, js jetstream.JetStream) error {
	attempt, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	rooms, err := js.CreateOrUpdateKeyValue(attempt, jetstream.KeyValueConfig{
		Bucket: roomsBucket, Description: "visio room directory: the node of each live meeting", TTL: roomTTL,
		Storage: jetstream.MemoryStorage, Replicas: c.cfg.Replicas, History: 1,
	})
	if err != nil {
		return fmt.Errorf("open bucket %s: %w", roomsBucket, err)
	}
	c.rooms = rooms
	return nil
}

// Ready reports whether the node takes part in the cluster: connected to
// NATS with its buckets open.
func (c *Cluster) Ready() error {
	select {
	case <-c.ready:
	default:
		return errors.New("not part of the cluster yet (waiting for JetStream)")
	}
	if !c.conn.IsConnected() {
		return errors.New("not connected to NATS")
	}
	return nil
}

// Stats says how the node's link to NATS is doing, for the metrics.
func (c *Cluster) Stats() (connected bool, nodes int, rtt time.Duration, reconnects uint64) {
	connected = c.conn.IsConnected()
	if connected {
		rtt, _ = c.conn.RTT()
	}
	return connected, len(c.Nodes()), rtt, c.conn.Stats().Reconnects
}

// Self is this node.
func (c *Cluster) Self() NodeID { return c.cfg.Node }

// Drain makes the node take no new meetings; those it has go on.
func (c *Cluster) Drain() {
	if !c.draining.Swap(true) {
		c.log.Info("node draining: it takes no new meetings")
		c.heartbeat()
	}
}

// Draining reports whether Drain was called.
func (c *Cluster) Draining() bool { return c.draining.Load() }

// Close leaves the cluster: the node's report goes at once, so that the
// others stop sending rooms its way, and NATS stops.
func (c *Cluster) Close() error {
	c.stop()
	c.wg.Wait()
	c.leave()
	c.conn.Close()
	if c.nats != nil {
		c.nats.Shutdown()
		c.nats.WaitForShutdown()
	}
	if c.tempDir != "" {
		return os.RemoveAll(c.tempDir)
	}
	return nil
}

func splitHostPort(addr string) (string, int, error) {
	u, err := url.Parse("nats://" + addr)
	if err != nil || u.Port() == "" {
		return "", 0, fmt.Errorf("%q is not host:port", addr)
	}
	var port int
	if _, err := fmt.Sscan(u.Port(), &port); err != nil {
		return "", 0, fmt.Errorf("%q is not host:port", addr)
	}
	return u.Hostname(), port, nil
}

// redact removes the credentials from NATS URLs (separated by commas),
// for messages.
func redact(raw string) string {
	parts := strings.Split(raw, ",")
	for i, p := range parts {
		if u, err := url.Parse(strings.TrimSpace(p)); err == nil {
			parts[i] = u.Redacted()
		} else {
			parts[i] = "(unreadable URL)"
		}
	}
	return strings.Join(parts, ",")
}

// natsLog passes the embedded server's messages to slog; its notices are
// routine and go to debug.
type natsLog struct{ log *slog.Logger }

func (l natsLog) Noticef(f string, v ...any) { l.log.Debug(fmt.Sprintf(f, v...)) }
func (l natsLog) Warnf(f string, v ...any)   { l.log.Warn(fmt.Sprintf(f, v...)) }
func (l natsLog) Fatalf(f string, v ...any)  { l.log.Error(fmt.Sprintf(f, v...)) }
func (l natsLog) Errorf(f string, v ...any)  { l.log.Warn(fmt.Sprintf(f, v...)) }
func (l natsLog) Debugf(f string, v ...any)  { l.log.Debug(fmt.Sprintf(f, v...)) }
func (l natsLog) Tracef(string, ...any)      {}
