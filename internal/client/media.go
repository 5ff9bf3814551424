package client

import (
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/visio-meet/visio/internal/protocol"
)

const audioLevelURI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"

// mediaStack holds the client's two peer connections. Each has its own UDP
// socket, as in a browser (the server tells connections apart by address),
// and BlockMedia can silence both.
type mediaStack struct {
	c         *Client
	blackhole atomic.Bool
	dropEvery atomic.Uint32 // subscribe connection only

	mu      sync.Mutex
	pub     *webrtc.PeerConnection
	sub     *webrtc.PeerConnection
	sockets []io.Closer
}

func newMediaStack(c *Client) (*mediaStack, error) {
	return &mediaStack{c: c}, nil
}

// blackholeConn drops all traffic while blocked is set, and when dropEvery
// is set, every dropEvery-th incoming RTP packet (as a lossy link would).
type blackholeConn struct {
	net.PacketConn
	blocked   *atomic.Bool
	dropEvery *atomic.Uint32
	count     uint32
	downlink  *tokenBucket // nil: no limit
}

// tokenBucket passes packets at a rate, as a narrow link does: it holds
// them up to 100 ms (in the socket's buffer: the reader waits) and drops
// what would wait longer, like tc's tbf with "latency 100ms".
type tokenBucket struct {
	bytesPerSecond float64
	tokens         float64 // negative: bytes queued
	last           time.Time
}

const bucketQueue = 100 * time.Millisecond

// pass waits as the queue would, and reports whether the packet survives.
func (b *tokenBucket) pass(size int) bool {
	now := time.Now()
	burst := b.bytesPerSecond / 100 // 10 ms of the rate
	b.tokens = min(burst, b.tokens+now.Sub(b.last).Seconds()*b.bytesPerSecond)
	b.last = now
	if -b.tokens+float64(size) > b.bytesPerSecond*bucketQueue.Seconds() {
		return false
	}
	b.tokens -= float64(size)
	if b.tokens < 0 {
		time.Sleep(time.Duration(-b.tokens / b.bytesPerSecond * float64(time.Second)))
	}
	return true
}

func (b *blackholeConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	if b.blocked.Load() {
		return len(p), nil
	}
	return b.PacketConn.WriteTo(p, addr)
}

func (b *blackholeConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		n, addr, err := b.PacketConn.ReadFrom(p)
		if err != nil {
			return n, addr, err
		}
		if b.blocked.Load() {
			continue
		}
		if every := b.dropEvery.Load(); every > 0 && isRTP(p[:n]) {
			b.count++
			if b.count%every == 0 {
				continue
			}
		}
		if b.downlink != nil && isRTP(p[:n]) && !b.downlink.pass(n+28) {
			continue
		}
		return n, addr, err
	}
}

// isRTP tells SRTP from SRTCP, STUN and DTLS by the first two bytes
// (RFC 7983, RFC 5761).
func isRTP(b []byte) bool {
	return len(b) > 1 && b[0] >= 128 && b[0] < 192 && (b[1] < 192 || b[1] > 223)
}

// newConnection makes a peer connection on a new socket; m.mu is held.
func (m *mediaStack) newConnection(lossy bool) (*webrtc.PeerConnection, error) {
	// An offer handled while the client closes would otherwise leave a
	// connection behind: close cancels the context before it takes m.mu.
	if err := m.c.ctx.Err(); err != nil {
		return nil, fmt.Errorf("the client is closed: %w", err)
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetICETimeouts(3*time.Second, 10*time.Second, time.Second)
	// As browsers do: retransmissions arrive well behind newer packets.
	se.SetSRTPReplayProtectionWindow(1024)
	config, err := m.configuration()
	if err != nil {
		return nil, err
	}
	if m.c.opts.TCPOnly {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeTCP4})
		api, err := newAPI(se)
		if err != nil {
			return nil, err
		}
		return api.NewPeerConnection(config)
	}
	udp, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4zero})
	if err != nil {
		return nil, fmt.Errorf("client media socket: %w", err)
	}
	bh := &blackholeConn{PacketConn: udp, blocked: &m.blackhole, dropEvery: &atomic.Uint32{}}
	if lossy {
		bh.dropEvery = &m.dropEvery
		if kbps := m.c.opts.DownlinkKbps; kbps > 0 {
			rate := float64(kbps) * 1000 / 8
			bh.downlink = &tokenBucket{bytesPerSecond: rate, last: time.Now()}
		}
	}
	var conn net.PacketConn = bh
	if m.c.opts.WrapConn != nil {
		conn = m.c.opts.WrapConn(udp, lossy)
	}
	mux := ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: conn})
	m.sockets = append(m.sockets, mux, udp)
	se.SetICEUDPMux(mux)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	api, err := newAPI(se)
	if err != nil {
		return nil, err
	}
	return api.NewPeerConnection(config)
}

