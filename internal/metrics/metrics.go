// Package metrics exposes what one Visio node is doing to Prometheus:
// meetings and participants, the media it moves, the health of its link to
// the cluster, and the Go runtime and process. Every figure is read when
// Prometheus scrapes, from functions the server hands in, so that nothing
// is updated on the media path for the sake of metrics.
package metrics

import (
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/visio-meet/visio/internal/sfu"
)

// ClusterStats is the health of a node's link to the other nodes.
type ClusterStats struct {
	Connected  bool          // connected to NATS now
	Nodes      int           // healthy nodes seen, this one included
	RTT        time.Duration // round trip to the NATS server, last measured
	Reconnects uint64        // reconnections to NATS since the node started
}

// Config says where the figures come from. Meetings and Media are
// required; without Cluster the cluster metrics are absent.
type Config struct {
	// Meetings returns the meetings and participants live on this node.
	Meetings func() (meetings, participants int)
	// Media returns the media plane's totals.
	Media func() sfu.EngineStats
	// Cluster, when set, returns the health of the link to other nodes.
	Cluster func() ClusterStats
	// Version is the build's version; empty reads it from the binary.
	Version string
	// Log receives the errors met while serving a scrape.
	Log *slog.Logger
}

// Metrics is a node's registry of metrics.
type Metrics struct {
	registry *prometheus.Registry
	log      *slog.Logger
}

// New registers the node's metrics, with the Go runtime's and the
// process's, on a registry of their own.
func New(cfg Config) *Metrics {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	version, revision := cfg.Version, ""
	if info, ok := debug.ReadBuildInfo(); ok {
		if version == "" {
			version = info.Main.Version
		}
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				revision = s.Value
			}
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newNodeCollector(cfg, version, revision),
	)
	return &Metrics{registry: reg, log: cfg.Log}
}

// Handler serves the metrics in Prometheus's exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.InstrumentMetricHandler(m.registry, promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(m.log.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError, // a partial scrape beats none
		Registry:      m.registry,
	}))
}
