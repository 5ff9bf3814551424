// Package server assembles Visio from its parts (storage, sign-in, media
// plane, meetings, signalling, REST API, HTTP edge, web app) into one
// running service, and takes it down in order.
package server

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/visio-meet/visio/internal/chatfiles"
	"github.com/visio-meet/visio/internal/cluster"
	"github.com/visio-meet/visio/internal/config"
	"github.com/visio-meet/visio/internal/httpapi"
	"github.com/visio-meet/visio/internal/identity"
	"github.com/visio-meet/visio/internal/meeting"
	"github.com/visio-meet/visio/internal/restapi"
	"github.com/visio-meet/visio/internal/room"
	"github.com/visio-meet/visio/internal/sfu"
	"github.com/visio-meet/visio/internal/signal"
	"github.com/visio-meet/visio/internal/store"
	"github.com/visio-meet/visio/internal/token"
	"github.com/visio-meet/visio/internal/turnserver"
	"github.com/visio-meet/visio/internal/whip"
	"github.com/visio-meet/visio/web"
)

// Server is a running Visio.
type Server struct {
	log      *slog.Logger
	store    *store.Store
	media    *sfu.Engine
	turn     *turnserver.Server // nil when off
	meetings *meeting.Registry
	cluster  *cluster.Cluster
	speech   *speechService
	signal   *signal.Handler
	http     *http.Server
	listener net.Listener
	served   chan error
	pprof    *http.Server
	metrics  *metricsServer     // nil when metrics.addr is empty
	stop     context.CancelFunc // ends the background work
	wg       sync.WaitGroup
}

// Options adjust a server beyond its configuration, for tests.
type Options struct {
	Signal  signal.Config
	Meeting meeting.Config
	// ICEKeepalive overrides the ICE keepalive interval when set.
	ICEKeepalive time.Duration
}

