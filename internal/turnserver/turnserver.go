// Package turnserver is Visio's embedded TURN server (RFC 8656), on
// pion/turn: clients whose network blocks UDP towards the media port reach
// the media server through it, over UDP, TCP or TLS on port 443-friendly
// listeners. Credentials are time-limited (the TURN REST scheme: the user
// name carries its expiry, the password is an HMAC of it with a secret), and
// relays may only talk to the media server's own addresses, so the server is
// not an open relay.
package turnserver

import (
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pion/turn/v5"

	"github.com/visio-meet/visio/internal/pionlog"
)

// Config sets up a TURN server. Empty addresses turn a transport off.
type Config struct {
	UDPAddr string // such as ":3478"
	TCPAddr string
	TLSAddr string // needs TLS
	TLS     *tls.Config
	// RelayIP is where relayed traffic leaves from, and what clients are told
	// their relay address is. The relay only reaches the media server, so the
	// loopback address is enough on a single machine.
	RelayIP net.IP
	Realm   string
	Secret  []byte // empty: a random one, valid until the server stops
	// AllowPeer says which addresses relays may send to: the media server's.
	AllowPeer func(net.IP) bool
	// MaxAllocations bounds the relays one user name may hold at once.
	MaxAllocations int
	Logger         *slog.Logger
}

// Server is a running TURN server.
type Server struct {
	turn   *turn.Server
	secret string
	realm  string
	udp    net.PacketConn
	tcp    net.Listener
	tls    net.Listener
	log    *slog.Logger

	mu          sync.Mutex
	allocations map[string]int // by user name
}

// ErrNoTransport is returned when every transport is off.
var ErrNoTransport = errors.New("no TURN transport is configured")

// Start opens the listeners and serves until Close.
func Start(cfg Config) (*Server, error) {
	if cfg.UDPAddr == "" && cfg.TCPAddr == "" && cfg.TLSAddr == "" {
		return nil, ErrNoTransport
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Realm == "" {
		cfg.Realm = "visio"
	}
	if cfg.MaxAllocations <= 0 {
		cfg.MaxAllocations = 10
	}
	if cfg.RelayIP == nil {
		cfg.RelayIP = net.IPv4(127, 0, 0, 1)
	}
	secret := string(cfg.Secret)
	if secret == "" {
		secret = rand.Text()
	}
	s := &Server{secret: secret, realm: cfg.Realm, log: cfg.Logger.With("component", "turn"), allocations: map[string]int{}}
	relay := &turn.RelayAddressGeneratorStatic{RelayAddress: cfg.RelayIP, Address: cfg.RelayIP.String()}
	permission := func(_ net.Addr, peer net.IP) bool { return cfg.AllowPeer != nil && cfg.AllowPeer(peer) }
	var packetConns []turn.PacketConnConfig
	var listeners []turn.ListenerConfig
	var err error
	if cfg.UDPAddr != "" {
		if s.udp, err = net.ListenPacket("udp4", cfg.UDPAddr); err != nil {
			return nil, fmt.Errorf("open TURN UDP port %s: %w", cfg.UDPAddr, err)
		}
		packetConns = append(packetConns, turn.PacketConnConfig{PacketConn: s.udp, RelayAddressGenerator: relay, PermissionHandler: permission})
	}
	if cfg.TCPAddr != "" {
		if s.tcp, err = net.Listen("tcp4", cfg.TCPAddr); err != nil {
			s.closeListeners()
			return nil, fmt.Errorf("open TURN TCP port %s: %w", cfg.TCPAddr, err)
		}
		listeners = append(listeners, turn.ListenerConfig{Listener: s.tcp, RelayAddressGenerator: relay, PermissionHandler: permission})
	}
	if cfg.TLSAddr != "" {
		if cfg.TLS == nil {
			s.closeListeners()
			return nil, errors.New("TURN over TLS needs a certificate")
		}
		ln, err := net.Listen("tcp4", cfg.TLSAddr)
		if err != nil {
			s.closeListeners()
			return nil, fmt.Errorf("open TURN TLS port %s: %w", cfg.TLSAddr, err)
		}
		s.tls = tls.NewListener(ln, cfg.TLS)
		listeners = append(listeners, turn.ListenerConfig{Listener: s.tls, RelayAddressGenerator: relay, PermissionHandler: permission})
	}
	s.turn, err = turn.NewServer(turn.ServerConfig{
		Realm:             cfg.Realm,
		AuthHandler:       turn.LongTermTURNRESTAuthHandler(secret, pionlog.Factory{Log: s.log}.NewLogger("turn")),
		QuotaHandler:      s.allowAllocation(cfg.MaxAllocations),
		EventHandler:      turn.EventHandler{OnAllocationDeleted: s.allocationDeleted},
		PacketConnConfigs: packetConns,
		ListenerConfigs:   listeners,
		LoggerFactory:     pionlog.Factory{Log: s.log},
	})
	if err != nil {
		s.closeListeners()
		return nil, fmt.Errorf("start TURN: %w", err)
	}
	return s, nil
}

// allowAllocation counts each user name's relays and refuses one beyond max.
func (s *Server) allowAllocation(max int) turn.QuotaHandler {
	return func(username, _ string, _ net.Addr) bool {
		user := userOf(username)
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.allocations[user] >= max {
			s.log.Warn("TURN allocation refused: quota reached", "user", user)
			return false
		}
		s.allocations[user]++
		return true
	}
}

// userOf returns the user of a TURN REST user name, "expiry:user", as the
// authentication handler names it.
func userOf(username string) string {
	if _, user, ok := strings.Cut(username, ":"); ok {
		return user
	}
	return username
}

func (s *Server) allocationDeleted(_, _ net.Addr, _, user, _ string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.allocations[user]--; s.allocations[user] <= 0 {
		delete(s.allocations, user)
	}
}

// Credentials returns a user name and password for user, valid for ttl.
func (s *Server) Credentials(user string, ttl time.Duration) (username, password string) {
	username, password, err := turn.GenerateLongTermTURNRESTCredentials(s.secret, user, ttl)
	if err != nil {
		panic(err) // an HMAC write cannot fail
	}
	return username, password
}

// Ports returns the ports of the UDP, TCP and TLS listeners, 0 when off.
func (s *Server) Ports() (udp, tcp, tlsPort int) {
	port := func(a net.Addr) int {
		_, p, _ := net.SplitHostPort(a.String())
		n, _ := strconv.Atoi(p)
		return n
	}
	if s.udp != nil {
		udp = port(s.udp.LocalAddr())
	}
	if s.tcp != nil {
		tcp = port(s.tcp.Addr())
	}
	if s.tls != nil {
		tlsPort = port(s.tls.Addr())
	}
	return udp, tcp, tlsPort
}

// Allocations returns how many relays are open.
func (s *Server) Allocations() int { return s.turn.AllocationCount() }

// Close stops serving and closes the listeners.
func (s *Server) Close() error {
	return s.turn.Close()
}

func (s *Server) closeListeners() {
	for _, c := range []interface{ Close() error }{s.udp, s.tcp, s.tls} {
		if c != nil {
			_ = c.Close()
		}
	}
}
