// Package sfu is Visio's media plane: a selective forwarding unit on Pion
// WebRTC. Each participant has a Peer with two peer connections, one on which
// it publishes its tracks (UpTrack) and one on which it receives the tracks of
// others (DownTrack).
//
// The forwarding path reads a packet once per publisher, keeps one copy in a
// per-track cache for retransmissions, and hands the same bytes to every
// subscriber: nothing is allocated or copied per subscriber. Rooms,
// participants and who-sees-what belong to the meeting package; this package
// only moves media and reports what it sees.
package sfu

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/visio-meet/visio/internal/pionlog"
	"github.com/visio-meet/visio/internal/sfu/udpout"
)

// Config sets up the media plane. The zero value of an optional field picks a
// working default.
type Config struct {
	// UDPPort is the one UDP port for all media, on every interface; 0 picks a
	// free port per interface (for tests).
	UDPPort int
	// TCPAddr is where ICE-TCP listens, the fallback for clients whose UDP is
	// blocked; empty disables it.
	TCPAddr string
	// PublicIPs replace the host addresses in ICE candidates, for a server
	// behind 1:1 NAT (a cloud VM with a floating IP).
	PublicIPs []string

	ICEDisconnectedTimeout time.Duration // default 5 s
	ICEFailedTimeout       time.Duration // default 15 s
	ICEKeepalive           time.Duration // default 2 s

	Logger *slog.Logger
}

// Engine owns the media sockets and creates peers that share them.
type Engine struct {
	api      *webrtc.API
	settings webrtc.SettingEngine
	media    *webrtc.MediaEngine
	registry *interceptor.Registry
	epoch    time.Time // engine time is measured from here, on the monotonic clock
	epochNTP uint64
	log      *slog.Logger
	sockets  []*mediaSocket
	udpMux   *ice.MultiUDPMuxDefault
	tcpMux   *ice.TCPMuxDefault
	tcpLn    net.Listener
	probes   probes         // connection tests (probe.go)
	streams  streamRegistry // live streams and the totals of ended ones, for Stats
	batches  sendBatches    // for forwarding rounds (egress.go)
}

// NewEngine opens the media sockets.
func NewEngine(cfg Config) (*Engine, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	log := cfg.Logger.With("component", "sfu")
	pionLog := pionlog.Factory{Log: log}
	e := &Engine{log: log, epoch: time.Now(), batches: newSendBatches()}
	e.epochNTP = unixToNTP(e.epoch)

	if err := e.openSockets(cfg.UDPPort, cfg.PublicIPs); err != nil {
		return nil, err
	}
	muxes := make([]ice.UDPMux, len(e.sockets))
	for i, s := range e.sockets {
		muxes[i] = ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: s.conn, Logger: pionLog.NewLogger("udpmux")})
	}
	udpMux := ice.NewMultiUDPMuxDefault(muxes...)
	e.udpMux = udpMux

	se := webrtc.SettingEngine{LoggerFactory: pionLog}
	se.SetICEUDPMux(udpMux)
	networks := []webrtc.NetworkType{webrtc.NetworkTypeUDP4}
	if cfg.TCPAddr != "" {
		ln, err := net.Listen("tcp4", cfg.TCPAddr)
		if err != nil {
			_ = udpMux.Close()
			return nil, fmt.Errorf("open media TCP port %s: %w", cfg.TCPAddr, err)
		}
		e.tcpLn = ln
		e.tcpMux = ice.NewTCPMuxDefault(ice.TCPMuxParams{
			Listener:       shortSendQueues{ln},
			Logger:         pionLog.NewLogger("tcpmux"),
			ReadBufferSize: 64,
			// Pion queues what a TCP client cannot take yet, and drops
			// packets when the queue is full, instead of blocking the
			// forwarder (and every other subscriber) on a slow client.
			WriteBufferSize: tcpQueueBytes,
		})
		se.SetICETCPMux(e.tcpMux)
		networks = append(networks, webrtc.NetworkTypeTCP4)
	}
	se.SetNetworkTypes(networks)
	se.SetIncludeLoopbackCandidate(true)
	// Browsers hide their addresses behind mDNS names; the server learns
	// their real address from their connectivity checks (peer-reflexive), so
	// it needs no mDNS socket of its own.
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetICETimeouts(orDefault(cfg.ICEDisconnectedTimeout, 5*time.Second),
		orDefault(cfg.ICEFailedTimeout, 15*time.Second), orDefault(cfg.ICEKeepalive, 2*time.Second))
	if len(cfg.PublicIPs) > 0 {
		if err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External:        cfg.PublicIPs,
			AsCandidateType: webrtc.ICECandidateTypeHost,
			Mode:            webrtc.ICEAddressRewriteReplace,
		}); err != nil {
			e.closeSockets()
			return nil, fmt.Errorf("media public IPs: %w", err)
		}
	}

	me, ir, err := newMediaEngine()
	if err != nil {
		e.closeSockets()
		return nil, err
	}
	e.settings, e.media, e.registry = se, me, ir
	e.api = webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
	return e, nil
}

