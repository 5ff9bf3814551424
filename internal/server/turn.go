package server

import (
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/visio-meet/visio/internal/config"
	"github.com/visio-meet/visio/internal/protocol"
	"github.com/visio-meet/visio/internal/sfu"
	"github.com/visio-meet/visio/internal/turnserver"
)

// startTURN starts the embedded TURN server, or returns nil when every
// transport of it is off. httpTLS is the web server's certificate, used for
// TURN over TLS unless turn.tls_cert names another.
func startTURN(cfg *config.Config, httpTLS *tls.Config, media *sfu.Engine, log *slog.Logger) (*turnserver.Server, error) {
	tc := turnserver.Config{
		RelayIP:   net.ParseIP(cfg.TURN.RelayIP),
		Secret:    []byte(cfg.TURN.Secret),
		AllowPeer: media.OwnsAddress,
		Logger:    log,
	}
	if cfg.TURN.UDPPort > 0 {
		tc.UDPAddr = ":" + strconv.Itoa(cfg.TURN.UDPPort)
	}
	if cfg.TURN.TCPPort > 0 {
		tc.TCPAddr = ":" + strconv.Itoa(cfg.TURN.TCPPort)
	}
	tc.TLS = httpTLS
	if cfg.TURN.TLSCert != "" {
		var err error
		if tc.TLS, err = loadTLS(cfg.TURN.TLSCert, cfg.TURN.TLSKey, "turn.tls_cert and turn.tls_key"); err != nil {
			return nil, err
		}
	}
	if cfg.TURN.TLSPort > 0 && tc.TLS != nil {
		tc.TLSAddr = ":" + strconv.Itoa(cfg.TURN.TLSPort)
	}
	relay, err := turnserver.Start(tc)
	if errors.Is(err, turnserver.ErrNoTransport) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("turn (turn.udp_port, turn.tcp_port, turn.tls_port): %w", err)
	}
	return relay, nil
}

func closeTURN(relay *turnserver.Server) {
	if relay != nil {
		_ = relay.Close()
	}
}

// iceServers returns what a new session is told about the TURN server: its
// URLs on the host the client reached Visio at (or turn.host), and
// credentials of its own.
func iceServers(relay *turnserver.Server, configuredHost string, ttl time.Duration) func(string) []protocol.ICEServer {
	udp, tcp, tlsPort := relay.Ports()
	return func(host string) []protocol.ICEServer {
		if configuredHost != "" {
			host = configuredHost
		}
		if strings.Contains(host, ":") {
			host = "[" + host + "]" // an IPv6 address
		}
		var urls []string
		if udp > 0 {
			urls = append(urls, fmt.Sprintf("turn:%s:%d?transport=udp", host, udp))
		}
		if tcp > 0 {
			urls = append(urls, fmt.Sprintf("turn:%s:%d?transport=tcp", host, tcp))
		}
		if tlsPort > 0 {
			urls = append(urls, fmt.Sprintf("turns:%s:%d?transport=tcp", host, tlsPort))
		}
		// A user of its own per session, so that the TURN server's quota of
		// relays per user applies to each participant.
		username, password := relay.Credentials(rand.Text()[:16], ttl)
		return []protocol.ICEServer{{URLs: urls, Username: username, Credential: password}}
	}
}

func loadTLS(certFile, keyFile, keys string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keys, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}
