// Package client is a Visio participant written in Go: it joins a meeting
// through the real signalling protocol, publishes synthetic Opus and VP8
// media over WebRTC, and counts what it receives from others. Integration
// tests and the load generator use it in place of a browser.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"

	"github.com/visio-meet/visio/internal/protocol"
)

// Options say where and as whom to join.
type Options struct {
	URL    string // the server's base URL, such as http://127.0.0.1:8080
	Room   string
	Name   string
	Logger *slog.Logger
	// TCPOnly makes the media go over ICE-TCP, as from a network that blocks
	// UDP. BlockMedia and DropIncoming then have no effect.
	TCPOnly bool
	// WrapConn, when set, wraps the UDP socket of each peer connection
	// (subscribe tells which one), for example to count media without
	// decrypting it. BlockMedia and DropIncoming then have no effect.
	WrapConn func(conn *net.UDPConn, subscribe bool) net.PacketConn
	// Relay, when "udp" or "tcp", makes media go only through the server's
	// TURN relay, over that transport, as from a network that lets nothing
	// else through.
	Relay string
	// DownlinkKbps, when set, makes the subscribe connection a narrow link of
	// that rate, which queues up to 100 ms and drops the rest.
	DownlinkKbps int
	// H264 makes the camera H.264 (constrained baseline, packetization
	// mode 1) instead of VP8.
	H264 bool
	// Simulcast makes the camera go out in three layers (q, h and f at 150,
	// 500 and 1,500 kbit/s), as the web app sends it.
	Simulcast bool
	// Cookies, when set, go with the signalling connection: a signed-in
	// user's session, a guest's id.
	Cookies http.CookieJar
	// EditServerSDP, when set, changes the server's offers and answers
	// before they are used, for example to reach its TCP port through a
	// proxy.
	EditServerSDP func(sdp string) string
	// Epoch, when set, makes synthetic media carry RTP timestamps counted
	// from it, so that a receiver can tell how long each packet took.
	Epoch time.Time
	// Speech, when set, is what the microphone says: Opus packets of 20 ms
	// each (see ReadOggOpus), sent once in real time from when the track
	// starts; after the last one the microphone is silent and sends
	// nothing, as with DTX.
	Speech [][]byte
}

// Client is one participant.
type Client struct {
	opts    Options
	log     *slog.Logger
	wsMu    sync.Mutex
	ws      *websocket.Conn
	rawConn net.Conn // the TCP connection under ws, for Kill
	media   *mediaStack
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	mu        sync.Mutex
	changed   chan struct{} // closed and replaced on every state change
	self      protocol.Participant
	others    map[string]protocol.Participant
	offered   map[string]protocol.OfferedTrack // by mid on the subscribe connection
	received  map[TrackKey]*ReceivedTrack
	errors    []protocol.Error
	speakers  protocol.Speakers
	bye       string
	closed    bool
	signalURL string            // where the signalling endpoint is: the meeting's node
	republish []protocol.Source // what a Rejoin under way publishes again
	published map[protocol.Source]*publishedTrack
	pubMids   map[protocol.Source]string
	layers    map[string][]string // the latest layers message, by mid
	welcome   protocol.Welcome    // the latest: ICE servers, resume token and how long it lasts
	quality   map[string]protocol.Quality
	resumed   bool
	leftIDs   []string
	answers   chan string
	waiting   bool
	lobby     protocol.Lobby
	knocks    int
	room      protocol.Room
	moderated []protocol.Moderated
	speech    protocol.Speech
	captions  []ReceivedCaption
	chat      chatLog
}

// ReceivedCaption is a caption and when it came.
type ReceivedCaption struct {
	protocol.Caption
	At time.Time
}

// TrackKey names a received track.
type TrackKey struct {
	Participant string
	Source      protocol.Source
}