// configuration is the peer connections' configuration: relay only, through
// the TURN server of the welcome, when Options.Relay says so.
func (m *mediaStack) configuration() (webrtc.Configuration, error) {
	config := webrtc.Configuration{BundlePolicy: webrtc.BundlePolicyMaxBundle}
	if m.c.opts.Relay == "" {
		return config, nil
	}
	m.c.mu.Lock()
	servers := m.c.welcome.ICEServers
	m.c.mu.Unlock()
	for _, s := range servers {
		var urls []string
		for _, u := range s.URLs {
			if strings.HasSuffix(u, "?transport="+m.c.opts.Relay) && strings.HasPrefix(u, "turn:") {
				urls = append(urls, u)
			}
		}
		if len(urls) > 0 {
			config.ICEServers = append(config.ICEServers, webrtc.ICEServer{URLs: urls, Username: s.Username, Credential: s.Credential})
		}
	}
	if len(config.ICEServers) == 0 {
		return config, fmt.Errorf("the server offers no TURN relay over %s", m.c.opts.Relay)
	}
	config.ICETransportPolicy = webrtc.ICETransportPolicyRelay
	return config, nil
}

// addTracks adds one synthetic track per source to the publish connection.
func (m *mediaStack) addTracks(sources []protocol.Source) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pub == nil {
		pc, err := m.newConnection(false)
		if err != nil {
			return err
		}
		m.pub = pc
	}
	for _, src := range sources {
		p, err := newPublishedTrack(m.pub, src, m.c.opts.Simulcast && src == protocol.SourceCamera, m.c.opts.H264)
		if err != nil {
			return err
		}
		if src == protocol.SourceMicrophone {
			p.speech = m.c.opts.Speech
		}
		m.c.mu.Lock()
		m.c.published[src] = p
		m.c.mu.Unlock()
		for _, e := range p.encodings {
			m.c.wg.Go(func() { p.readRTCP(e) })
		}
		m.c.wg.Go(func() { p.send(m.c.ctx, m.c.opts.Epoch) })
	}
	return nil
}

func (m *mediaStack) publishOffer(restartICE bool) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	offer, err := m.pub.CreateOffer(&webrtc.OfferOptions{ICERestart: restartICE})
	if err != nil {
		return "", err
	}
	gathered := webrtc.GatheringCompletePromise(m.pub)
	if err := m.pub.SetLocalDescription(offer); err != nil {
		return "", err
	}
	<-gathered
	m.c.mu.Lock()
	for _, tr := range m.pub.GetTransceivers() {
		for src, p := range m.c.published {
			if tr.Sender() == p.sender {
				mid := tr.Mid()
				m.c.pubMids[src] = mid
				p.mid.Store(&mid)
			}
		}
	}
	m.c.mu.Unlock()
	return m.pub.LocalDescription().SDP, nil
}

func (m *mediaStack) edit(sdp string) string {
	if m.c.opts.EditServerSDP == nil {
		return sdp
	}
	return m.c.opts.EditServerSDP(sdp)
}

func (m *mediaStack) setPublishAnswer(answer string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: m.edit(answer)})
}

func (m *mediaStack) answerOffer(offer string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sub == nil {
		pc, err := m.newConnection(true)
		if err != nil {
			return err
		}
		pc.OnTrack(func(remote *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) { m.onTrack(pc, remote, receiver) })
		m.sub = pc
	}
	if err := m.sub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: m.edit(offer)}); err != nil {
		return err
	}
	answer, err := m.sub.CreateAnswer(nil)
	if err != nil {
		return err
	}
	gathered := webrtc.GatheringCompletePromise(m.sub)
	if err := m.sub.SetLocalDescription(answer); err != nil {
		return err
	}
	<-gathered
	return m.c.SendMessage(m.c.ctx, &protocol.Answer{SDP: m.sub.LocalDescription().SDP})
}

// onTrack records a track arriving on the subscribe connection pc. Pion
// calls it on its own goroutine, so pc may already be closed and replaced
// (close sets m.sub to nil): its tracks are then ignored.
func (m *mediaStack) onTrack(pc *webrtc.PeerConnection, remote *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) {
	m.mu.Lock()
	if m.sub != pc {
		m.mu.Unlock()
		return
	}
	mid := ""
	for _, tr := range pc.GetTransceivers() {
		if tr.Receiver() == receiver {
			mid = tr.Mid()
		}
	}
	m.mu.Unlock()
	m.c.mu.Lock()
	offered, ok := m.c.offered[mid]
	if !ok {
		m.c.mu.Unlock()
		return
	}
	key := TrackKey{Participant: offered.Participant, Source: offered.Source}
	r, ok := m.c.received[key]
	if !ok {
		r = &ReceivedTrack{}
		m.c.received[key] = r
	}
	r.mu.Lock()
	r.ssrc = uint32(remote.SSRC())
	r.codec = remote.Codec().MimeType
	r.frameStart = true
	r.mu.Unlock()
	m.c.notifyLocked()
	m.c.mu.Unlock()
	m.c.wg.Go(func() { r.read(remote) })
	m.c.wg.Go(func() { r.readRTCP(receiver) })
}