// openSockets listens on port on every IPv4 address of the machine, the
// loopback included (for clients on the same host). Port 0 picks a free port
// per address.
func (e *Engine) openSockets(port int, publicIPs []string) error {
	ifaces, err := net.Interfaces()
	if err != nil {
		return fmt.Errorf("list network interfaces: %w", err)
	}
	var public []netip.Addr
	for _, p := range publicIPs {
		if a, err := netip.ParseAddr(p); err == nil {
			public = append(public, a)
		}
	}
	for _, iface := range ifaces {
		if iface.Flags&net.FlagUp == 0 {
			continue
		}
		addrs, err := iface.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			ipnet, ok := a.(*net.IPNet)
			if !ok || ipnet.IP.To4() == nil {
				continue
			}
			conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: ipnet.IP, Port: port})
			if err != nil {
				e.closeSockets()
				return fmt.Errorf("open media UDP port %d on %s: %w", port, ipnet.IP, err)
			}
			_ = conn.SetReadBuffer(4 << 20)
			_ = conn.SetWriteBuffer(4 << 20)
			local := conn.LocalAddr().(*net.UDPAddr).AddrPort()
			announced := []netip.Addr{local.Addr().Unmap()}
			if !ipnet.IP.IsLoopback() {
				announced = append(announced, public...)
			}
			e.sockets = append(e.sockets, &mediaSocket{conn: conn, out: udpout.NewSender(conn, e.log), local: local, announced: announced})
		}
	}
	if len(e.sockets) == 0 {
		return errors.New("no IPv4 address to listen on for media")
	}
	return nil
}

// subscriberAPI returns an API whose connections report their DTLS secrets
// to secrets, for the fast egress path. When the client offers (answering),
// the server answers as the DTLS server, so that the keys are its own.
func (e *Engine) subscriberAPI(secrets *dtlsSecrets, answering bool) *webrtc.API {
	se := e.settings
	se.SetDTLSKeyLogWriter(secrets)
	se.SetDTLSServerHelloMessageHook(secrets.onServerHello)
	if answering {
		_ = se.SetAnsweringDTLSRole(webrtc.DTLSRoleServer) // fails only for other roles
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(e.media), webrtc.WithInterceptorRegistry(e.registry), webrtc.WithSettingEngine(se))
}

// now returns the engine time in nanoseconds.
func (e *Engine) now() int64 { return int64(time.Since(e.epoch)) }

// ntpAt converts an engine time to NTP time.
func (e *Engine) ntpAt(now int64) uint64 { return e.epochNTP + durationToNTP(now) }

// unixToNTP converts wall-clock time to the 32.32 NTP format (seconds since 1900).
func unixToNTP(t time.Time) uint64 {
	const ntpToUnix = 2208988800
	return durationToNTP(t.UnixNano()) + ntpToUnix<<32
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// UDPAddrs returns the local addresses of the media UDP sockets.
func (e *Engine) UDPAddrs() []net.Addr {
	addrs := make([]net.Addr, len(e.sockets))
	for i, s := range e.sockets {
		addrs[i] = s.conn.LocalAddr()
	}
	return addrs
}

// GSO tells whether media leaves with UDP generic segmentation offload (a
// subscriber's packets of a round as one message) on every media socket.
func (e *Engine) GSO() bool {
	for _, s := range e.sockets {
		if !s.out.GSO() {
			return false
		}
	}
	return len(e.sockets) > 0
}

// OwnsAddress tells whether ip is one of the addresses media is received
// on (or announced for), so that a relay may send there.
func (e *Engine) OwnsAddress(ip net.IP) bool {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return false
	}
	a = a.Unmap()
	for _, s := range e.sockets {
		if s.local.Addr() == a || slices.Contains(s.announced, a) {
			return true
		}
	}
	return false
}

// TCPAddr returns the ICE-TCP listening address, or nil when TCP is off.
func (e *Engine) TCPAddr() net.Addr {
	if e.tcpLn == nil {
		return nil
	}
	return e.tcpLn.Addr()
}

// Media over TCP queues at most tcpQueueBytes in Pion and tcpSocketBytes in
// the kernel: a second or two at a camera's rate, not the megabytes the
// kernel's autotuning would allow, so that a client whose link is congested
// gets late media dropped, and fresh media soon after, rather than a delay
// that only grows.
const (
	tcpQueueBytes  = 256 << 10
	tcpSocketBytes = 64 << 10
)