// Join connects, joins the room and waits for the welcome, or for the
// lobby (State.Waiting) in a room where a host must let them in.
func Join(ctx context.Context, opts Options) (*Client, error) {
	grant, err := RequestJoin(ctx, opts)
	if err != nil {
		return nil, err
	}
	c, err := connect(ctx, opts, grant.SignalURL)
	if err != nil {
		return nil, err
	}
	if err := c.sendJoin(ctx, grant.Token, ""); err != nil {
		c.Kill()
		return nil, err
	}
	return c, nil
}

// Connect opens the signalling socket without joining, for tests that speak
// the protocol by hand.
func Connect(ctx context.Context, opts Options) (*Client, error) {
	return connect(ctx, opts, "")
}

// connect opens the signalling socket at signalURL, or else at the
// server's own endpoint.
func connect(ctx context.Context, opts Options, signalURL string) (*Client, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Client{
		opts:      opts,
		log:       opts.Logger.With("client", opts.Name),
		changed:   make(chan struct{}),
		others:    map[string]protocol.Participant{},
		offered:   map[string]protocol.OfferedTrack{},
		received:  map[TrackKey]*ReceivedTrack{},
		published: map[protocol.Source]*publishedTrack{},
		pubMids:   map[protocol.Source]string{},
		layers:    map[string][]string{},
		answers:   make(chan string, 1),
		signalURL: signalURL,
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	media, err := newMediaStack(c)
	if err != nil {
		c.cancel()
		return nil, err
	}
	c.media = media
	if err := c.dial(ctx); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

// dial opens a signalling socket and reads it until it closes.
func (c *Client) dial(ctx context.Context) error {
	var dialer net.Dialer
	var raw net.Conn
	httpClient := &http.Client{Jar: c.opts.Cookies, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := dialer.DialContext(ctx, network, addr)
			raw = conn
			return conn, err
		},
	}}
	c.mu.Lock()
	url := c.signalURL
	c.mu.Unlock()
	if url == "" {
		url = "ws" + strings.TrimPrefix(c.opts.URL, "http") + "/ws"
	}
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{
		Subprotocols: []string{protocol.Subprotocol},
		HTTPClient:   httpClient,
	})
	if err != nil {
		return fmt.Errorf("dial %s: %w", url, err)
	}
	ws.SetReadLimit(16 << 20)
	c.wsMu.Lock()
	c.ws, c.rawConn = ws, raw
	c.wsMu.Unlock()
	c.mu.Lock()
	c.closed = false
	c.mu.Unlock()
	c.wg.Go(func() { c.readLoop(ws) })
	return nil
}

// DropSignalling cuts the signalling connection without a goodbye, as a
// network outage would, and leaves the media as they are.
func (c *Client) DropSignalling() {
	c.cutSocket()
	_ = c.WaitFor(context.Background(), func(s State) bool { return s.Closed })
}

// cutSocket closes the TCP connection under the WebSocket, without a close
// frame.
func (c *Client) cutSocket() {
	c.wsMu.Lock()
	raw := c.rawConn
	c.wsMu.Unlock()
	if raw != nil {
		_ = raw.Close()
	}
}

// Resume connects again after the signalling connection dropped, and comes
// back as the same participant with the token of the welcome.
func (c *Client) Resume(ctx context.Context) error {
	c.mu.Lock()
	id, token := c.self.ID, c.welcome.ResumeToken
	c.resumed = false
	c.mu.Unlock()
	if err := c.dial(ctx); err != nil {
		return err
	}
	if err := c.SendMessage(ctx, &protocol.Resume{Participant: id, Token: token}); err != nil {
		return err
	}
	errorsBefore := len(c.State().Errors)
	err := c.WaitFor(ctx, func(s State) bool { return s.Resumed || len(s.Errors) > errorsBefore })
	if st := c.State(); err == nil && !st.Resumed {
		err = fmt.Errorf("resume refused: %v", st.Errors[len(st.Errors)-1])
	}
	return err
}

