// Package signal serves the signalling protocol (package protocol) over
// WebSocket: one session per participant, which turns client messages into
// calls on the meeting and sends back what the meeting reports.
//
// A session never lets a bad message reach further than a typed error in
// reply, and never lets a slow or silent client hold up anyone else: its
// outgoing messages wait in a bounded queue, and a client that lets the queue
// fill is disconnected.
package signal

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"

	"github.com/visio-meet/visio/internal/meeting"
	"github.com/visio-meet/visio/internal/protocol"
	"github.com/visio-meet/visio/internal/room"
	"github.com/visio-meet/visio/internal/sfu"
	"github.com/visio-meet/visio/internal/token"
)

// Config tunes sessions. Zero values pick the defaults.
type Config struct {
	// OriginPatterns lists the other origins (host patterns, as in
	// websocket.AcceptOptions) allowed to open a session; the server's own
	// origin is always allowed.
	OriginPatterns []string
	// MoreOrigins, when set, returns more origin patterns, which change
	// while the server runs: the other nodes of a cluster.
	MoreOrigins  func() []string
	PingInterval time.Duration // default 15 s
	PingTimeout  time.Duration // default 10 s
	MessageRate  rate.Limit    // sustained messages per second; default 50
	MessageBurst int           // default 200 (ICE candidates come in bursts)
	QueueLength  int           // outgoing messages waiting for a slow client; default 512
	// ICEServers, when set, returns the TURN servers and credentials for a
	// new session, given the host name the client reached the server at.
	ICEServers func(host string) []protocol.ICEServer
	// JoinTokens, when set, checks the join token every join must carry
	// (issued by the REST API, which knows who the user is and what they
	// are in the room); without it, everyone joins as a guest.
	JoinTokens *token.Issuer
}

// Handler accepts signalling sessions.
type Handler struct {
	meetings *meeting.Registry
	cfg      Config
	log      *slog.Logger
	sessions sync.WaitGroup
}

// NewHandler returns a handler that joins participants to meetings.
func NewHandler(meetings *meeting.Registry, cfg Config, log *slog.Logger) *Handler {
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = 15 * time.Second
	}
	if cfg.PingTimeout <= 0 {
		cfg.PingTimeout = 10 * time.Second
	}
	if cfg.MessageRate <= 0 {
		cfg.MessageRate = 50
	}
	if cfg.MessageBurst <= 0 {
		cfg.MessageBurst = 200
	}
	if cfg.QueueLength <= 0 {
		cfg.QueueLength = 512
	}
	return &Handler{meetings: meetings, cfg: cfg, log: log.With("component", "signal")}
}

// Wait blocks until every session has ended, or ctx is done.
func (h *Handler) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { h.sessions.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ServeHTTP upgrades the request to a WebSocket and runs a session on it.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	origins := h.cfg.OriginPatterns
	if h.cfg.MoreOrigins != nil {
		origins = append(slices.Clip(origins), h.cfg.MoreOrigins()...)
	}
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		Subprotocols:   []string{protocol.Subprotocol},
		OriginPatterns: origins,
	})
	if err != nil {
		h.log.Debug("websocket upgrade refused", "err", err)
		return // Accept has written the HTTP error
	}
	h.sessions.Add(1)
	defer h.sessions.Done()
	conn.SetReadLimit(protocol.MaxMessageBytes)

	s := &session{
		host:    RequestHost(r),
		h:       h,
		conn:    conn,
		log:     h.log,
		out:     make(chan []byte, h.cfg.QueueLength),
		ending:  make(chan struct{}),
		limiter: rate.NewLimiter(h.cfg.MessageRate, h.cfg.MessageBurst),
	}
	s.run()
}

type session struct {
	host    string // the host name the client reached the server at
	h       *Handler
	conn    *websocket.Conn
	log     *slog.Logger
	out     chan []byte
	limiter *rate.Limiter
	limited bool // a rate_limited error was sent and no message has been accepted since

	mu          sync.Mutex
	participant *meeting.Participant // set once by the reader goroutine
	left        bool

	closedByClient atomic.Bool // the client sent a close frame

	endOnce sync.Once
	ending  chan struct{}
	reason  string // set once, before ending is closed
}