// shortSendQueues gives accepted media TCP connections a small send buffer.
type shortSendQueues struct{ net.Listener }

func (l shortSendQueues) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tcp, ok := c.(*net.TCPConn); ok {
		_ = tcp.SetWriteBuffer(tcpSocketBytes)
	}
	return c, err
}

// Close closes the media sockets. Close every peer first.
func (e *Engine) Close() error {
	e.probes.closeAll()
	return e.closeSockets()
}

func (e *Engine) closeSockets() error {
	var errs []error
	if e.tcpMux != nil {
		errs = append(errs, e.tcpMux.Close())
	}
	if e.udpMux != nil {
		errs = append(errs, e.udpMux.Close())
	}
	for _, s := range e.sockets {
		_ = s.conn.Close() // already closed with the mux, unless start-up failed
	}
	return errors.Join(errs...)
}

// The payload types the server offers. Browsers accept them in answers.
const (
	payloadTypeOpus = 111
	payloadTypeVP8  = 96
	payloadTypeH264 = 102
)

const audioLevelURI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"

// newMediaEngine registers the codecs and the receive-side interceptors. No
// interceptor runs on the sending path: the forwarder answers NACKs from its
// own cache, forwards keyframe requests and writes sender reports itself, so
// the per-subscriber cost stays in code we control.
func newMediaEngine() (*webrtc.MediaEngine, *interceptor.Registry, error) {
	me := &webrtc.MediaEngine{}
	videoFeedback := []webrtc.RTCPFeedback{
		{Type: webrtc.TypeRTCPFBNACK}, {Type: webrtc.TypeRTCPFBNACK, Parameter: "pli"},
		{Type: webrtc.TypeRTCPFBCCM, Parameter: "fir"}, {Type: webrtc.TypeRTCPFBTransportCC},
	}
	codecs := []struct {
		params webrtc.RTPCodecParameters
		kind   webrtc.RTPCodecType
	}{
		{webrtc.RTPCodecParameters{PayloadType: payloadTypeOpus, RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
			// In-band FEC repairs isolated losses; DTX sends almost nothing
			// while a participant is silent, which is most of the time.
			SDPFmtpLine:  "minptime=10;useinbandfec=1;usedtx=1",
			RTCPFeedback: []webrtc.RTCPFeedback{{Type: webrtc.TypeRTCPFBTransportCC}},
		}}, webrtc.RTPCodecTypeAudio},
		{webrtc.RTPCodecParameters{PayloadType: payloadTypeVP8, RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: videoFeedback,
		}}, webrtc.RTPCodecTypeVideo},
		// Constrained baseline, which every browser and hardware encoder has.
		{webrtc.RTPCodecParameters{PayloadType: payloadTypeH264, RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeH264, ClockRate: 90000, RTCPFeedback: videoFeedback,
			SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
		}}, webrtc.RTPCodecTypeVideo},
	}
	for _, c := range codecs {
		if err := me.RegisterCodec(c.params, c.kind); err != nil {
			return nil, nil, fmt.Errorf("register codec %s: %w", c.params.MimeType, err)
		}
	}
	if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: audioLevelURI},
		webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverDirectionRecvonly); err != nil {
		return nil, nil, fmt.Errorf("register audio level extension: %w", err)
	}
	// Simulcast: publishers tag each layer's packets with its stream id.
	for _, uri := range []string{sdp.SDESMidURI, sdp.SDESRTPStreamIDURI} {
		if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: uri},
			webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverDirectionRecvonly); err != nil {
			return nil, nil, fmt.Errorf("register simulcast extension %s: %w", uri, err)
		}
	}

	ir := &interceptor.Registry{}
	// NACKs to publishers for packets lost on their uplink. Without RTX the
	// repaired packet arrives on the same SSRC, so the generator sees it; the
	// cap stops a burst of loss from turning into a storm of NACKs.
	generator, err := nack.NewGeneratorInterceptor(nack.GeneratorSize(512), nack.GeneratorMaxNacksPerPacket(5))
	if err != nil {
		return nil, nil, fmt.Errorf("nack generator: %w", err)
	}
	ir.Add(generator)
	receiverReports, err := report.NewReceiverInterceptor()
	if err != nil {
		return nil, nil, fmt.Errorf("receiver reports: %w", err)
	}
	ir.Add(receiverReports)
	// Transport-wide congestion control feedback lets the browser's
	// bandwidth estimator adapt its upload.
	if err := webrtc.ConfigureTWCCSender(me, ir); err != nil {
		return nil, nil, fmt.Errorf("transport-cc: %w", err)
	}
	return me, ir, nil
}
