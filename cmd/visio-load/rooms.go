package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/visio-meet/visio/internal/client"
	"github.com/visio-meet/visio/internal/loadtest"
	"github.com/visio-meet/visio/internal/protocol"
	"github.com/visio-meet/visio/internal/room"
)

// joinLimit bounds one participant's join, so that a stuck node shows as
// failed joins rather than a hung run.
const joinLimit = 30 * time.Second

// busiest, as --kill-url, picks the node with the most rooms at kill time.
const busiest = "busiest"

// roomsConfig is what the rooms subcommand was asked to do.
type roomsConfig struct {
	entries   []string // the nodes' base URLs, in the order participants use them
	pids      []int    // the nodes' process ids, in the order of entries; may be empty
	rooms     int
	perRoom   int
	audio     bool
	parallel  int
	duration  time.Duration
	killAfter time.Duration
	killPID   int
	killURL   string
	// recoveryLimit is how long a participant whose node was killed has
	// to be back in its meeting before it counts as not recovered.
	recoveryLimit time.Duration
}

// participant is one synthetic person and what happened to it.
type participant struct {
	name  string
	code  room.Code
	room  int
	entry string // the front URL it enters through
	rcv   *loadtest.Receiver
	c     *client.Client

	joined  time.Duration // RequestJoin to welcome, set when it got in
	failure string        // why it could not join, or ""
	node    string        // the node hosting its meeting, from the signal URL
	after   string        // the node hosting it after the kill, once recovered

	affected  bool          // its meeting was on the killed node
	rejoined  time.Duration // kill to a successful Rejoin
	recovered time.Duration // kill to back in, when it came back
	lost      string        // why it did not come back within recoveryLimit
}

// rooms spreads meetings over the nodes of a cluster and, when told to,
// kills one node and measures how long its participants take to be back.
func rooms(args []string, stdout, stderr io.Writer) int {
	cfg, ok := parseRooms(args, stderr)
	if !ok {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	rep, err := runRooms(ctx, cfg, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "visio-load rooms: %v\n", err)
		return 1
	}
	fmt.Fprint(stdout, rep.String())
	return 0
}