// RequestHost returns the host the client reached the server at, without
// its port: the host TURN URLs name unless turn.host says otherwise.
func RequestHost(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.Host); err == nil {
		return host
	}
	return r.Host
}

// end asks the session to stop for reason; the first reason wins.
func (s *session) end(reason string) {
	s.endOnce.Do(func() {
		s.reason = reason
		close(s.ending)
	})
}

// Send implements meeting.Sink.
func (s *session) Send(m protocol.Message) {
	b, err := protocol.Encode(m)
	if err != nil {
		s.log.Error("encode message", "err", err)
		return
	}
	select {
	case s.out <- b:
	default:
		s.end(protocol.ReasonTooSlow)
	}
}

// Close implements meeting.Sink.
func (s *session) Close(reason string) { s.end(reason) }

func (s *session) run() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var wg sync.WaitGroup
	stopWriter := make(chan struct{})
	writerDone := make(chan struct{})
	readerDone := make(chan struct{})
	go func() { defer close(writerDone); s.writeLoop(stopWriter) }()
	wg.Go(func() { s.pingLoop(ctx) })
	go func() { defer close(readerDone); s.readLoop(ctx) }()

	select {
	case <-readerDone:
	case <-s.ending:
	}
	s.end(protocol.ReasonConnectionLost) // no-op if a reason was already given
	s.leave()
	if s.reason != protocol.ReasonConnectionLost {
		s.Send(&protocol.Bye{Reason: s.reason})
	}
	close(stopWriter)
	<-writerDone // the bye is on the wire
	cancel()
	_ = s.conn.Close(websocket.StatusNormalClosure, s.reason)
	<-readerDone
	wg.Wait()
}

// leave takes the participant out of the meeting, once; a join that
// completes afterwards is undone at once. A connection that dropped without
// a goodbye (no close frame: a network outage) leaves the participant a
// grace period to resume on a new one.
func (s *session) leave() {
	s.mu.Lock()
	s.left = true
	p := s.participant
	s.mu.Unlock()
	if p != nil {
		s.release(p)
	}
}

// release lets go of p as the way the session ended says.
func (s *session) release(p *meeting.Participant) {
	switch {
	case s.reason == protocol.ReasonConnectionLost && !s.closedByClient.Load():
		p.Disconnected(s)
	case s.reason == protocol.ReasonReplaced:
		// the participant lives on in another session
	default:
		p.Leave(s.reason)
	}
}

func (s *session) readLoop(ctx context.Context) {
	if s.conn.Subprotocol() != protocol.Subprotocol {
		s.sendError(protocol.Errorf(protocol.CodeBadProtocol,
			"this server speaks WebSocket subprotocol %q: reload the page to get the current app", protocol.Subprotocol), "")
		s.end(protocol.ReasonLeft)
		return
	}
	for {
		typ, data, err := s.conn.Read(ctx)
		if err != nil {
			status := websocket.CloseStatus(err)
			if status == websocket.StatusMessageTooBig {
				s.log.Debug("client message over the size limit")
			}
			// A close frame: the tab closed or the page went away, on purpose.
			s.closedByClient.Store(status != -1)
			return
		}
		if !s.limiter.Allow() {
			if !s.limited {
				s.limited = true
				s.sendError(protocol.Errorf(protocol.CodeRateLimited,
					"more than %.0f messages per second: messages are dropped until the rate falls", float64(s.h.cfg.MessageRate)), "")
			}
			continue
		}
		s.limited = false
		if typ != websocket.MessageText {
			s.sendError(protocol.Errorf(protocol.CodeBadJSON, "binary messages are not accepted: send JSON text"), "")
			continue
		}
		msg, err := protocol.DecodeClient(data)
		if err != nil {
			var pe *protocol.Error
			if errors.As(err, &pe) {
				s.sendError(pe, "")
			}
			continue
		}
		if _, leaving := msg.(*protocol.Leave); leaving {
			s.end(protocol.ReasonLeft)
			return
		}
		if err := s.handle(ctx, msg); err != nil {
			s.sendError(err, msg.MessageType())
		}
	}
}

