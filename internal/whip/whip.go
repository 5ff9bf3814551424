// Package whip serves WHIP (RFC 9725), with which a broadcasting tool (OBS,
// GStreamer, ffmpeg) publishes into a meeting, and WHEP, with which a player
// watches one. Each is one HTTP exchange of an SDP offer and answer, under a
// bearer token for that room and that use (package token); the session is
// a participant of the meeting, visible to everyone, until the client
// deletes its resource or its media connection fails.
package whip

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/pion/sdp/v3"

	"github.com/visio-meet/visio/internal/meeting"
	"github.com/visio-meet/visio/internal/protocol"
	"github.com/visio-meet/visio/internal/room"
	"github.com/visio-meet/visio/internal/sfu"
	"github.com/visio-meet/visio/internal/token"
)

// maxOfferBytes bounds an offer: browsers' are under 20 KiB.
const maxOfferBytes = 256 << 10

// Handler serves the WHIP and WHEP endpoints.
type Handler struct {
	meetings *meeting.Registry
	tokens   *token.Issuer // nil: WHIP and WHEP are off
	log      *slog.Logger

	mu       sync.Mutex
	sessions map[string]*session // by resource id
}

type session struct {
	h           *Handler
	id          string
	room        room.Code
	scope       token.Scope
	participant *meeting.Participant
}

// Send implements meeting.Sink: a WHIP or WHEP client has no signalling
// channel, so what the meeting says goes nowhere.
func (*session) Send(protocol.Message) {}

// Close implements meeting.Sink: the meeting ends the session (its media
// failed, or the server is stopping).
func (s *session) Close(reason string) { go s.h.end(s, reason) }

// New returns the handler. tokens may be nil: then every request is told
// that WHIP and WHEP are not configured.
func New(meetings *meeting.Registry, tokens *token.Issuer, log *slog.Logger) *Handler {
	return &Handler{meetings: meetings, tokens: tokens, log: log.With("component", "whip"), sessions: map[string]*session{}}
}

// Register adds the routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	for _, scope := range []token.Scope{token.ScopeWHIP, token.ScopeWHEP} {
		base := "/" + string(scope) + "/{room}"
		mux.HandleFunc("POST "+base, func(w http.ResponseWriter, r *http.Request) { h.start(w, r, scope) })
		mux.HandleFunc("OPTIONS "+base, h.options)
		mux.HandleFunc("DELETE "+base+"/{session}", func(w http.ResponseWriter, r *http.Request) { h.delete(w, r, scope) })
		mux.HandleFunc("PATCH "+base+"/{session}", func(w http.ResponseWriter, r *http.Request) {
			// Trickle ICE and ICE restarts are optional (RFC 9725 §4.3): the
			// answer carries every candidate of the server.
			w.Header().Set("Allow", "DELETE")
			fail(w, http.StatusMethodNotAllowed, "this server does not take trickled candidates: send them in the offer")
		})
		mux.HandleFunc("OPTIONS "+base+"/{session}", h.options)
	}
}

// options answers CORS preflights, so that a WHIP or WHEP client in a page
// of another origin may call.
func (h *Handler) options(w http.ResponseWriter, _ *http.Request) {
	cors(w)
	w.Header().Set("Accept-Post", "application/sdp")
	w.WriteHeader(http.StatusNoContent)
}

func cors(w http.ResponseWriter) {
	hdr := w.Header()
	hdr.Set("Access-Control-Allow-Origin", "*")
	hdr.Set("Access-Control-Allow-Methods", "POST, DELETE, PATCH, OPTIONS")
	hdr.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
	hdr.Set("Access-Control-Expose-Headers", "Location")
}

func fail(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, message+"\n")
}

// roomOf sets the CORS headers and reads the room of the path, or writes the
// error.
func roomOf(w http.ResponseWriter, r *http.Request) (room.Code, bool) {
	cors(w)
	code, err := room.ParseCode(r.PathValue("room"))
	if err != nil {
		fail(w, http.StatusNotFound, "not a meeting code: use one like abc-defg-hij")
		return "", false
	}
	return code, true
}