func (m *mediaStack) requestKeyframe(key TrackKey) error {
	m.c.mu.Lock()
	r, ok := m.c.received[key]
	m.c.mu.Unlock()
	m.mu.Lock()
	sub := m.sub
	m.mu.Unlock()
	if !ok || sub == nil {
		return errNotReceived
	}
	r.mu.Lock()
	ssrc := r.ssrc
	r.mu.Unlock()
	return sub.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}})
}

// remoteUfrags returns the server's ICE user fragments on both connections.
func (m *mediaStack) remoteUfrags() (publish, subscribe string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ufrag := func(pc *webrtc.PeerConnection) string {
		if pc == nil || pc.RemoteDescription() == nil {
			return ""
		}
		for line := range strings.SplitSeq(pc.RemoteDescription().SDP, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "a=ice-ufrag:"); ok {
				return v
			}
		}
		return ""
	}
	return ufrag(m.pub), ufrag(m.sub)
}

func (m *mediaStack) close() {
	m.mu.Lock()
	pcs := []*webrtc.PeerConnection{m.pub, m.sub}
	sockets := m.sockets
	m.pub, m.sub, m.sockets = nil, nil, nil // new ones come with the next offers
	m.mu.Unlock()
	for _, pc := range pcs {
		if pc != nil {
			_ = pc.Close()
		}
	}
	for _, s := range sockets {
		_ = s.Close()
	}
}

// ReceivedTrack counts the packets of one track from another participant.
type ReceivedTrack struct {
	mu            sync.Mutex
	ssrc          uint32
	packets       int
	bytes         int
	keyframes     int
	senderReports int
	codec         string // MIME type
	frameStart    bool   // the next packet starts a frame
	layer         int    // of the latest video packet, -1 when not marked
	layerPackets  [3]int
	last          time.Time
	seen          [65536 / 64]uint64 // which sequence numbers arrived
	first         uint16
	highest       int // extended highest sequence number, relative to first
}

// TrackStats is a snapshot of a ReceivedTrack.
type TrackStats struct {
	Packets   int
	Bytes     int
	Codec     string // the MIME type negotiated
	Keyframes int    // keyframes seen
	// Layer is the simulcast layer of the latest video packet, from 0 (the
	// lowest), or -1 when the publisher sends no simulcast.
	Layer         int
	LayerPackets  [3]int // packets received of each simulcast layer
	SenderReports int    // RTCP sender reports received for the track
	// Missing counts sequence numbers that never arrived, not counting the
	// newest 50, which a retransmission may still repair.
	Missing int
	Last    time.Time
}

func (r *ReceivedTrack) stats() TrackStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	missing := 0
	for i := 0; i < r.highest-50 && i < 65536; i++ {
		seq := r.first + uint16(i)
		if r.seen[seq/64]&(1<<(seq%64)) == 0 {
			missing++
		}
	}
	return TrackStats{Codec: r.codec, Packets: r.packets, Bytes: r.bytes, Keyframes: r.keyframes, SenderReports: r.senderReports, Layer: r.layer, LayerPackets: r.layerPackets,
		Missing: missing, Last: r.last}
}

func (r *ReceivedTrack) readRTCP(receiver *webrtc.RTPReceiver) {
	buf := make([]byte, 1500)
	for {
		n, _, err := receiver.Read(buf)
		if err != nil {
			return
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		for _, p := range pkts {
			if _, ok := p.(*rtcp.SenderReport); ok {
				r.mu.Lock()
				r.senderReports++
				r.mu.Unlock()
			}
		}
	}
}

func (r *ReceivedTrack) read(remote *webrtc.TrackRemote) {
	buf := make([]byte, 1500)
	var p rtp.Packet
	for {
		n, _, err := remote.Read(buf)
		if err != nil {
			return
		}
		if p.Unmarshal(buf[:n]) != nil {
			continue
		}
		r.mu.Lock()
		if r.packets == 0 {
			r.first = p.SequenceNumber
		}
		if ahead := int(p.SequenceNumber - r.first); ahead > r.highest && ahead-r.highest < 0x8000 {
			r.highest = ahead
		}
		r.seen[p.SequenceNumber/64] |= 1 << (p.SequenceNumber % 64)
		r.packets++
		r.bytes += len(p.Payload)
		if p.PayloadType != 111 {
			if r.frameStart && isKeyframe(p.Payload, r.codec) {
				r.keyframes++
			}
			r.frameStart = p.Marker
			if len(p.Payload) > layerMarkOffset {
				r.layer = int(p.Payload[layerMarkOffset]) - 1
				if r.layer >= 0 && r.layer < len(r.layerPackets) {
					r.layerPackets[r.layer]++
				}
			}
		}
		r.last = time.Now()
		r.mu.Unlock()
	}
}
