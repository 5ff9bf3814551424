// Package loadtest drives a Visio server with synthetic participants that
// join through the real signalling and media, and measures what the server
// costs: CPU time per outgoing RTP packet (from the kernel's accounting of the
// server process), packet rates, loss, delay, jitter, join time and memory,
// next to the cost of a plain UDP send loop on the same machine.
package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/visio-meet/visio/internal/client"
	"github.com/visio-meet/visio/internal/protocol"
	"github.com/visio-meet/visio/internal/room"
)

// Scenario says who joins one meeting. Subscribers publish nothing. Video
// publishers send a simulcast camera (150, 500 and 1,500 kbit/s), and
// subscribers receive its full layer.
type Scenario struct {
	Name            string
	AudioPublishers int
	VideoPublishers int
	Subscribers     int
}

// Scenarios are the standard runs of BENCHMARKS.md.
var Scenarios = []Scenario{
	{Name: "audio", AudioPublishers: 10, Subscribers: 150},
	{Name: "video", VideoPublishers: 1, Subscribers: 200},
	{Name: "mixed", AudioPublishers: 10, VideoPublishers: 10, Subscribers: 20},
}

// RampScenario is the start of the ramp: its subscribers grow by RampStep
// until the server no longer keeps up (RampLimits).
var RampScenario = Scenario{Name: "ramp", AudioPublishers: 10, Subscribers: 50}

// The ramp's step and what counts as keeping up.
const (
	RampStep    = 50
	RampMaxLoss = 0.005
	RampMaxRTT  = 15 * time.Millisecond
)

// FindScenario returns the standard scenario with that name.
func FindScenario(name string) (Scenario, bool) {
	i := slices.IndexFunc(Scenarios, func(s Scenario) bool { return s.Name == name })
	if i < 0 {
		return Scenario{}, false
	}
	return Scenarios[i], true
}

// Target is the server under test.
type Target struct {
	URL string
	PID int // its process, for CPU and memory accounting
}

// Options tune a run.
type Options struct {
	Duration    time.Duration // measurement window; default 20 s
	Warmup      time.Duration // before measuring; default 3 s
	Parallelism int           // joins in flight; default 8
	Log         *slog.Logger
	Progress    io.Writer // a line per step; nil for none
}

