package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/visio-meet/visio/internal/cluster"
	"github.com/visio-meet/visio/internal/config"
	"github.com/visio-meet/visio/internal/httpapi"
	"github.com/visio-meet/visio/internal/meeting"
	"github.com/visio-meet/visio/internal/metrics"
	"github.com/visio-meet/visio/internal/room"
)

// startCluster joins this node to the cluster: alone with an in-process
// NATS by default. meetings is read for the load reports once it is set.
func startCluster(cfg *config.Config, node string, meetings *atomic.Pointer[meeting.Registry], log *slog.Logger) (*cluster.Cluster, error) {
	c, err := cluster.Start(cluster.Config{
		Node: cluster.NodeID(node), URL: strings.TrimSuffix(cfg.Cluster.URL, "/"), NATSURL: cfg.Cluster.NATSURL,
		Name: cfg.Cluster.Name, RouteAddr: cfg.Cluster.RouteAddr, Routes: cfg.Cluster.Routes, Secret: cfg.Cluster.Secret,
		Replicas: cfg.Cluster.Replicas, DataDir: cfg.Cluster.DataDir,
		Load: func() cluster.Load {
			r := meetings.Load()
			if r == nil {
				return cluster.Load{}
			}
			n, p := r.Counts()
			return cluster.Load{Meetings: n, Participants: p}
		},
		Log: log,
	})
	if err != nil {
		return nil, err
	}
	if !cfg.MultiNode() {
		// Alone, the node hosts every meeting: wait the moment its
		// in-process JetStream takes, so that the first join finds it.
		deadline := time.Now().Add(10 * time.Second)
		for c.Ready() != nil && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	}
	return c, nil
}

// nodeName is this node's name in the cluster: cluster.node, or else the
// host's name.
func nodeName(cfg *config.Config) (string, error) {
	if cfg.Cluster.Node != "" {
		return cfg.Cluster.Node, nil
	}
	host, err := os.Hostname()
	if err != nil {
		return "", fmt.Errorf("cluster.node is not set and the host has no name: %w", err)
	}
	return host, nil
}

// signalURL is where the apps open their signalling connection on a node
// reached at base (http://host:port); "" when the node has no address of
// its own, as a node alone.
func signalURL(base string) string {
	switch {
	case strings.HasPrefix(base, "https://"):
		return "wss://" + strings.TrimPrefix(base, "https://") + httpapi.SignalPath
	case strings.HasPrefix(base, "http://"):
		return "ws://" + strings.TrimPrefix(base, "http://") + httpapi.SignalPath
	}
	return ""
}

// placer answers the join API's question: where the meeting of a room is.
func placer(c *cluster.Cluster) func(context.Context, room.Code) (string, error) {
	return func(ctx context.Context, code room.Code) (string, error) {
		n, err := c.Place(ctx, code)
		if err != nil {
			return "", err
		}
		return signalURL(n.URL), nil
	}
}

// nodeOrigins lists the other nodes' signalling origins, which the web app
// may connect to (its Content-Security-Policy), and their hosts, whose
// pages may open a signalling connection here.
func nodeOrigins(c *cluster.Cluster) (connect func() []string, hosts func() []string) {
	others := func() []*url.URL {
		var out []*url.URL
		for _, n := range c.Nodes() {
			if u, err := url.Parse(n.URL); err == nil && n.ID != c.Self() && u.Host != "" {
				out = append(out, u)
			}
		}
		return out
	}
	connect = func() []string {
		var out []string
		for _, u := range others() {
			out = append(out, strings.TrimSuffix(signalURL(u.Scheme+"://"+u.Host), httpapi.SignalPath))
		}
		return out
	}
	hosts = func() []string {
		var out []string
		for _, u := range others() {
			out = append(out, u.Host)
		}
		return out
	}
	return connect, hosts
}

// forwardedHeader marks a request one node passed to another, which
// answers it itself.
const forwardedHeader = "Visio-Forwarded"

// toHostingNode passes the requests about a live meeting (its REST
// resources, WHIP and WHEP) to the node hosting it, when that is another
// one: only that node knows the meeting. Joining is answered anywhere: it
// says where the meeting is.
func toHostingNode(c *cluster.Cluster, log *slog.Logger, next http.Handler) http.Handler {
	pass := func(w http.ResponseWriter, r *http.Request, target *url.URL) {
		proxy := &httputil.ReverseProxy{
			Rewrite: func(r *httputil.ProxyRequest) {
				r.SetURL(target)
				r.Out.Host = r.In.Host // the browser's origin checks still hold
				r.Out.Header.Set(forwardedHeader, string(c.Self()))
				r.SetXForwarded()
			},
			ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				log.Warn("cannot pass a request to the meeting's node", "path", r.URL.Path, "err", err)
				httpapi.WriteError(w, http.StatusBadGateway, "unavailable", "the server hosting this meeting does not answer: try again in a few seconds")
			},
		}
		proxy.ServeHTTP(w, r)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if code, ok := meetingOf(r.URL.Path); ok && r.Header.Get(forwardedHeader) == "" {
			if n, elsewhere := c.Lookup(r.Context(), code); elsewhere {
				if target, err := url.Parse(n.URL); err == nil && target.Host != "" {
					pass(w, r, target)
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// meetingOf returns the room of a request about its live meeting.
func meetingOf(path string) (room.Code, bool) {
	var rest string
	for _, prefix := range []string{"/api/v1/rooms/", "/whip/", "/whep/"} {
		if r, ok := strings.CutPrefix(path, prefix); ok {
			rest = r
			break
		}
	}
	raw, tail, _ := strings.Cut(rest, "/")
	if raw == "" || tail == "join" || strings.HasPrefix(tail, "transcripts") {
		return "", false
	}
	code, err := room.ParseCode(raw)
	return code, err == nil
}

// readiness answers /readyz: whether this node should get new users.
type readiness struct {
	cluster *cluster.Cluster
	ping    func(context.Context) error
}

func (rd readiness) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		var problem string
		if err := rd.cluster.Ready(); err != nil {
			problem = "cluster: " + err.Error()
		} else if rd.cluster.Draining() {
			problem = "draining: this node takes no new meetings"
		} else if err := rd.ping(ctx); err != nil {
			problem = "database: not reachable"
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if problem != "" {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = fmt.Fprintln(w, problem)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
}

// rejoinTokenTTL bounds how long after their welcome a participant may
// come back into their meeting once it moved: longer than a meeting.
const rejoinTokenTTL = 12 * time.Hour

// clusterStats reports the node's link to the cluster, for the metrics.
func (s *Server) clusterStats() metrics.ClusterStats {
	connected, nodes, rtt, reconnects := s.cluster.Stats()
	return metrics.ClusterStats{Connected: connected, Nodes: nodes, RTT: rtt, Reconnects: reconnects}
}

// Drain takes the node out of the cluster gently: it takes no new meetings
// and waits until its meetings have ended, or until timeout; then it hands
// those left to other nodes, where the apps rejoin them. ctx cuts the wait
// short (a second signal), leaving the meetings to end with the node.
func (s *Server) Drain(ctx context.Context, timeout time.Duration) {
	s.cluster.Drain()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		n, p := s.meetings.Counts()
		if n == 0 {
			return
		}
		s.log.Debug("draining", "meetings", n, "participants", p)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-deadline.C:
			for _, code := range s.meetings.Rooms() {
				if _, err := s.cluster.Handoff(ctx, code); err != nil {
					s.log.Warn("a meeting cannot move: it ends with this node", "room", code, "err", err)
					continue
				}
				s.meetings.HandOver(code)
			}
			return
		}
	}
}