// RestartICE restarts ICE on both connections, as after a network change:
// a new offer with new credentials on the publish connection, and a request
// for one on the subscribe connection.
func (c *Client) RestartICE(ctx context.Context) error {
	if err := c.SendMessage(ctx, &protocol.Restart{}); err != nil {
		return err
	}
	return c.negotiatePublish(ctx, true)
}

// negotiatePublish sends a new publish offer and applies the answer.
func (c *Client) negotiatePublish(ctx context.Context, restartICE bool) error {
	offer, err := c.media.publishOffer(restartICE)
	if err != nil {
		return err
	}
	if err := c.SendMessage(ctx, &protocol.Publish{SDP: offer, Tracks: c.declarations()}); err != nil {
		return err
	}
	select {
	case answer := <-c.answers:
		return c.media.setPublishAnswer(answer)
	case <-ctx.Done():
		return fmt.Errorf("no publish answer: %w (errors: %v)", ctx.Err(), c.State().Errors)
	}
}

// RemoteICEUfrags returns the ICE user fragments the server gave for the
// publish and subscribe connections, which change with an ICE restart.
func (c *Client) RemoteICEUfrags() (publish, subscribe string) {
	return c.media.remoteUfrags()
}

// State is a snapshot of what the client knows.
type State struct {
	ICEServers []protocol.ICEServer // from the welcome
	Resumed    bool                 // a resumed welcome came on the latest connection
	// ResumeWithin is how long the server keeps our place after a drop.
	ResumeWithin time.Duration
	Left         []string // the participants who left, in order
	Quality      map[string]protocol.Quality
	Self         protocol.Participant
	Others       map[string]protocol.Participant
	Received     map[TrackKey]TrackStats
	Errors       []protocol.Error
	Speakers     protocol.Speakers
	Bye          string
	Closed       bool // the server closed the socket
	// Waiting is set while in the lobby, until a host lets us in.
	Waiting bool
	// Lobby is who waits, as a host is told; Knocks counts arrivals.
	Lobby     []protocol.Visitor
	Knocks    int
	Room      protocol.Room
	Moderated []protocol.Moderated // what hosts did to us, in order
	Speech    protocol.Speech      // captions and transcription, as last told
	Captions  []ReceivedCaption    // every caption received, in order
	Chat      ChatState
	Welcome   protocol.Welcome // the latest, as it came
}

// State returns a snapshot.
func (c *Client) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := State{Self: c.self, Others: map[string]protocol.Participant{}, Received: map[TrackKey]TrackStats{},
		Errors: append([]protocol.Error(nil), c.errors...), Speakers: c.speakers, Bye: c.bye, Closed: c.closed,
		ICEServers: c.welcome.ICEServers, Quality: maps.Clone(c.quality), Resumed: c.resumed, ResumeWithin: time.Duration(c.welcome.ResumeWithinMS) * time.Millisecond, Left: slices.Clone(c.leftIDs),
		Waiting: c.waiting, Lobby: slices.Clone(c.lobby.Waiting), Knocks: c.knocks, Room: c.room, Moderated: slices.Clone(c.moderated),
		Speech: c.speech, Captions: slices.Clone(c.captions), Chat: c.chat.state(), Welcome: c.welcome}
	for k, v := range c.others {
		s.Others[k] = v
	}
	for k, r := range c.received {
		s.Received[k] = r.stats()
	}
	return s
}

// ID returns the participant id the server gave.
func (c *Client) ID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.self.ID
}

// WaitFor waits until cond holds on the client's state.
func (c *Client) WaitFor(ctx context.Context, cond func(State) bool) error {
	ticker := time.NewTicker(50 * time.Millisecond) // received packet counts change without notification
	defer ticker.Stop()
	for {
		c.mu.Lock()
		changed := c.changed
		c.mu.Unlock()
		if cond(c.State()) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", c.opts.Name, ctx.Err())
		case <-changed:
		case <-ticker.C:
		}
	}
}

func (c *Client) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// SendMessage sends a protocol message.
func (c *Client) SendMessage(ctx context.Context, m protocol.Message) error {
	b, err := protocol.Encode(m)
	if err != nil {
		return err
	}
	return c.SendRaw(ctx, b)
}

