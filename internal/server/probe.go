package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/visio-meet/visio/internal/httpapi"
	"github.com/visio-meet/visio/internal/protocol"
	"github.com/visio-meet/visio/internal/ratelimit"
	"github.com/visio-meet/visio/internal/sfu"
	"github.com/visio-meet/visio/internal/signal"
)

// connectionTestPath is where the web app's connection test page asks for
// the TURN servers (GET) and has its offer answered (POST).
const connectionTestPath = "/api/v1/connection-test"

// Limits of the connection test, which anyone may use, signed in or not.
// A run of the page makes three requests (the ICE servers, then a direct
// and a relayed probe); the limit lets someone run it several times in a
// row but not use the media port or the TURN credentials at will.
const (
	connectionTestsPerMinute = 20
	maxConnectionTestBody    = 16 << 10 // an offer of one data channel with its candidates is a few KiB
)

// connectionTest serves the connection test endpoint.
type connectionTest struct {
	media   *sfu.Engine
	ice     func(host string) []protocol.ICEServer // nil when TURN is off
	trusted []netip.Prefix
	limit   *ratelimit.Limiter
	now     func() time.Time
	log     *slog.Logger
}

func newConnectionTest(media *sfu.Engine, ice func(string) []protocol.ICEServer, trusted []netip.Prefix, log *slog.Logger) *connectionTest {
	return &connectionTest{media: media, ice: ice, trusted: trusted, now: time.Now,
		limit: ratelimit.New(connectionTestsPerMinute/60.0, connectionTestsPerMinute),
		log:   log.With("component", "connection-test")}
}

// Register adds the endpoint, more specific than the REST API's catch-all.
func (c *connectionTest) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+connectionTestPath, c.servers)
	mux.HandleFunc("POST "+connectionTestPath, c.answer)
}

// connectionTestServers is the answer to GET: the TURN servers the page
// tests, with credentials of their own, and whether there are any.
type connectionTestServers struct {
	ICEServers []protocol.ICEServer `json:"ice_servers"`
	TURN       bool                 `json:"turn"`
}

// connectionTestAnswer is the answer to POST.
type connectionTestAnswer struct {
	SDP        string               `json:"sdp"`
	ICEServers []protocol.ICEServer `json:"ice_servers"`
}

func (c *connectionTest) iceServers(r *http.Request) []protocol.ICEServer {
	if c.ice == nil {
		return []protocol.ICEServer{}
	}
	return c.ice(signal.RequestHost(r))
}

func (c *connectionTest) servers(w http.ResponseWriter, r *http.Request) {
	if !c.allow(w, r) {
		return
	}
	servers := c.iceServers(r)
	httpapi.WriteJSON(w, http.StatusOK, connectionTestServers{ICEServers: servers, TURN: len(servers) > 0})
}

func (c *connectionTest) answer(w http.ResponseWriter, r *http.Request) {
	if !c.allow(w, r) {
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		httpapi.WriteError(w, http.StatusUnsupportedMediaType, "bad_request", "send JSON (Content-Type: application/json)")
		return
	}
	offer, err := parseConnectionTest(http.MaxBytesReader(w, r.Body, maxConnectionTestBody))
	if err != nil {
		httpapi.WriteError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	answer, err := c.media.Probe(r.Context(), offer)
	switch {
	case errors.Is(err, sfu.ErrBadSDP):
		httpapi.WriteError(w, http.StatusBadRequest, "bad_sdp", "the offer is not a WebRTC offer of one data channel: "+err.Error())
		return
	case errors.Is(err, sfu.ErrProbesBusy):
		w.Header().Set("Retry-After", "10")
		httpapi.WriteError(w, http.StatusServiceUnavailable, "busy", "too many connection tests are running on this server: try again in a few seconds")
		return
	case errors.Is(err, sfu.ErrClosed):
		httpapi.WriteError(w, http.StatusServiceUnavailable, "shutting_down", "the server is shutting down: try again in a moment")
		return
	case err != nil:
		c.log.ErrorContext(r.Context(), "connection test failed", "err", err)
		httpapi.WriteError(w, http.StatusInternalServerError, "internal", "the server failed to start the test: try again in a moment")
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, connectionTestAnswer{SDP: answer, ICEServers: c.iceServers(r)})
}

// parseConnectionTest reads {"sdp": "..."}, and says what is wrong with
// anything else.
func parseConnectionTest(body io.Reader) (string, error) {
	var req struct {
		SDP *string `json:"sdp"`
	}
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			return "", fmt.Errorf("the body is over %d bytes: send only the offer", tooLarge.Limit)
		case errors.Is(err, io.EOF):
			return "", errors.New(`the request needs a JSON body: {"sdp": "<offer>"}`)
		}
		return "", fmt.Errorf(`the body is not {"sdp": "<offer>"}: %v`, err)
	}
	if dec.More() {
		return "", errors.New(`the body has more than one JSON value: send {"sdp": "<offer>"} only`)
	}
	if req.SDP == nil || strings.TrimSpace(*req.SDP) == "" {
		return "", errors.New(`the body has no offer: send {"sdp": "<offer>"}`)
	}
	return *req.SDP, nil
}

// allow applies the limit to r's client, and answers 429 when it is over.
func (c *connectionTest) allow(w http.ResponseWriter, r *http.Request) bool {
	wait, ok := c.limit.Allow(ratelimit.ClientAddress(r, c.trusted), c.now())
	if ok {
		return true
	}
	secs := int(wait/time.Second) + 1
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	httpapi.WriteError(w, http.StatusTooManyRequests, "rate_limited",
		fmt.Sprintf("too many connection tests from your address: wait %d seconds and try again", secs))
	return false
}