// Start opens the database and the sockets, and serves until Shutdown.
func Start(cfg *config.Config, opts Options, log *slog.Logger) (srv *Server, err error) {
	ctx := context.Background()
	// What is open so far, closed again in reverse if a later part fails.
	var undo []func()
	defer func() {
		if err != nil {
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
		}
	}()

	node, err := nodeName(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.MultiNode() {
		log = log.With("node", node) // the logs of several nodes are read together
	}
	st, err := store.Open(ctx, cfg.Database.URL, log)
	if err != nil {
		return nil, fmt.Errorf("database.url: %w", err)
	}
	undo = append(undo, func() { _ = st.Close() })
	var auth *identity.Auth
	if cfg.Auth.Issuer != "" {
		if auth, err = identity.New(ctx, identityConfig(cfg), accounts{st}, log); err != nil {
			return nil, fmt.Errorf("sign-in (auth.issuer): %w", err)
		}
	}

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
	undo = append(undo, func() { _ = media.Close() })
	mcfg := opts.Meeting
	if mcfg.MaxParticipants == 0 {
		mcfg.MaxParticipants = cfg.Rooms.MaxParticipants
	}
	if mcfg.ReconnectGrace == 0 {
		mcfg.ReconnectGrace = cfg.Rooms.ReconnectGrace
	}
	if mcfg.MutedJoinFrom == 0 {
		mcfg.MutedJoinFrom = cfg.Rooms.MutedJoinFrom
	}
	if mcfg.QuietAbove == 0 {
		mcfg.QuietAbove = cfg.Rooms.QuietAbove
	}
	mcfg.Rooms = roomRecords{store: st, allowUnregistered: cfg.Rooms.AllowUnregistered}
	voice, err := startSpeech(cfg, st, log)
	if err != nil {
		return nil, err
	}
	undo = append(undo, func() { _ = voice.Close(context.Background()) })
	mcfg.Speech = voice.meeting
	if mcfg.Files.Store == nil {
		// Alone, this node may take all that the bucket holds for leftovers.
		if mcfg.Files, err = chatFiles(ctx, cfg, !cfg.MultiNode(), log); err != nil {
			return nil, err
		}
	}
	if !cfg.MultiNode() { // alone, no meeting is live yet: every record is a crash's leftover
		sweepLiveMeetings(ctx, st, mcfg.Files.Store, log)
	}
	mcfg.Lasting = meeting.StoredState{Store: st}

	// Join tokens need a secret; without a configured one, a random one
	// does for a single server (tokens live two minutes).
	joinSecret := []byte(cfg.Tokens.Secret)
	if len(joinSecret) == 0 {
		joinSecret = []byte(rand.Text() + rand.Text())
	}
	joinTokens, err := token.NewIssuer(joinSecret)
	if err != nil {
		return nil, fmt.Errorf("tokens.secret: %w", err)
	}
	mcfg.RejoinToken = func(code room.Code, id meeting.ParticipantID, meetingKey string) string {
		tok, _ := joinTokens.IssueRejoin(string(code), string(id), meetingKey, rejoinTokenTTL)
		return tok
	}
	var registry atomic.Pointer[meeting.Registry]
	nodes, err := startCluster(cfg, node, &registry, log)
	if err != nil {
		return nil, err
	}
	undo = append(undo, func() { _ = nodes.Close() })
	meetings := meeting.NewRegistry(mcfg, media, nodes, log)
	registry.Store(meetings)
	voice.watch(meetings.SpeechChanged)

	var tlsConfig *tls.Config
	if cfg.HTTP.TLSCert != "" {
		if tlsConfig, err = loadTLS(cfg.HTTP.TLSCert, cfg.HTTP.TLSKey, "http.tls_cert and http.tls_key"); err != nil {
			return nil, err
		}
	}
	relay, err := startTURN(cfg, tlsConfig, media, log)
	if err != nil {
		return nil, err
	}
	undo = append(undo, func() { closeTURN(relay) })

	var whipTokens *token.Issuer // WHIP and WHEP only with a configured secret
	if cfg.Tokens.Secret != "" {
		whipTokens = joinTokens
	}

	scfg := opts.Signal
	scfg.OriginPatterns = append(scfg.OriginPatterns, cfg.HTTP.AllowedOrigins...)
	scfg.JoinTokens = joinTokens
	connectSources, nodeHosts := nodeOrigins(nodes)
	scfg.MoreOrigins = nodeHosts
	if relay != nil {
		scfg.ICEServers = iceServers(relay, cfg.TURN.Host, cfg.TURN.CredentialTTL)
	}
	sig := signal.NewHandler(meetings, scfg, log)
	proxies := trustedProxies(cfg)
	api := restapi.New(restapi.Config{Store: st, Auth: auth, Meetings: meetings, JoinTokens: joinTokens,
		AllowUnregistered: cfg.Rooms.AllowUnregistered, CookieSecure: cookieSecure(cfg),
		JoinsPerMinute: cfg.Limits.JoinsPerMinute, LoginsPerMinute: cfg.Limits.LoginsPerMinute,
		TrustedProxies: proxies, Place: placer(nodes), Log: log})

	ln, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on http.addr %s: %w", cfg.HTTP.Addr, err)
	}
	scheme := "http"
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
		scheme = "https"
	}
	s := &Server{
		log:      log,
		store:    st,
		media:    media,
		turn:     relay,
		meetings: meetings,
		cluster:  nodes,
		speech:   voice,
		signal:   sig,
		listener: ln,
		served:   make(chan error, 1),
		http: &http.Server{
			Handler: toHostingNode(nodes, log, httpapi.New(sig, web.Files(), log, httpapi.Edge{ConnectSources: connectSources},
				api, whip.New(meetings, whipTokens, log),
				voice.apiRoutes(cfg.Speech.API, api.BearerScope(restapi.ScopeSpeech)),
				newConnectionTest(media, scfg.ICEServers, proxies, log),
				readiness{cluster: nodes, ping: st.Ping})),
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
	}
	undo = nil // from here on, Shutdown closes everything
	go func() { s.served <- s.http.Serve(ln) }()
	var background context.Context
	background, s.stop = context.WithCancel(context.Background())
	s.wg.Go(func() { s.forgetExpiredSessions(background) })
	if cfg.Debug.PprofAddr != "" {
		if err := s.servePprof(cfg.Debug.PprofAddr); err != nil {
			_ = s.Shutdown(context.Background())
			return nil, err
		}
	}
	if cfg.Metrics.Addr != "" {
		if err := s.serveMetrics(cfg.Metrics.Addr, s.clusterStats); err != nil {
			_ = s.Shutdown(context.Background())
			return nil, err
		}
	}
	log.Info("visio is serving", "url", scheme+"://"+ln.Addr().String(), "media_udp", media.UDPAddrs(), "media_tcp", media.TCPAddr(), "media_gso", media.GSO(),
		"database", st.Engine(), "sign_in", auth != nil)
	if relay != nil {
		udp, tcp, tlsPort := relay.Ports()
		log.Info("TURN is serving", "udp_port", udp, "tcp_port", tcp, "tls_port", tlsPort)
	}
	return s, nil
}