func parseRooms(args []string, stderr io.Writer) (roomsConfig, bool) {
	fs := flag.NewFlagSet("visio-load rooms", flag.ContinueOnError)
	fs.SetOutput(stderr)
	urls := fs.String("url", "", "base URLs of the cluster's nodes, comma separated (required); participants enter through them in turn")
	pids := fs.String("pids", "", "process ids of the nodes, comma separated, in the order of --url: their CPU is reported")
	var cfg roomsConfig
	fs.IntVar(&cfg.rooms, "rooms", 10, "meetings, each at a new random code")
	fs.IntVar(&cfg.perRoom, "per-room", 4, "participants in each meeting")
	fs.BoolVar(&cfg.audio, "audio", false, "each participant publishes a microphone")
	fs.IntVar(&cfg.parallel, "parallel", 4, "participants joining at the same time")
	fs.DurationVar(&cfg.duration, "duration", 30*time.Second, "how long everyone stays once all have joined")
	fs.DurationVar(&cfg.killAfter, "kill-after", 0, "once all have joined, wait this long, then SIGKILL the node of --kill-url")
	fs.IntVar(&cfg.killPID, "kill-pid", 0, "process id of the node to kill (default: its entry in --pids)")
	fs.StringVar(&cfg.killURL, "kill-url", "", "base URL of the node to kill, or \"busiest\": the one with the most rooms")
	fs.DurationVar(&cfg.recoveryLimit, "recovery-limit", 30*time.Second, "after the kill, how long its participants have to be back before they count as not recovered")
	if err := fs.Parse(args); err != nil {
		return cfg, false
	}
	for u := range strings.SplitSeq(*urls, ",") {
		if u = strings.TrimRight(strings.TrimSpace(u), "/"); u != "" {
			cfg.entries = append(cfg.entries, u)
		}
	}
	for p := range strings.SplitSeq(*pids, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		n, err := strconv.Atoi(p)
		if err != nil {
			fmt.Fprintf(stderr, "visio-load rooms: --pids: %q is no process id\n", p)
			return cfg, false
		}
		cfg.pids = append(cfg.pids, n)
	}
	cfg.killURL = strings.TrimRight(cfg.killURL, "/")
	switch {
	case len(cfg.entries) == 0:
		fmt.Fprintln(stderr, "visio-load rooms: --url is required: the nodes' base URLs, such as http://127.0.0.1:8080")
	case len(cfg.pids) > 0 && len(cfg.pids) != len(cfg.entries):
		fmt.Fprintln(stderr, "visio-load rooms: give --pids one process id for each URL of --url, in the same order")
	case cfg.rooms < 1 || cfg.perRoom < 1 || cfg.parallel < 1 || cfg.recoveryLimit <= 0:
		fmt.Fprintln(stderr, "visio-load rooms: --rooms, --per-room and --parallel must be at least 1, --recovery-limit above 0")
	case cfg.killAfter > 0 && cfg.killAfter >= cfg.duration:
		fmt.Fprintln(stderr, "visio-load rooms: --kill-after must be shorter than --duration (give the recovery time too)")
	case cfg.killAfter > 0 && cfg.killURL == "":
		fmt.Fprintln(stderr, "visio-load rooms: --kill-after needs --kill-url (a node's URL, or busiest)")
	case cfg.killAfter > 0 && cfg.killPID == 0 && len(cfg.pids) == 0:
		fmt.Fprintln(stderr, "visio-load rooms: --kill-after needs --kill-pid, or --pids to find the node's process")
	case cfg.killURL == busiest && cfg.killPID != 0:
		fmt.Fprintln(stderr, "visio-load rooms: --kill-url=busiest picks the process from --pids; drop --kill-pid")
	case cfg.killAfter > 0 && cfg.killURL != busiest && cfg.killPID == 0 && indexOf(cfg.entries, cfg.killURL) < 0:
		fmt.Fprintln(stderr, "visio-load rooms: --kill-url is none of --url: give --kill-pid too")
	default:
		return cfg, true
	}
	return cfg, false
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// runRooms joins everyone, holds the meetings, kills a node if asked, and
// reports.
func runRooms(ctx context.Context, cfg roomsConfig, progress io.Writer) (*roomsReport, error) {
	fr, err := startFront(cfg.entries)
	if err != nil {
		return nil, err
	}
	defer fr.close()
	poller, err := loadtest.NewPoller()
	if err != nil {
		return nil, err
	}
	defer poller.Close()
	log := slog.New(slog.DiscardHandler)
	people := make([]*participant, 0, cfg.rooms*cfg.perRoom)
	for r := range cfg.rooms {
		code := room.NewCode()
		for i := range cfg.perRoom {
			g := len(people)
			people = append(people, &participant{
				name: fmt.Sprintf("Robot %d.%d", r+1, i+1), code: code, room: r,
				entry: fr.entry(g % len(cfg.entries)), rcv: loadtest.NewReceiver(time.Now(), poller),
			})
		}
	}
	defer leaveAll(people)

	rep := &roomsReport{cfg: cfg, people: people, start: time.Now()}
	rep.cpu.start(cfg.pids)
	start := rep.start
	fmt.Fprintf(progress, "rooms: %d participants join %d rooms through %d entry points\n", len(people), cfg.rooms, len(cfg.entries))
	joinAll(ctx, people, cfg, log)
	rep.joinPhase = time.Since(start)
	fmt.Fprintf(progress, "rooms: joins done in %v\n", rep.joinPhase.Round(time.Millisecond))

	hold, cancel := context.WithTimeout(ctx, cfg.duration)
	defer cancel()
	if cfg.killAfter > 0 {
		select {
		case <-time.After(cfg.killAfter):
		case <-hold.Done():
		}
		if hold.Err() == nil {
			if err := killAndRecover(ctx, rep, progress); err != nil {
				return nil, err
			}
		}
	}
	<-hold.Done()
	rep.wall = time.Since(start)
	rep.cpu.stop()
	rep.held = countHeld(people)
	rep.split = rep.splitRooms()
	return rep, nil
}

// joinAll brings everyone in, cfg.parallel at a time.
func joinAll(ctx context.Context, people []*participant, cfg roomsConfig, log *slog.Logger) {
	work := make(chan *participant)
	var wg sync.WaitGroup
	for range cfg.parallel {
		wg.Go(func() {
			for p := range work {
				p.join(ctx, cfg.audio, log)
			}
		})
	}
	for _, p := range people {
		if ctx.Err() != nil {
			break
		}
		work <- p
	}
	close(work)
	wg.Wait()
}

func (p *participant) join(ctx context.Context, audio bool, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, joinLimit)
	defer cancel()
	opts := client.Options{URL: p.entry, Room: string(p.code), Name: p.name, Logger: log,
		// Counting RTP at the socket, undecrypted, keeps the generator
		// cheaper than the nodes it loads.
		WrapConn: func(conn *net.UDPConn, subscribe bool) net.PacketConn {
			if subscribe {
				return p.rcv.Wrap(conn)
			}
			return conn
		}}
	began := time.Now()
	c, err := client.Join(ctx, opts)
	if err != nil {
		p.failure = joinFailure(err)
		return
	}
	p.joined, p.c = time.Since(began), c
	p.node = nodeOfSignalURL(c.SignalURL())
	if audio {
		if err := c.Publish(ctx, protocol.SourceMicrophone); err != nil {
			p.failure = "publish: " + joinFailure(err)
		}
	}
}