func (s *session) handle(ctx context.Context, msg protocol.Message) *protocol.Error {
	switch m := msg.(type) {
	case *protocol.Join:
		return s.join(ctx, m)
	case *protocol.Resume:
		return s.resume(m)
	}
	p := s.participant
	if p == nil {
		return protocol.Errorf(protocol.CodeNotJoined, "send join first")
	}
	switch m := msg.(type) {
	case *protocol.Publish:
		answer, err := p.Publish(m.SDP, m.Tracks)
		if err != nil {
			return mediaError(err)
		}
		if m.SDP != "" {
			s.Send(&protocol.PublishAnswer{SDP: answer})
		}
	case *protocol.Answer:
		if err := p.Answer(m.SDP); err != nil {
			return mediaError(err)
		}
	case *protocol.Candidate:
		if err := p.AddICECandidate(m.Target, m.Candidate); err != nil {
			return mediaError(err)
		}
	case *protocol.Mute:
		if err := p.SetMuted(m.Source, m.Muted); err != nil {
			return mediaError(err)
		}
	case *protocol.View:
		if err := p.SetView(m.Tracks); err != nil {
			return mediaError(err)
		}
	case *protocol.Restart:
		if err := p.RestartICE(); err != nil {
			return mediaError(err)
		}
	case *protocol.Hand:
		if err := p.SetHand(m.Raised); err != nil {
			return mediaError(err)
		}
	case *protocol.Admit:
		return hostError(p.Admit(meeting.ParticipantID(m.Participant)))
	case *protocol.AdmitAll:
		return hostError(p.Admit(""))
	case *protocol.Deny:
		return hostError(p.Deny(meeting.ParticipantID(m.Participant)))
	case *protocol.Moderate:
		return hostError(p.Moderate(ctx, m))
	case *protocol.RoomSettings:
		return hostError(p.ChangeSettings(ctx, m))
	case *protocol.SpeechControl:
		return hostError(p.ControlSpeech(ctx, m))
	case *protocol.ChatSend:
		return chatError(p.SendChat(m.Text, m.File, m.ClientID))
	case *protocol.ChatDelete:
		return chatError(p.DeleteChat(ctx, m.ID))
	case *protocol.React:
		return chatError(p.React(m.Emoji))
	}
	return nil
}

// chatError turns an error of the chat into the error the client gets.
func chatError(err error) *protocol.Error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, meeting.ErrInvalidChat):
		return protocol.Errorf(protocol.CodeInvalid, "%v", err)
	case errors.Is(err, meeting.ErrChatRate):
		return protocol.Errorf(protocol.CodeRateLimited, "you are sending messages too fast: wait a few seconds and send this one again")
	case errors.Is(err, meeting.ErrReactionRate):
		return protocol.Errorf(protocol.CodeRateLimited, "at most 5 reactions in 5 seconds: this one was not shown")
	case errors.Is(err, meeting.ErrNoMessage):
		return protocol.Errorf(protocol.CodeNotFound, "there is no such message in this meeting: it may be too old to be kept")
	case errors.Is(err, meeting.ErrNoFile):
		return protocol.Errorf(protocol.CodeInvalid, "this file was not uploaded by you in this meeting, or was deleted: upload it again")
	case errors.Is(err, meeting.ErrFileShared):
		return protocol.Errorf(protocol.CodeInvalid, "this file is already shared in another message: upload it again to share it twice")
	}
	return hostError(err)
}