// authorize checks the request's bearer token for room and scope, and
// returns the name it gives, or writes the error.
func (h *Handler) authorize(w http.ResponseWriter, r *http.Request, code room.Code, scope token.Scope) (string, bool) {
	if h.tokens == nil {
		fail(w, http.StatusServiceUnavailable, "WHIP and WHEP are off on this server: set tokens.secret, then make a token with `visio token`")
		return "", false
	}
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || raw == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="visio"`)
		fail(w, http.StatusUnauthorized, "a bearer token is needed: make one with `visio token "+string(scope)+" --room "+string(code)+"`")
		return "", false
	}
	claims, err := h.tokens.Verify(raw, string(code), scope)
	switch {
	case errors.Is(err, token.ErrScope):
		fail(w, http.StatusForbidden, "this token is for another room or another use")
		return "", false
	case err != nil:
		w.Header().Set("WWW-Authenticate", `Bearer realm="visio", error="invalid_token"`)
		fail(w, http.StatusUnauthorized, err.Error()+": make a new one with `visio token`")
		return "", false
	}
	return claims.Name, true
}

// start joins the meeting as a publisher (WHIP) or a watcher (WHEP) and
// answers the offer.
func (h *Handler) start(w http.ResponseWriter, r *http.Request, scope token.Scope) {
	code, ok := roomOf(w, r)
	if !ok {
		return
	}
	name, ok := h.authorize(w, r, code, scope)
	if !ok {
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/sdp") {
		fail(w, http.StatusUnsupportedMediaType, "send the SDP offer with Content-Type: application/sdp")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxOfferBytes))
	if err != nil {
		fail(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the offer is over %d bytes", maxOfferBytes))
		return
	}
	offer := string(body)
	var declarations []protocol.TrackDeclaration
	if scope == token.ScopeWHIP {
		if declarations, err = declare(offer); err != nil {
			fail(w, http.StatusBadRequest, err.Error())
			return
		}
	}
	if name == "" {
		name = map[token.Scope]string{token.ScopeWHIP: "WHIP", token.ScopeWHEP: "WHEP"}[scope]
	}

	s := &session{h: h, id: rand.Text(), room: code, scope: scope}
	// The token is the room's invitation: its holder enters as a member,
	// without waiting in the lobby.
	arrival := meeting.Arrival{Name: name, Watcher: scope == token.ScopeWHEP, Identity: meeting.Identity{Role: room.Member}}
	p, err := h.meetings.Join(r.Context(), code, arrival, s)
	if err != nil {
		switch {
		case errors.Is(err, meeting.ErrRoomFull):
			fail(w, http.StatusForbidden, "the meeting is full")
		case errors.Is(err, meeting.ErrNoRoom):
			fail(w, http.StatusNotFound, "there is no room with this code")
		case errors.Is(err, meeting.ErrClosed):
			fail(w, http.StatusServiceUnavailable, "the server is shutting down: try again in a moment")
		default:
			h.log.Error("WHIP/WHEP join failed", "room", code, "err", err)
			fail(w, http.StatusServiceUnavailable, "the server cannot join you to the meeting now: try again in a moment")
		}
		return
	}
	s.participant = p
	var answer string
	if scope == token.ScopeWHIP {
		answer, err = p.Publish(offer, declarations)
	} else {
		answer, err = p.Watch(offer, meeting.ParticipantID(r.URL.Query().Get("participant")))
	}
	if err != nil {
		p.Leave(protocol.ReasonLeft)
		switch {
		case errors.Is(err, meeting.ErrNothingToWatch):
			w.Header().Set("Retry-After", "5")
			fail(w, http.StatusServiceUnavailable, "nobody publishes in this meeting yet: try again in a few seconds")
		case errors.Is(err, sfu.ErrBadSDP), errors.Is(err, meeting.ErrInvalidTracks):
			fail(w, http.StatusBadRequest, err.Error())
		default:
			h.log.Error("session failed", "room", code, "scope", scope, "err", err)
			fail(w, http.StatusInternalServerError, "the server could not set up the session: try again")
		}
		return
	}
	h.mu.Lock()
	h.sessions[s.id] = s
	h.mu.Unlock()
	h.log.Info("session started", "room", code, "scope", scope, "participant", p.ID())
	w.Header().Set("Content-Type", "application/sdp")
	w.Header().Set("Location", "/"+string(scope)+"/"+string(code)+"/"+s.id)
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, answer)
}

// delete ends a session: its participant leaves. The token must be one for
// the same room and use.
func (h *Handler) delete(w http.ResponseWriter, r *http.Request, scope token.Scope) {
	code, ok := roomOf(w, r)
	if !ok {
		return
	}
	if _, ok := h.authorize(w, r, code, scope); !ok {
		return
	}
	h.mu.Lock()
	s := h.sessions[r.PathValue("session")]
	h.mu.Unlock()
	if s == nil || s.room != code || s.scope != scope {
		fail(w, http.StatusNotFound, "no such session: it ended already")
		return
	}
	h.end(s, protocol.ReasonLeft)
	w.WriteHeader(http.StatusOK)
}

// end takes a session's participant out of the meeting, once.
func (h *Handler) end(s *session, reason string) {
	h.mu.Lock()
	_, live := h.sessions[s.id]
	delete(h.sessions, s.id)
	h.mu.Unlock()
	if live {
		s.participant.Leave(reason)
		h.log.Info("session ended", "room", s.room, "scope", s.scope, "reason", reason)
	}
}

// declare reads what a WHIP offer publishes: its first audio section is the
// microphone, its first video the camera, a second video the screen and a
// second audio the screen's sound.
func declare(offer string) ([]protocol.TrackDeclaration, error) {
	var parsed sdp.SessionDescription
	if err := parsed.UnmarshalString(offer); err != nil {
		return nil, fmt.Errorf("the offer is not SDP: %v", err)
	}
	sources := map[string][]protocol.Source{
		"audio": {protocol.SourceMicrophone, protocol.SourceScreenAudio},
		"video": {protocol.SourceCamera, protocol.SourceScreen},
	}
	var out []protocol.TrackDeclaration
	for _, m := range parsed.MediaDescriptions {
		mid, _ := m.Attribute(sdp.AttrKeyMID)
		next := sources[m.MediaName.Media]
		if len(next) == 0 || mid == "" {
			continue
		}
		if _, recvonly := m.Attribute("recvonly"); recvonly {
			continue
		}
		if _, inactive := m.Attribute("inactive"); inactive {
			continue
		}
		out = append(out, protocol.TrackDeclaration{Mid: mid, Source: next[0]})
		sources[m.MediaName.Media] = next[1:]
	}
	if len(out) == 0 {
		return nil, errors.New("the offer publishes no audio or video")
	}
	return out, nil
}