// SendRaw sends any text, valid or not.
func (c *Client) SendRaw(ctx context.Context, b []byte) error {
	c.wsMu.Lock()
	ws := c.ws
	c.wsMu.Unlock()
	return ws.Write(ctx, websocket.MessageText, b)
}

func (c *Client) readLoop(ws *websocket.Conn) {
	defer func() {
		c.mu.Lock()
		c.closed = true
		c.notifyLocked()
		c.mu.Unlock()
	}()
	for {
		_, data, err := ws.Read(c.ctx)
		if err != nil {
			return
		}
		msg, err := protocol.DecodeServer(data)
		if err != nil {
			c.log.Error("undecodable server message", "err", err)
			continue
		}
		c.handle(msg)
	}
}

func (c *Client) handle(msg protocol.Message) {
	if o, ok := msg.(*protocol.Offer); ok {
		c.mu.Lock()
		for _, t := range o.Tracks {
			c.offered[t.Mid] = t
		}
		c.mu.Unlock()
		if err := c.media.answerOffer(o.SDP); err != nil {
			c.log.Error("answer offer", "err", err)
		}
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	defer c.notifyLocked()
	switch m := msg.(type) {
	case *protocol.Welcome:
		c.welcome = *m
		c.waiting = false
		c.self = m.You
		c.resumed = m.Resumed
		clear(c.others)
		for _, p := range m.Participants {
			c.others[p.ID] = p
		}
	case *protocol.ParticipantJoined:
		c.others[m.Participant.ID] = m.Participant
	case *protocol.ParticipantUpdated:
		if m.Participant.ID == c.self.ID {
			c.self = m.Participant
		} else {
			c.others[m.Participant.ID] = m.Participant
		}
	case *protocol.ParticipantLeft:
		delete(c.others, m.ID)
		c.leftIDs = append(c.leftIDs, m.ID)
	case *protocol.PublishAnswer:
		select {
		case c.answers <- m.SDP:
		default:
		}
	case *protocol.Speakers:
		c.speakers = *m
	case *protocol.QualityReport:
		c.quality = m.Participants
	case *protocol.Layers:
		for src, p := range c.published {
			if c.pubMids[src] == m.Mid {
				p.setActive(m.Active)
			}
		}
		c.layers[m.Mid] = m.Active
	case *protocol.Error:
		c.errors = append(c.errors, *m)
	case *protocol.Bye:
		c.bye = m.Reason
	case *protocol.Waiting:
		c.waiting = true
	case *protocol.Lobby:
		c.lobby = *m
		if m.Knock {
			c.knocks++
		}
	case *protocol.Room:
		c.room = *m
	case *protocol.Speech:
		c.speech = *m
	case *protocol.Caption:
		c.captions = append(c.captions, ReceivedCaption{*m, time.Now()})
	case *protocol.Moderated:
		c.moderated = append(c.moderated, *m)
		c.obeyLocked(m)
	case *protocol.Chat, *protocol.ChatHistory, *protocol.ChatDeleted, *protocol.Reaction:
		c.chat.handle(m)
	}
}

// obeyLocked does what the web app does when a host mutes the microphone or
// stops the camera: the same as the user doing it.
func (c *Client) obeyLocked(m *protocol.Moderated) {
	t, ok := c.published[m.Source]
	if !ok {
		return
	}
	switch m.Action {
	case protocol.ActionMute:
		t.muted.Store(true)
	case protocol.ActionStop:
		t.stop()
		delete(c.published, m.Source)
	}
}

// Publish starts publishing synthetic media for each source, renegotiating
// the publish connection.
func (c *Client) Publish(ctx context.Context, sources ...protocol.Source) error {
	if err := c.media.addTracks(sources); err != nil {
		return err
	}
	return c.negotiatePublish(ctx, false)
}

// Unpublish stops a source and tells the server, without renegotiation.
func (c *Client) Unpublish(ctx context.Context, src protocol.Source) error {
	c.mu.Lock()
	if t, ok := c.published[src]; ok {
		t.stop()
		delete(c.published, src)
	}
	c.mu.Unlock()
	return c.SendMessage(ctx, &protocol.Publish{Tracks: c.declarations()})
}

func (c *Client) declarations() []protocol.TrackDeclaration {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := []protocol.TrackDeclaration{}
	for src, t := range c.published {
		out = append(out, protocol.TrackDeclaration{Mid: c.pubMids[src], Source: src, Muted: t.muted.Load()})
	}
	return out
}

// SetMuted mutes a published source: audio goes silent (level 127) and the
// server is told.
func (c *Client) SetMuted(ctx context.Context, src protocol.Source, muted bool) error {
	c.mu.Lock()
	if t, ok := c.published[src]; ok {
		t.muted.Store(muted)
	}
	c.mu.Unlock()
	return c.SendMessage(ctx, &protocol.Mute{Source: src, Muted: muted})
}

// ActiveLayers returns the stream ids of the layers of a published source
// that the server last asked for, and whether it asked at all.
func (c *Client) ActiveLayers(src protocol.Source) ([]string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	active, ok := c.layers[c.pubMids[src]]
	return active, ok
}

// SetView tells the server which video tracks the client shows and how tall
// their tiles are, in pixels.
func (c *Client) SetView(ctx context.Context, heights map[TrackKey]int) error {
	tracks := []protocol.ViewedTrack{}
	for k, h := range heights {
		tracks = append(tracks, protocol.ViewedTrack{Participant: k.Participant, Source: k.Source, Width: h * 16 / 9, Height: h})
	}
	return c.SendMessage(ctx, &protocol.View{Tracks: tracks})
}

// SetSpeaking makes the microphone send loud (speaking) or silent levels.
func (c *Client) SetSpeaking(speaking bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.published[protocol.SourceMicrophone]; ok {
		t.speaking.Store(speaking)
	}
}

// KeyframeRequests returns how many PLI or FIR the server sent for a source.
func (c *Client) KeyframeRequests(src protocol.Source) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.published[src]; ok {
		return int(t.keyframeRequests.Load())
	}
	return 0
}