// killAndRecover kills the node, then brings back each participant whose
// meeting it hosted, and times them.
func killAndRecover(ctx context.Context, rep *roomsReport, progress io.Writer) error {
	url, pid := rep.cfg.killURL, rep.cfg.killPID
	if url == busiest {
		url = rep.busiestNode()
	}
	if pid == 0 {
		i := indexOf(rep.cfg.entries, url)
		if i < 0 {
			return fmt.Errorf("no process id for node %q: give --kill-pid", url)
		}
		pid = rep.cfg.pids[i]
	}
	rep.killedURL = url
	rep.cpu.sample() // the killed node's CPU stops with it
	fmt.Fprintf(progress, "rooms: SIGKILL to %s (pid %d)\n", url, pid)
	killed := time.Now()
	rep.killedAt = killed
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill node %s (pid %d): %w", url, pid, err)
	}
	var wg sync.WaitGroup
	for _, p := range rep.people {
		if p.c == nil || p.node != url {
			continue
		}
		p.affected = true
		wg.Go(func() { p.recover(ctx, killed, killed.Add(rep.cfg.recoveryLimit), rep.roommates(p), rep.cfg.audio) })
	}
	wg.Wait()
	fmt.Fprintf(progress, "rooms: recovery done %v after the kill\n", time.Since(killed).Round(time.Millisecond))
	return nil
}

// recover rejoins until it is back in, sees the others of its room and,
// with audio, hears from them again.
func (p *participant) recover(ctx context.Context, killed, deadline time.Time, others int, audio bool) {
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var last error
	for {
		attempt, cancelAttempt := context.WithTimeout(ctx, 10*time.Second)
		last = p.c.Rejoin(attempt)
		cancelAttempt()
		if last == nil || ctx.Err() != nil {
			break
		}
		select {
		case <-time.After(250 * time.Millisecond):
		case <-ctx.Done():
		}
	}
	if last != nil {
		p.lost = "rejoin: " + joinFailure(last)
		return
	}
	p.rejoined = time.Since(killed)
	if err := p.c.WaitFor(ctx, func(s client.State) bool { return len(s.Others) >= others }); err != nil {
		p.lost = fmt.Sprintf("sees %d of %d others", len(p.c.State().Others), others)
		return
	}
	if audio {
		// Half a second of each other's microphone (50 packets/s) since
		// the rejoin: they are heard again.
		from := p.rcv.Totals().Packets
		if err := waitUntil(ctx, func() bool { return p.rcv.Totals().Packets-from >= 25*others }); err != nil {
			p.lost = fmt.Sprintf("received %d packets from %d others since the rejoin", p.rcv.Totals().Packets-from, others)
			return
		}
	}
	p.recovered = time.Since(killed)
	p.after = nodeOfSignalURL(p.c.SignalURL())
}

func waitUntil(ctx context.Context, cond func() bool) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}

// countHeld counts the participants still in their meetings at the end.
func countHeld(people []*participant) int {
	n := 0
	for _, p := range people {
		if p.c == nil {
			continue
		}
		if s := p.c.State(); s.Self.ID != "" && !s.Closed {
			n++
		}
	}
	return n
}

// leaveAll says goodbye for everyone at once, giving each a moment.
func leaveAll(people []*participant) {
	var wg sync.WaitGroup
	for _, p := range people {
		if p.c == nil {
			continue
		}
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_ = p.c.Leave(ctx)
		})
	}
	wg.Wait()
}