// hostError turns an error of a host's action into the error the client
// gets.
func hostError(err error) *protocol.Error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, meeting.ErrNotHost):
		return protocol.Errorf(protocol.CodeForbidden, "only the room's hosts may do this")
	case errors.Is(err, meeting.ErrOwner):
		return protocol.Errorf(protocol.CodeForbidden, "the room's owner cannot be removed or demoted")
	case errors.Is(err, meeting.ErrNoSuchPerson):
		return protocol.Errorf(protocol.CodeNotFound, "nobody with that id is waiting or in the meeting: they may have left")
	case errors.Is(err, meeting.ErrGuestRole):
		return protocol.Errorf(protocol.CodeSignInRequired, "only signed-in participants can be made administrators")
	case errors.Is(err, meeting.ErrRoomFull):
		return protocol.Errorf(protocol.CodeRoomFull, "the meeting is full: raise its participant cap in the room settings to let more in")
	case errors.Is(err, meeting.ErrSpeechOff):
		return protocol.Errorf(protocol.CodeUnavailable, "speech recognition is not set up on this server: an operator must configure speech.engine")
	case errors.Is(err, meeting.ErrNoTranscripts):
		return protocol.Errorf(protocol.CodeUnavailable, "this server keeps no transcripts: an operator must configure its database")
	}
	return mediaError(err)
}

func (s *session) join(ctx context.Context, j *protocol.Join) *protocol.Error {
	if s.participant != nil {
		return protocol.Errorf(protocol.CodeAlreadyJoined, "this session is already in a meeting: open a new connection to join another")
	}
	code, err := room.ParseCode(j.Room)
	if err != nil {
		return protocol.Errorf(protocol.CodeBadRoom, "%.64q is not a meeting code: use a link or a code like abc-defg-hij", j.Room)
	}
	arrival := meeting.Arrival{Name: j.Name}
	if tokens := s.h.cfg.JoinTokens; tokens != nil {
		c, err := tokens.Verify(j.Token, string(code), token.ScopeJoin)
		switch {
		case j.Token == "":
			return protocol.Errorf(protocol.CodeBadToken, "join needs a token from POST /api/v1/rooms/%s/join: reload the page", code)
		case errors.Is(err, token.ErrExpired):
			return protocol.Errorf(protocol.CodeBadToken, "your invitation to this meeting has expired: reload the page")
		case err != nil:
			return protocol.Errorf(protocol.CodeBadToken, "this join token is not valid for this meeting: reload the page")
		}
		arrival.Name = c.Name // the name the server checked when it issued the token
		arrival.Identity = meeting.Identity{UserID: c.User, SignedIn: c.SignedIn, Role: room.Role(c.Role), BanKey: c.BanKey}
		if j.Rejoin != "" {
			// A rejoin token that does not hold is ignored: the
			// participant joins as anyone does.
			if r, err := tokens.Verify(j.Rejoin, string(code), token.ScopeRejoin); err == nil {
				arrival.Rejoin = &meeting.Rejoin{ID: meeting.ParticipantID(r.Participant), MeetingKey: r.Meeting}
			}
		}
	}
	if s.h.cfg.ICEServers != nil {
		arrival.ICEServers = s.h.cfg.ICEServers(s.host)
	}
	p, err := s.h.meetings.Join(ctx, code, arrival, s)
	switch {
	case errors.Is(err, meeting.ErrNoRoom):
		return noRoom()
	case errors.Is(err, meeting.ErrBanned):
		return protocol.Errorf(protocol.CodeBanned, "a host removed you from this room and does not allow you back")
	case errors.Is(err, meeting.ErrRoomFull):
		return protocol.Errorf(protocol.CodeRoomFull, "this meeting is full: try again later or ask a host to make room")
	case errors.Is(err, meeting.ErrUnplaced):
		s.log.Warn("cannot place a meeting", "room", code, "err", err)
		fallthrough
	case errors.Is(err, meeting.ErrClosed), errors.Is(err, meeting.ErrElsewhere):
		return protocol.Errorf(protocol.CodeRoomUnavailable, "this meeting cannot be joined on this server right now: try again in a few seconds")
	case err != nil:
		s.log.Error("join failed", "room", code, "err", err)
		return protocol.Errorf(protocol.CodeInternal, "the server could not join you to the meeting: try again")
	}
	s.adopt(p)
	return nil
}