func (o *Options) defaults() {
	if o.Duration <= 0 {
		o.Duration = 20 * time.Second
	}
	if o.Warmup <= 0 {
		o.Warmup = 3 * time.Second
	}
	if o.Parallelism <= 0 {
		o.Parallelism = 8
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
}

// Result is what one run measured.
type Result struct {
	Scenario        Scenario
	Window          time.Duration
	PacketsOut      int
	OutPerSecond    float64 // RTP packets the subscribers received, per second
	InPerSecond     float64 // RTP packets the publishers sent (every simulcast layer), per second
	AvgPacketBytes  int
	ServerCores     float64
	ServerPerPacket time.Duration // server CPU time per outgoing packet
	GeneratorCores  float64
	Loss            float64 // fraction of packets never received
	DelayP50        time.Duration
	DelayP99        time.Duration
	Jitter          time.Duration // largest stream jitter seen by a subscriber
	ICERoundTrip    time.Duration // of the subscriber that reads at once
	JoinP50         time.Duration // from dialling to the first media packet
	JoinP95         time.Duration
	MemoryPerPeer   int64 // server resident memory added per participant, bytes
}

// meeting is one run's participants.
type meeting struct {
	code        room.Code
	epoch       time.Time
	poller      *Poller // reads every receiver's socket but the first subscriber's
	streams     int     // published tracks: what each subscriber receives
	rssBefore   int64
	publishers  []*client.Client
	subscribers []*client.Client
	receivers   []*Receiver // the subscribers', in their order
	// What publishers receive of each other counts as well: the server sends
	// it. Their receivers are not in receivers, which pairs with subscribers.
	publisherReceivers []*Receiver
	joinTimes          []time.Duration
}

// everyReceiver returns the subscribers' receivers and the publishers'.
func (m *meeting) everyReceiver() []*Receiver {
	return slices.Concat(m.receivers, m.publisherReceivers)
}

func (m *meeting) close() {
	var wg sync.WaitGroup
	for _, c := range slices.Concat(m.publishers, m.subscribers) {
		wg.Go(c.Kill)
	}
	wg.Wait()
	_ = m.poller.Close()
}

// Run runs scenario s against target and measures it.
func Run(ctx context.Context, target Target, s Scenario, opts Options) (*Result, error) {
	opts.defaults()
	m, err := start(ctx, target, s, opts)
	if err != nil {
		return nil, err
	}
	defer m.close()
	return m.measureAfterWarmup(ctx, target, s, opts)
}

// Ramp runs scenario s (usually RampScenario), then adds RampStep
// subscribers at a time, measuring after each step, until loss or the round
// trip exceed RampLimits or maxSubscribers is reached. It returns every
// step's result; the last one within the limits is the capacity.
func Ramp(ctx context.Context, target Target, s Scenario, maxSubscribers int, opts Options) ([]*Result, error) {
	opts.defaults()
	m, err := start(ctx, target, s, opts)
	if err != nil {
		return nil, err
	}
	defer m.close()
	var results []*Result
	for {
		r, err := m.measureAfterWarmup(ctx, target, s, opts)
		if err != nil {
			return results, err
		}
		results = append(results, r)
		if r.Loss >= RampMaxLoss || r.ICERoundTrip >= RampMaxRTT || s.Subscribers+RampStep > maxSubscribers {
			return results, nil
		}
		s.Subscribers += RampStep
		fmt.Fprintf(opts.Progress, "%s: %d more subscribers join\n", s.Name, RampStep)
		if err := m.addSubscribers(ctx, target, m.code, m.epoch, RampStep, m.streams, opts); err != nil {
			return results, err
		}
	}
}

// start joins the publishers and subscribers of s.
func start(ctx context.Context, target Target, s Scenario, opts Options) (*meeting, error) {
	poller, err := NewPoller()
	if err != nil {
		return nil, err
	}
	m := &meeting{code: room.NewCode(), epoch: time.Now(), poller: poller}
	if m.rssBefore, err = ProcessRSS(target.PID); err != nil {
		m.close()
		return nil, err
	}
	fmt.Fprintf(opts.Progress, "%s: %d audio and %d video publishers join %s\n", s.Name, s.AudioPublishers, s.VideoPublishers, m.code)
	for i := range s.AudioPublishers + s.VideoPublishers {
		source := protocol.SourceMicrophone
		if i >= s.AudioPublishers {
			source = protocol.SourceCamera
		}
		r := NewReceiver(m.epoch, m.poller)
		c, err := client.Join(ctx, client.Options{URL: target.URL, Room: string(m.code), Name: fmt.Sprintf("publisher %d", i),
			Epoch: m.epoch, Logger: opts.Log, Simulcast: true, WrapConn: r.wrapSubscribe})
		if err != nil {
			m.close()
			return nil, fmt.Errorf("publisher %d: %w", i, err)
		}
		m.publishers = append(m.publishers, c)
		m.publisherReceivers = append(m.publisherReceivers, r)
		if err := c.Publish(ctx, source); err != nil {
			m.close()
			return nil, fmt.Errorf("publisher %d: %w", i, err)
		}
	}
	m.streams = s.AudioPublishers + s.VideoPublishers
	fmt.Fprintf(opts.Progress, "%s: %d subscribers join\n", s.Name, s.Subscribers)
	if err := m.addSubscribers(ctx, target, m.code, m.epoch, s.Subscribers, m.streams, opts); err != nil {
		m.close()
		return nil, err
	}
	return m, nil
}

// measureAfterWarmup lets the meeting settle, then measures it.
func (m *meeting) measureAfterWarmup(ctx context.Context, target Target, s Scenario, opts Options) (*Result, error) {
	rssAfter, err := ProcessRSS(target.PID)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(opts.Progress, "%s: %d subscribers: warming up for %v, then measuring for %v\n", s.Name, len(m.subscribers), opts.Warmup, opts.Duration)
	if err := sleep(ctx, opts.Warmup); err != nil {
		return nil, err
	}
	r, err := m.measure(ctx, target, opts.Duration)
	if err != nil {
		return nil, err
	}
	r.Scenario = s
	r.Scenario.Subscribers = len(m.subscribers)
	r.MemoryPerPeer = (rssAfter - m.rssBefore) / int64(len(m.publishers)+len(m.subscribers))
	r.JoinP50, r.JoinP95 = percentile(m.joinTimes, 0.5), percentile(m.joinTimes, 0.95)
	return r, nil
}

// addSubscribers joins n subscribers and waits until each receives all
// streams.
func (m *meeting) addSubscribers(ctx context.Context, target Target, code room.Code, epoch time.Time, n, streams int, opts Options) error {
	type joined struct {
		c    *client.Client
		r    *Receiver
		took time.Duration
		err  error
	}
	results := make(chan joined, n)
	sem := make(chan struct{}, opts.Parallelism)
	base := len(m.subscribers)
	for i := range n {
		go func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			// The first subscriber reads at once: its ICE checks measure the
			// round trip through the server; the poller reads the others.
			poller := m.poller
			if base+i == 0 {
				poller = nil
			}
			r := NewReceiver(epoch, poller)
			start := time.Now()
			c, err := client.Join(ctx, client.Options{
				URL: target.URL, Room: string(code), Name: fmt.Sprintf("subscriber %d", base+i), Logger: opts.Log,
				WrapConn: r.wrapSubscribe,
			})
			if err != nil {
				results <- joined{err: fmt.Errorf("subscriber %d: %w", base+i, err)}
				return
			}
			err = waitFor(ctx, 60*time.Second, func() bool { return r.streamCount() >= streams })
			if err != nil {
				err = fmt.Errorf("subscriber %d received %d of %d streams: %w", base+i, r.streamCount(), streams, err)
			}
			results <- joined{c: c, r: r, took: r.FirstPacket().Sub(start), err: err}
		}()
	}
	var errs []error
	for range n {
		j := <-results
		if j.c != nil {
			m.subscribers = append(m.subscribers, j.c)
			m.receivers = append(m.receivers, j.r)
			m.joinTimes = append(m.joinTimes, j.took)
		}
		if j.err != nil {
			errs = append(errs, j.err)
		}
	}
	return errors.Join(errs...)
}

