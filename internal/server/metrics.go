package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/visio-meet/visio/internal/metrics"
)

// metricsServer serves Prometheus metrics on a listener of its own, apart
// from the public handler, so that it can be bound to a private address.
type metricsServer struct {
	http   *http.Server
	ln     net.Listener
	served chan error
}

// serveMetrics starts serving the node's metrics on addr (metrics.addr);
// cluster, when not nil, reports the health of the link to other nodes.
func (s *Server) serveMetrics(addr string, cluster func() metrics.ClusterStats) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on metrics.addr %s (pick a free address, or leave it empty to serve no metrics): %w", addr, err)
	}
	m := metrics.New(metrics.Config{
		Meetings: s.meetings.Counts,
		Media:    s.media.Stats,
		Cluster:  cluster,
		Log:      s.log,
	})
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	ms := &metricsServer{
		http:   &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second},
		ln:     ln,
		served: make(chan error, 1),
	}
	go func() { ms.served <- ms.http.Serve(ln) }()
	s.metrics = ms
	s.log.Info("metrics are served", "url", "http://"+ln.Addr().String()+"/metrics")
	return nil
}

// MetricsAddr returns the address metrics are served on, or "" when
// metrics.addr is empty.
func (s *Server) MetricsAddr() string {
	if s.metrics == nil {
		return ""
	}
	return s.metrics.ln.Addr().String()
}

// shutdownMetrics stops serving metrics and waits for the server to return.
func (s *Server) shutdownMetrics(ctx context.Context) error {
	if s.metrics == nil {
		return nil
	}
	err := s.metrics.http.Shutdown(ctx)
	if served := <-s.metrics.served; !errors.Is(served, http.ErrServerClosed) {
		err = errors.Join(err, fmt.Errorf("serve metrics: %w", served))
	}
	return err
}
