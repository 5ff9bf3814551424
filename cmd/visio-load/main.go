// Command visio-load measures a Visio server under load: synthetic
// participants join a meeting through the real signalling and media, and the
// server's CPU time per outgoing RTP packet is compared, in the same run,
// with a plain UDP send loop on the same machine. See BENCHMARKS.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/visio-meet/visio/internal/loadtest"
)

const usage = `Usage:
  visio-load [flags] SCENARIO...     run scenarios: audio, video, mixed (or all), ramp
  visio-load fill --url URL --room CODE [--cameras N] [--speakers N] [--microphones N]
                                     keep synthetic participants in a meeting (see a large one in a browser)
  visio-load rooms --url URL[,URL...] [--rooms N] [--per-room M] [--audio] [--kill-url URL|busiest --kill-after D]
                                     spread meetings over a cluster's nodes; kill one and time the recovery
  visio-load udp-baseline [flags]    (used by visio-load itself) send UDP at a rate and report the CPU spent

Without --url, visio-load starts its own server with --visio (default: bin/visio).

Flags:
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "udp-baseline" {
		return udpBaseline(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "fill" {
		return fill(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "rooms" {
		return rooms(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("visio-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	visio := fs.String("visio", "bin/visio", "visio binary to start a server with")
	url := fs.String("url", "", "base URL of a running server (then --pid is needed)")
	pid := fs.Int("pid", 0, "process id of the running server, for its CPU and memory")
	duration := fs.Duration("duration", 20*time.Second, "measurement window per scenario")
	baseline := fs.Duration("baseline", 10*time.Second, "duration of the UDP send loop baseline; 0 skips it")
	subscribers := fs.Int("subscribers", 0, "override the scenario's number of subscribers")
	maxSubscribers := fs.Int("max-subscribers", 1000, "where the ramp stops if the server still keeps up")
	verbose := fs.Bool("v", false, "log the clients' and server's warnings")
	cpuProfile := fs.String("cpuprofile", "", "write the load generator's own CPU profile to this file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	names := fs.Args()
	if len(names) == 0 || (len(names) == 1 && names[0] == "all") {
		names = nil
		for _, s := range loadtest.Scenarios {
			names = append(names, s.Name)
		}
	}
	var scenarios []loadtest.Scenario
	for _, n := range names {
		s, ok := loadtest.FindScenario(n)
		if n == loadtest.RampScenario.Name {
			s, ok = loadtest.RampScenario, true
		}
		if !ok {
			fmt.Fprintf(stderr, "visio-load: unknown scenario %q\n", n)
			return 2
		}
		if *subscribers > 0 {
			s.Subscribers = *subscribers
		}
		scenarios = append(scenarios, s)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "visio-load: %v\n", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "visio-load: %v\n", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	log := slog.New(slog.DiscardHandler)
	if *verbose {
		log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	opts := loadtest.Options{Duration: *duration, Log: log, Progress: stderr}

	var rows []string
	for _, s := range scenarios {
		target := loadtest.Target{URL: *url, PID: *pid}
		var stopServer func()
		if *url == "" {
			var err error
			target, stopServer, err = startServer(ctx, *visio, *verbose, stderr)
			if err != nil {
				fmt.Fprintf(stderr, "visio-load: %v\n", err)
				return 1
			}
		}
		var results []*loadtest.Result
		var err error
		if s.Name == loadtest.RampScenario.Name {
			results, err = loadtest.Ramp(ctx, target, s, *maxSubscribers, opts)
		} else {
			var res *loadtest.Result
			if res, err = loadtest.Run(ctx, target, s, opts); res != nil {
				results = []*loadtest.Result{res}
			}
		}
		if stopServer != nil {
			stopServer()
		}
		if err != nil && len(results) == 0 {
			fmt.Fprintf(stderr, "visio-load: %s: %v\n", s.Name, err)
			return 1
		}
		if err != nil {
			fmt.Fprintf(stderr, "visio-load: %s stopped: %v\n", s.Name, err)
		}
		res := results[len(results)-1]
		var base time.Duration
		if *baseline > 0 && res.OutPerSecond > 0 {
			fmt.Fprintf(stderr, "%s: UDP send loop at %.0f packets/s for %v\n", s.Name, res.OutPerSecond, *baseline)
			if base, err = measureBaseline(ctx, int(res.OutPerSecond), res.AvgPacketBytes, *baseline); err != nil {
				fmt.Fprintf(stderr, "visio-load: baseline: %v\n", err)
				return 1
			}
		}
		for _, r := range results[:len(results)-1] {
			rows = append(rows, row(r, 0))
		}
		rows = append(rows, row(res, base))
		fmt.Fprintln(stdout, header)
		fmt.Fprintln(stdout, strings.Join(rows, "\n"))
		if s.Name == loadtest.RampScenario.Name {
			fmt.Fprintln(stdout, capacity(results))
		}
	}
	return 0
}

// capacity says how many subscribers the ramp's last good step held.
func capacity(results []*loadtest.Result) string {
	best := 0
	for _, r := range results {
		if r.Loss >= loadtest.RampMaxLoss || r.ICERoundTrip >= loadtest.RampMaxRTT {
			break
		}
		best = r.Scenario.Subscribers
	}
	return fmt.Sprintf("\nCapacity: %d subscribers of %d audio publishers with under %.1f%% loss and a round trip under %v.",
		best, loadtest.RampScenario.AudioPublishers, 100*loadtest.RampMaxLoss, loadtest.RampMaxRTT)
}

const header = `| Scenario | Publishers → subscribers | Out pkt/s | In pkt/s | Server cores | **Server µs / out pkt** | UDP send µs / pkt | Ratio | Generator cores | Loss | Delay p50 / p99 | Jitter | ICE RTT | Join p50 / p95 | Server memory / participant |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|`

func row(r *loadtest.Result, base time.Duration) string {
	s := r.Scenario
	pubs := []string{}
	if s.AudioPublishers > 0 {
		pubs = append(pubs, fmt.Sprintf("%d audio", s.AudioPublishers))
	}
	if s.VideoPublishers > 0 {
		pubs = append(pubs, fmt.Sprintf("%d video", s.VideoPublishers))
	}
	us := func(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(time.Microsecond)) }
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
	baseCol, ratio := "—", "—"
	if base > 0 {
		baseCol, ratio = us(base), fmt.Sprintf("%.2f", float64(r.ServerPerPacket)/float64(base))
	}
	return fmt.Sprintf("| %s | %s → %d | %.0f | %.0f | %.2f | **%s** | %s | %s | %.2f | %.3f%% | %s / %s | %s | %s | %s / %s | %.0f KiB |",
		s.Name, strings.Join(pubs, " + "), s.Subscribers, r.OutPerSecond, r.InPerSecond, r.ServerCores,
		us(r.ServerPerPacket), baseCol, ratio, r.GeneratorCores, 100*r.Loss, ms(r.DelayP50), ms(r.DelayP99),
		ms(r.Jitter), ms(r.ICERoundTrip), ms(r.JoinP50), ms(r.JoinP95), float64(r.MemoryPerPeer)/1024)
}

// startServer runs `visio serve` on free loopback ports.
func startServer(ctx context.Context, visio string, verbose bool, stderr io.Writer) (loadtest.Target, func(), error) {
	httpPort, err := freePort("tcp")
	if err != nil {
		return loadtest.Target{}, nil, err
	}
	udpPort, err := freePort("udp")
	if err != nil {
		return loadtest.Target{}, nil, err
	}
	level := "error"
	if verbose {
		level = "warn"
	}
	dir, err := os.MkdirTemp("", "visio-load-")
	if err != nil {
		return loadtest.Target{}, nil, err
	}
	// Synthetic participants meet at codes nobody created, from one
	// address: the server's join limit would stop them.
	cmd := exec.Command(visio, "serve", "--http.addr=127.0.0.1:"+strconv.Itoa(httpPort),
		"--media.udp_port="+strconv.Itoa(udpPort), "--media.tcp_port=0", "--rooms.max_participants=5000", "--log.level="+level,
		"--database.url=sqlite:"+filepath.Join(dir, "visio.db"), "--rooms.allow_unregistered=true", "--limits.joins_per_minute=0")
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return loadtest.Target{}, nil, fmt.Errorf("start %s: %w (build it with make build, or pass --visio)", visio, err)
	}
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		_ = os.RemoveAll(dir)
	}
	url := "http://127.0.0.1:" + strconv.Itoa(httpPort)
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := http.Get(url + "/healthz")
		if err == nil {
			res.Body.Close()
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			stop()
			return loadtest.Target{}, nil, fmt.Errorf("%s did not start", visio)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return loadtest.Target{URL: url, PID: cmd.Process.Pid}, stop, nil
}

func freePort(network string) (int, error) {
	if network == "udp" {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port, nil
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// measureBaseline runs the UDP send loop in a child process, so that its CPU
// time is accounted alone, and returns its CPU time per packet.
func measureBaseline(ctx context.Context, rate, size int, d time.Duration) (time.Duration, error) {
	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return 0, err
	}
	drained := make(chan int, 1)
	go func() { drained <- loadtest.Drain(sink) }()
	self, err := os.Executable()
	if err != nil {
		return 0, err
	}
	out, err := exec.CommandContext(ctx, self, "udp-baseline", "--addr", sink.LocalAddr().String(),
		"--rate", strconv.Itoa(rate), "--size", strconv.Itoa(max(size, 12)), "--duration", d.String()).Output()
	_ = sink.Close()
	<-drained
	if err != nil {
		return 0, fmt.Errorf("udp-baseline: %w", err)
	}
	var cpu, packets int64
	if _, err := fmt.Sscanf(string(out), "%d %d", &cpu, &packets); err != nil || packets == 0 {
		return 0, fmt.Errorf("udp-baseline printed %q", out)
	}
	return time.Duration(cpu / packets), nil
}

// udpBaseline is the child side of measureBaseline: it prints the CPU time
// it used, in nanoseconds, and the packets it sent.
func udpBaseline(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("udp-baseline", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "", "where to send")
	rate := fs.Int("rate", 75000, "packets per second")
	size := fs.Int("size", 1200, "datagram size")
	duration := fs.Duration("duration", 10*time.Second, "how long")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), *duration)
	defer cancel()
	start := loadtest.SelfCPU()
	sent, err := loadtest.SendLoop(ctx, *addr, *rate, *size)
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintf(stdout, "%d %d\n", int64(loadtest.SelfCPU()-start), sent)
	return 0
}