// SentPackets returns how many RTP packets the client has published, all
// tracks and layers together.
func (c *Client) SentPackets() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var n int64
	for _, t := range c.published {
		n += t.sent.Load()
	}
	return n
}

// ReceiverReports returns how many RTCP receiver reports the server sent
// about a published source.
func (c *Client) ReceiverReports(src protocol.Source) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.published[src]; ok {
		return int(t.receiverReports.Load())
	}
	return 0
}

// ICERoundTrip returns the latest round-trip time of the connectivity checks
// on the subscribe connection (or the publish one if there is none), which
// the server's ICE agent answers on the same socket as media.
func (c *Client) ICERoundTrip() time.Duration {
	c.media.mu.Lock()
	pc := c.media.sub
	if pc == nil {
		pc = c.media.pub
	}
	c.media.mu.Unlock()
	if pc == nil {
		return 0
	}
	var rtt time.Duration
	for _, s := range pc.GetStats() {
		if pair, ok := s.(webrtc.ICECandidatePairStats); ok && pair.Nominated {
			rtt = max(rtt, time.Duration(pair.CurrentRoundTripTime*float64(time.Second)))
		}
	}
	return rtt
}

// DropIncoming makes the client lose every n-th media packet it receives
// from the server (0 stops it), to exercise retransmission.
func (c *Client) DropIncoming(n uint32) { c.media.dropEvery.Store(n) }

// RequestKeyframe sends a PLI for a received track, as a decoder would.
func (c *Client) RequestKeyframe(key TrackKey) error {
	return c.media.requestKeyframe(key)
}

// BlockMedia drops every media packet in and out, as a network cut would,
// while the signalling socket stays up.
func (c *Client) BlockMedia(blocked bool) { c.media.blackhole.Store(blocked) }