func noRoom() *protocol.Error {
	return protocol.Errorf(protocol.CodeNotFound, "there is no meeting room at this link: check the link, or start a new meeting from the home page")
}

// adopt makes p this session's participant, unless the session has ended
// meanwhile: then p leaves (or waits to resume) as the session would have
// made it.
func (s *session) adopt(p *meeting.Participant) {
	s.mu.Lock()
	left := s.left
	if !left {
		s.participant = p
	}
	s.mu.Unlock()
	if left {
		s.release(p)
	}
}

// resume takes back a participant whose previous connection dropped.
func (s *session) resume(r *protocol.Resume) *protocol.Error {
	if s.participant != nil {
		return protocol.Errorf(protocol.CodeAlreadyJoined, "this session is already in a meeting")
	}
	arrival := meeting.Arrival{}
	if s.h.cfg.ICEServers != nil {
		arrival.ICEServers = s.h.cfg.ICEServers(s.host)
	}
	p, err := s.h.meetings.Resume(meeting.ParticipantID(r.Participant), r.Token, arrival, s)
	if err != nil {
		return protocol.Errorf(protocol.CodeResumeFailed, "you are no longer in the meeting (you were away too long, or the meeting ended): join again")
	}
	s.adopt(p)
	return nil
}

// mediaError turns an error from the meeting or media plane into the error
// the client gets.
func mediaError(err error) *protocol.Error {
	switch {
	case errors.Is(err, sfu.ErrBadSDP):
		return protocol.Errorf(protocol.CodeBadSDP, "%v", err)
	case errors.Is(err, sfu.ErrBadCandidate):
		return protocol.Errorf(protocol.CodeBadCandidate, "%v", err)
	case errors.Is(err, sfu.ErrOutOfOrder):
		return protocol.Errorf(protocol.CodeOutOfOrder, "%v", err)
	case errors.Is(err, meeting.ErrInvalidTracks):
		return protocol.Errorf(protocol.CodeInvalid, "%v", err)
	case errors.Is(err, meeting.ErrLeft), errors.Is(err, sfu.ErrClosed):
		return protocol.Errorf(protocol.CodeNotJoined, "you are no longer in the meeting: join again")
	case errors.Is(err, meeting.ErrNotAdmitted):
		return protocol.Errorf(protocol.CodeForbidden, "a host has not let you in yet: wait until they do")
	}
	return protocol.Errorf(protocol.CodeInternal, "the server failed to handle the message: try again")
}

func (s *session) sendError(e *protocol.Error, request string) {
	if request != "" && e.Request == "" {
		e.Request = request
	}
	if e.Code == protocol.CodeInternal {
		s.log.Error("internal error", "request", request, "err", e.Message)
	}
	s.Send(e)
}

// writeLoop sends queued messages in order until stop, then flushes what is
// left (such as a final bye).
func (s *session) writeLoop(stop <-chan struct{}) {
	write := func(b []byte) bool {
		wctx, cancel := context.WithTimeout(context.Background(), s.h.cfg.PingTimeout)
		defer cancel()
		if err := s.conn.Write(wctx, websocket.MessageText, b); err != nil {
			s.end(protocol.ReasonConnectionLost)
			return false
		}
		return true
	}
	for {
		select {
		case b := <-s.out:
			if !write(b) {
				return
			}
		case <-stop:
			for {
				select {
				case b := <-s.out:
					if !write(b) {
						return
					}
				default:
					return
				}
			}
		}
	}
}

// pingLoop detects clients that vanished without closing the socket.
func (s *session) pingLoop(ctx context.Context) {
	ticker := time.NewTicker(s.h.cfg.PingInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			pctx, cancel := context.WithTimeout(ctx, s.h.cfg.PingTimeout)
			err := s.conn.Ping(pctx)
			cancel()
			if err != nil && ctx.Err() == nil {
				s.end(protocol.ReasonConnectionLost)
				return
			}
		}
	}
}
