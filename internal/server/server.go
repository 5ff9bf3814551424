// Package server assembles Visio from its parts (media plane, meetings,
// signalling, HTTP edge, web app) into one running service, and takes it down
// in order.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"time"

	"github.com/visio-meet/visio/internal/config"
	"github.com/visio-meet/visio/internal/httpapi"
	"github.com/visio-meet/visio/internal/meeting"
	"github.com/visio-meet/visio/internal/sfu"
	"github.com/visio-meet/visio/internal/signal"
	"github.com/visio-meet/visio/internal/token"
	"github.com/visio-meet/visio/internal/turnserver"
	"github.com/visio-meet/visio/internal/whip"
	"github.com/visio-meet/visio/web"
)

// Server is a running Visio.
type Server struct {
	log      *slog.Logger
	media    *sfu.Engine
	turn     *turnserver.Server // nil when off
	meetings *meeting.Registry
	signal   *signal.Handler
	http     *http.Server
	listener net.Listener
	served   chan error
	pprof    *http.Server
}

// Options adjust a server beyond its configuration, for tests.
type Options struct {
	Signal  signal.Config
	Meeting meeting.Config
	// ICEKeepalive overrides the ICE keepalive interval when set.
	ICEKeepalive time.Duration
}

// Start opens the sockets and serves until Shutdown.
func Start(cfg *config.Config, opts Options, log *slog.Logger) (*Server, error) {
	tcpAddr := ""
	if cfg.Media.TCPPort > 0 {
		tcpAddr = ":" + strconv.Itoa(cfg.Media.TCPPort)
	}
	media, err := sfu.NewEngine(sfu.Config{
		UDPPort:                cfg.Media.UDPPort, // 0 (tests only) picks free ports
		TCPAddr:                tcpAddr,
		PublicIPs:              cfg.Media.PublicIPs,
		ICEDisconnectedTimeout: cfg.Media.ICEDisconnectedTimeout,
		ICEFailedTimeout:       cfg.Media.ICEFailedTimeout,
		ICEKeepalive:           opts.ICEKeepalive,
		Logger:                 log,
	})
	if err != nil {
		return nil, err
	}
	mcfg := opts.Meeting
	if mcfg.MaxParticipants == 0 {
		mcfg.MaxParticipants = cfg.Rooms.MaxParticipants
	}
	if mcfg.ReconnectGrace == 0 {
		mcfg.ReconnectGrace = cfg.Rooms.ReconnectGrace
	}
	meetings := meeting.NewRegistry(mcfg, media, meeting.LocalDirectory{}, log)

	var tlsConfig *tls.Config
	if cfg.HTTP.TLSCert != "" {
		if tlsConfig, err = loadTLS(cfg.HTTP.TLSCert, cfg.HTTP.TLSKey, "http.tls_cert and http.tls_key"); err != nil {
			_ = media.Close()
			return nil, err
		}
	}
	relay, err := startTURN(cfg, tlsConfig, media, log)
	if err != nil {
		_ = media.Close()
		return nil, err
	}
	scfg := opts.Signal
	scfg.OriginPatterns = append(scfg.OriginPatterns, cfg.HTTP.AllowedOrigins...)
	if relay != nil {
		scfg.ICEServers = iceServers(relay, cfg.TURN.Host, cfg.TURN.CredentialTTL)
	}
	sig := signal.NewHandler(meetings, scfg, log)
	var tokens *token.Issuer
	if cfg.Tokens.Secret != "" {
		if tokens, err = token.NewIssuer([]byte(cfg.Tokens.Secret)); err != nil {
			closeTURN(relay)
			_ = media.Close()
			return nil, fmt.Errorf("tokens.secret: %w", err)
		}
	}

	ln, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		closeTURN(relay)
		_ = media.Close()
		return nil, fmt.Errorf("listen on http.addr %s: %w", cfg.HTTP.Addr, err)
	}
	scheme := "http"
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
		scheme = "https"
	}
	s := &Server{
		log:      log,
		media:    media,
		turn:     relay,
		meetings: meetings,
		signal:   sig,
		listener: ln,
		served:   make(chan error, 1),
		http: &http.Server{
			Handler:           httpapi.New(sig, web.Files(), log, whip.New(meetings, tokens, log)),
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
	}
	go func() { s.served <- s.http.Serve(ln) }()
	if cfg.Debug.PprofAddr != "" {
		if err := s.servePprof(cfg.Debug.PprofAddr); err != nil {
			_ = s.Shutdown(context.Background())
			return nil, err
		}
	}
	log.Info("visio is serving", "url", scheme+"://"+ln.Addr().String(), "media_udp", media.UDPAddrs(), "media_tcp", media.TCPAddr())
	if relay != nil {
		udp, tcp, tlsPort := relay.Ports()
		log.Info("TURN is serving", "udp_port", udp, "tcp_port", tcp, "tls_port", tlsPort)
	}
	return s, nil
}

// servePprof serves Go's profiler on its own listener, apart from the public
// handler, so that it can be bound to a private address.
func (s *Server) servePprof(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on debug.pprof_addr %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	s.pprof = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.pprof.Serve(ln) }()
	s.log.Warn("the Go profiler is served", "addr", ln.Addr().String())
	return nil
}

// Addr returns the HTTP address the server listens on.
func (s *Server) Addr() string { return s.listener.Addr().String() }

// Meetings returns the meeting registry.
func (s *Server) Meetings() *meeting.Registry { return s.meetings }

// Done is closed with the serving error if the HTTP server stops on its own.
func (s *Server) Done() <-chan error { return s.served }

// Shutdown tells every participant the server is going away, waits for the
// sessions to end, then closes the sockets. ctx bounds the wait.
func (s *Server) Shutdown(ctx context.Context) error {
	s.meetings.Close()
	errs := []error{s.signal.Wait(ctx)}
	errs = append(errs, s.http.Shutdown(ctx))
	if s.pprof != nil {
		errs = append(errs, s.pprof.Shutdown(ctx))
	}
	errs = append(errs, s.meetings.Wait(ctx))
	if s.turn != nil {
		errs = append(errs, s.turn.Close())
	}
	errs = append(errs, s.media.Close())
	if err := <-s.served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