// Leave says goodbye and closes everything.
func (c *Client) Leave(ctx context.Context) error {
	err := c.SendMessage(ctx, &protocol.Leave{})
	if err == nil {
		err = c.WaitFor(ctx, func(s State) bool { return s.Closed })
	}
	c.close()
	return err
}

// Kill drops the connections without a word, as a crashed browser would.
func (c *Client) Kill() {
	c.cutSocket()
	c.close()
}

func (c *Client) close() {
	c.cancel()
	c.wsMu.Lock()
	ws := c.ws
	c.wsMu.Unlock()
	if ws != nil {
		_ = ws.CloseNow()
	}
	if c.media != nil {
		c.media.close()
	}
	c.wg.Wait()
}

// errNotReceived is returned for keyframe requests on unknown tracks.
var errNotReceived = errors.New("no such received track")

// newAPI builds the client's WebRTC stack.
func newAPI(settings webrtc.SettingEngine) (*webrtc.API, error) {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: audioLevelURI}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	if err := webrtc.ConfigureSimulcastExtensionHeaders(me); err != nil {
		return nil, err
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, ir); err != nil {
		return nil, err
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(settings)), nil
}

// Admit lets a waiting participant in; with id empty, everyone waiting.
func (c *Client) Admit(ctx context.Context, id string) error {
	if id == "" {
		return c.SendMessage(ctx, &protocol.AdmitAll{})
	}
	return c.SendMessage(ctx, &protocol.Admit{Participant: id})
}

// Deny refuses a waiting participant.
func (c *Client) Deny(ctx context.Context, id string) error {
	return c.SendMessage(ctx, &protocol.Deny{Participant: id})
}

// Moderate sends a host's action.
func (c *Client) Moderate(ctx context.Context, a protocol.Moderate) error {
	return c.SendMessage(ctx, &a)
}

// ControlSpeech turns captions or transcription on or off, as a host.
func (c *Client) ControlSpeech(ctx context.Context, s protocol.SpeechControl) error {
	return c.SendMessage(ctx, &s)
}

// ChangeSettings changes the room's rules, as a host.
func (c *Client) ChangeSettings(ctx context.Context, s protocol.RoomSettings) error {
	return c.SendMessage(ctx, &s)
}

// JoinGrant is the REST API's answer to a request to join.
type JoinGrant struct {
	Token     string `json:"token"`
	Name      string `json:"name"`
	Enter     string `json:"enter"`      // "enter" or "wait"
	SignalURL string `json:"signal_url"` // the node hosting the meeting; "" for the server asked
}

// RequestJoin asks the REST API for a join token, as the web app does
// before it opens the signalling socket.
func RequestJoin(ctx context.Context, opts Options) (JoinGrant, error) {
	body, _ := json.Marshal(map[string]string{"name": opts.Name})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, opts.URL+"/api/v1/rooms/"+url.PathEscape(opts.Room)+"/join", bytes.NewReader(body))
	if err != nil {
		return JoinGrant{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := (&http.Client{Jar: opts.Cookies}).Do(req)
	if err != nil {
		return JoinGrant{}, fmt.Errorf("ask to join: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		var e struct{ Error, Message string }
		_ = json.NewDecoder(res.Body).Decode(&e)
		return JoinGrant{}, &RefusedError{Status: res.StatusCode, Code: e.Error, Message: e.Message}
	}
	var g JoinGrant
	if err := json.NewDecoder(res.Body).Decode(&g); err != nil {
		return JoinGrant{}, fmt.Errorf("ask to join: %w", err)
	}
	return g, nil
}

// RefusedError is the REST API's refusal.
type RefusedError struct {
	Status        int
	Code, Message string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("refused (%d %s): %s", e.Status, e.Code, e.Message)
}

// RaiseHand raises or lowers the participant's hand.
func (c *Client) RaiseHand(ctx context.Context, raised bool) error {
	return c.SendMessage(ctx, &protocol.Hand{Raised: raised})
}