func (r *Receiver) streamCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.streams)
}

// measure samples every counter over the window.
func (m *meeting) measure(ctx context.Context, target Target, window time.Duration) (*Result, error) {
	type sample struct {
		at                time.Time
		server, self      time.Duration
		packets, expected int
		bytes             int64
		published         int64 // packets the publishers sent
	}
	take := func() (sample, error) {
		s := sample{at: time.Now(), self: SelfCPU()}
		var err error
		if s.server, err = ProcessCPU(target.PID); err != nil {
			return s, err
		}
		for _, r := range m.everyReceiver() {
			t := r.Totals()
			s.packets += t.Packets
			s.expected += t.Expected
			s.bytes += t.Bytes
		}
		for _, p := range m.publishers {
			s.published += p.SentPackets()
		}
		return s, nil
	}
	for _, r := range m.everyReceiver() {
		r.TakeDelays()
	}
	before, err := take()
	if err != nil {
		return nil, err
	}
	if err := sleep(ctx, window); err != nil {
		return nil, err
	}
	after, err := take()
	if err != nil {
		return nil, err
	}
	var delays Histogram
	res := &Result{}
	for _, r := range m.everyReceiver() {
		d := r.TakeDelays()
		delays.Merge(&d)
		res.Jitter = max(res.Jitter, r.Totals().Jitter)
	}
	for i, r := range m.receivers {
		if r.poller == nil {
			res.ICERoundTrip = m.subscribers[i].ICERoundTrip()
		}
	}
	dt := after.at.Sub(before.at)
	res.Window = dt
	res.PacketsOut = after.packets - before.packets
	res.OutPerSecond = float64(res.PacketsOut) / dt.Seconds()
	res.InPerSecond = float64(after.published-before.published) / dt.Seconds()
	if res.PacketsOut > 0 {
		res.AvgPacketBytes = int((after.bytes - before.bytes) / int64(res.PacketsOut))
		res.ServerPerPacket = (after.server - before.server) / time.Duration(res.PacketsOut)
	}
	res.ServerCores = (after.server - before.server).Seconds() / dt.Seconds()
	res.GeneratorCores = (after.self - before.self).Seconds() / dt.Seconds()
	if expected := after.expected - before.expected; expected > 0 {
		res.Loss = max(0, 1-float64(res.PacketsOut)/float64(expected))
	}
	res.DelayP50, res.DelayP99 = delays.Quantile(0.5), delays.Quantile(0.99)
	return res, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func waitFor(ctx context.Context, timeout time.Duration, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return errors.New("timed out")
		}
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[int(q*float64(len(s)-1))]
}
