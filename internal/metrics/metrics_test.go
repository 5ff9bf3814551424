package metrics

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/visio-meet/visio/internal/metrics/metricstest"
	"github.com/visio-meet/visio/internal/sfu"
)

// node stands for the parts of a server the metrics read.
type node struct {
	mu                     sync.Mutex
	meetings, participants int
	media                  sfu.EngineStats
	cluster                ClusterStats
}

func (n *node) counts() (int, int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.meetings, n.participants
}

func (n *node) mediaStats() sfu.EngineStats {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.media
}

func (n *node) clusterStats() ClusterStats {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cluster
}

func (n *node) set(change func(*node)) {
	n.mu.Lock()
	defer n.mu.Unlock()
	change(n)
}

// serve starts an endpoint for m, as an operator's Prometheus would reach it.
func serve(t *testing.T, m *Metrics) string {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}

func scrape(t *testing.T, url string) metricstest.Scrape {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := metricstest.Get(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// expect checks the value of one series.
func expect(t *testing.T, s metricstest.Scrape, want float64, name string, labels ...string) {
	t.Helper()
	got, ok := s.Value(name, labels...)
	if !ok {
		t.Errorf("%s%v is missing", name, labels)
	} else if got != want {
		t.Errorf("%s%v = %v, want %v", name, labels, got, want)
	}
}

func TestScrapesReadTheNodeAsItIsNow(t *testing.T) {
	n := &node{meetings: 2, participants: 5, media: sfu.EngineStats{
		AudioTracks: 5, VideoTracks: 3, DownTracks: 32,
		PacketsIn: 1000, BytesIn: 900_000, PacketsOut: 8000, BytesOut: 7_200_000,
		PacketsLostIn: 7, PacketsLostOut: 12, NACKs: 40, Retransmits: 31,
	}}
	url := serve(t, New(Config{Meetings: n.counts, Media: n.mediaStats, Version: "v1.2.3", Log: slog.New(slog.DiscardHandler)}))

	s := scrape(t, url)
	expect(t, s, 2, "visio_meetings")
	expect(t, s, 5, "visio_participants")
	expect(t, s, 5, "visio_tracks", "kind", "audio")
	expect(t, s, 3, "visio_tracks", "kind", "video")
	expect(t, s, 32, "visio_subscriptions")
	expect(t, s, 1000, "visio_rtp_packets_total", "direction", "in")
	expect(t, s, 8000, "visio_rtp_packets_total", "direction", "out")
	expect(t, s, 900_000, "visio_rtp_bytes_total", "direction", "in")
	expect(t, s, 7_200_000, "visio_rtp_bytes_total", "direction", "out")
	expect(t, s, 7, "visio_rtp_packets_lost_total", "direction", "in")
	expect(t, s, 12, "visio_rtp_packets_lost_total", "direction", "out")
	expect(t, s, 40, "visio_nack_total")
	expect(t, s, 31, "visio_rtp_retransmits_total")
	expect(t, s, 1, "visio_build_info", "version", "v1.2.3", "goversion", runtime.Version())
	for name, f := range s.Families {
		if f.GetHelp() == "" {
			t.Errorf("%s has no help text", name)
		}
	}
	if _, ok := s.Value("go_goroutines"); !ok {
		t.Error("the Go runtime's metrics are missing")
	}
	if _, ok := s.Value("process_cpu_seconds_total"); !ok && runtime.GOOS == "linux" {
		t.Error("the process's CPU time is missing")
	}

	// The next scrape sees what changed meanwhile.
	n.set(func(n *node) {
		n.participants = 4
		n.media.PacketsOut += 500
		n.media.VideoTracks = 2
	})
	s = scrape(t, url)
	expect(t, s, 4, "visio_participants")
	expect(t, s, 8500, "visio_rtp_packets_total", "direction", "out")
	expect(t, s, 2, "visio_tracks", "kind", "video")
}

func TestClusterMetricsOnlyWithACluster(t *testing.T) {
	n := &node{}
	s := scrape(t, serve(t, New(Config{Meetings: n.counts, Media: n.mediaStats, Log: slog.New(slog.DiscardHandler)})))
	for _, name := range []string{"visio_cluster_nats_connected", "visio_cluster_nodes", "visio_cluster_nats_rtt_seconds", "visio_cluster_nats_reconnects_total"} {
		if _, ok := s.Value(name); ok {
			t.Errorf("%s is served by a node without a cluster", name)
		}
	}

	n.cluster = ClusterStats{Connected: true, Nodes: 3, RTT: 1500 * time.Microsecond, Reconnects: 2}
	url := serve(t, New(Config{Meetings: n.counts, Media: n.mediaStats, Cluster: n.clusterStats, Log: slog.New(slog.DiscardHandler)}))
	s = scrape(t, url)
	expect(t, s, 1, "visio_cluster_nats_connected")
	expect(t, s, 3, "visio_cluster_nodes")
	expect(t, s, 0.0015, "visio_cluster_nats_rtt_seconds")
	expect(t, s, 2, "visio_cluster_nats_reconnects_total")

	// Cut off from NATS: the round trip of a link that is down means nothing.
	n.set(func(n *node) { n.cluster = ClusterStats{Nodes: 1, RTT: 1500 * time.Microsecond, Reconnects: 2} })
	s = scrape(t, url)
	expect(t, s, 0, "visio_cluster_nats_connected")
	expect(t, s, 1, "visio_cluster_nodes")
	if _, ok := s.Value("visio_cluster_nats_rtt_seconds"); ok {
		t.Error("a round trip is reported while disconnected from NATS")
	}
}