// chatFiles is where meetings keep the files shared in their chats: the
// bucket of chat.s3_bucket if set, which must answer, else chat.files_dir.
// What a previous run left is removed first, as no meeting is live yet:
// always from the directory, which is this node's own, and from the bucket
// only when sweepShared says that no other node uses it.
func chatFiles(ctx context.Context, cfg *config.Config, sweepShared bool, log *slog.Logger) (meeting.ChatFiles, error) {
	var store interface {
		chatfiles.Store
		Sweep(ctx context.Context, live func(meeting string) bool) (int, error)
	}
	where := "chat.files_dir " + cfg.Chat.FilesDir
	if cfg.Chat.S3Bucket != "" {
		s3, err := chatfiles.NewS3(ctx, chatfiles.S3Config{Endpoint: cfg.Chat.S3Endpoint, Region: cfg.Chat.S3Region,
			Bucket: cfg.Chat.S3Bucket, AccessKey: cfg.Chat.S3AccessKey, SecretKey: cfg.Chat.S3SecretKey, Prefix: cfg.Chat.S3Prefix}, log)
		if err != nil {
			return meeting.ChatFiles{}, fmt.Errorf("chat files (chat.s3_*): %w", err)
		}
		store, where = s3, "chat.s3_bucket "+cfg.Chat.S3Bucket
	} else {
		store = chatfiles.NewDisk(cfg.Chat.FilesDir, log)
	}
	if cfg.Chat.S3Bucket == "" || sweepShared {
		if n, err := store.Sweep(ctx, func(string) bool { return false }); err != nil {
			log.Warn("files shared in the chats of a previous run are left", "in", where, "err", err)
		} else if n > 0 {
			log.Info("files shared in the chats of a previous run removed", "meetings", n, "from", where)
		}
	}
	if cfg.Chat.MaxFileBytes == 0 {
		return meeting.ChatFiles{}, nil
	}
	return meeting.ChatFiles{Store: store, MaxFileBytes: cfg.Chat.MaxFileBytes, MaxMeetingBytes: cfg.Chat.MaxMeetingBytes}, nil
}

// trustedProxies reads http.trusted_proxies, which the configuration has
// checked.
func trustedProxies(cfg *config.Config) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(cfg.HTTP.TrustedProxies))
	for _, v := range cfg.HTTP.TrustedProxies {
		if p, err := config.ParsePrefix(v); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// identityConfig is the sign-in part of the configuration.
func identityConfig(cfg *config.Config) identity.Config {
	return identity.Config{
		Issuer: cfg.Auth.Issuer, ClientID: cfg.Auth.ClientID, ClientSecret: cfg.Auth.ClientSecret,
		RedirectURL: cfg.Auth.RedirectURL, PostLogoutRedirectURL: cfg.Auth.PostLogoutRedirectURL,
		Scopes: cfg.Auth.Scopes, ACRValues: cfg.Auth.ACRValues, RequiredACR: cfg.Auth.RequiredACR,
		SessionTTL: cfg.Auth.SessionTTL, CookieSecure: cookieSecure(cfg), Secret: []byte(cfg.Auth.Secret),
	}
}

// cookieSecure tells whether browsers reach the server over https: itself,
// or behind a proxy, as the callback URL says.
func cookieSecure(cfg *config.Config) bool {
	return cfg.HTTP.TLSCert != "" || strings.HasPrefix(cfg.Auth.RedirectURL, "https://")
}

// forgetExpiredSessions deletes expired sign-ins now and then, until ctx
// ends: they are refused anyway, but would pile up.
func (s *Server) forgetExpiredSessions(ctx context.Context) {
	ticker := time.NewTicker(time.Hour)
	defer ticker.Stop()
	for {
		if n, err := s.store.DeleteExpiredSessions(ctx, time.Now()); err != nil && ctx.Err() == nil {
			s.log.Warn("cannot delete expired sessions", "err", err)
		} else if n > 0 {
			s.log.Info("expired sessions deleted", "sessions", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
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
	s.stop()
	s.wg.Wait()
	s.meetings.Close()
	errs := []error{s.signal.Wait(ctx)}
	errs = append(errs, s.http.Shutdown(ctx))
	if s.pprof != nil {
		errs = append(errs, s.pprof.Shutdown(ctx))
	}
	errs = append(errs, s.shutdownMetrics(ctx))
	errs = append(errs, s.meetings.Wait(ctx))
	errs = append(errs, s.cluster.Close())
	errs = append(errs, s.speech.Close(ctx))
	if s.turn != nil {
		errs = append(errs, s.turn.Close())
	}
	errs = append(errs, s.media.Close())
	errs = append(errs, s.store.Close())
	if err := <-s.served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
