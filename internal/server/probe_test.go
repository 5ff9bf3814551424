package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"

	"github.com/visio-meet/visio/internal/config"
)

// testPage stands for the connection test page: a peer connection with an
// unordered, unreliable data channel, as the browser makes it.
type testPage struct {
	pc       *webrtc.PeerConnection
	dc       *webrtc.DataChannel
	open     chan struct{}
	received chan string
}

func newTestPage(t *testing.T, cfg webrtc.Configuration) *testPage {
	t.Helper()
	var se webrtc.SettingEngine
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeTCP4})
	se.SetIncludeLoopbackCandidate(true)
	pc, err := webrtc.NewAPI(webrtc.WithSettingEngine(se)).NewPeerConnection(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.GracefulClose() })
	p := &testPage{pc: pc, open: make(chan struct{}), received: make(chan string, 100)}
	unordered, none := false, uint16(0)
	if p.dc, err = pc.CreateDataChannel("echo", &webrtc.DataChannelInit{Ordered: &unordered, MaxRetransmits: &none}); err != nil {
		t.Fatal(err)
	}
	p.dc.OnOpen(func() { close(p.open) })
	p.dc.OnMessage(func(m webrtc.DataChannelMessage) { p.received <- string(m.Data) })
	return p
}

func (p *testPage) offer(t *testing.T) string {
	t.Helper()
	offer, err := p.pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(p.pc)
	if err := p.pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	select {
	case <-gathered:
	case <-time.After(10 * time.Second):
		t.Fatal("the test page's candidates were not gathered")
	}
	return p.pc.LocalDescription().SDP
}

// run posts the page's offer, connects, and checks that the server echoes
// what the page sends.
func (p *testPage) run(t *testing.T, srv *testServer) connectionTestAnswer {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"sdp": p.offer(t)})
	var answer connectionTestAnswer
	if status, raw := postTest(t, srv, "application/json", body, &answer); status != http.StatusOK {
		t.Fatalf("POST %s: %d %s", connectionTestPath, status, raw)
	}
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer.SDP}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.open:
	case <-time.After(15 * time.Second):
		t.Fatalf("the data channel did not open (connection %s)", p.pc.ConnectionState())
	}
	// The channel may lose messages by design: send until enough come back.
	echoed := map[string]bool{}
	for i := 0; i < 50 && len(echoed) < 10; i++ {
		msg := fmt.Sprintf(`{"seq":%d}`, i)
		if err := p.dc.SendText(msg); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-p.received:
			if !strings.HasPrefix(got, `{"seq":`) {
				t.Fatalf("echo %q is not a message the page sent", got)
			}
			echoed[got] = true
		case <-time.After(time.Second):
		}
	}
	if len(echoed) < 10 {
		t.Fatalf("%d messages echoed of 50 sent", len(echoed))
	}
	return answer
}

func postTest(t *testing.T, srv *testServer, contentType string, body []byte, into any) (int, string) {
	t.Helper()
	res, err := http.Post(srv.url+connectionTestPath, contentType, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return readTestAnswer(t, res, into)
}

func getServers(t *testing.T, srv *testServer, forwardedFor string) (int, string, connectionTestServers, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.url+connectionTestPath, nil)
	if forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", forwardedFor)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var servers connectionTestServers
	status, raw := readTestAnswer(t, res, &servers)
	return status, raw, servers, res.Header
}

func readTestAnswer(t *testing.T, res *http.Response, into any) (int, string) {
	t.Helper()
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode == http.StatusOK && into != nil {
		if err := json.Unmarshal(raw, into); err != nil {
			t.Fatalf("answer %s: %v", raw, err)
		}
	}
	return res.StatusCode, string(raw)
}

func TestConnectionTestWithoutTURN(t *testing.T) {
	srv := startServer(t)
	status, raw, servers, _ := getServers(t, srv, "")
	if status != http.StatusOK || servers.TURN || servers.ICEServers == nil || len(servers.ICEServers) != 0 {
		t.Fatalf("GET without TURN: %d %s, want turn false and an empty list", status, raw)
	}
	if !strings.Contains(raw, `"ice_servers":[]`) {
		t.Fatalf("GET without TURN: %s, want an empty list rather than null", raw)
	}
	newTestPage(t, webrtc.Configuration{}).run(t, srv)

	res, err := http.Get(srv.url + "/check")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /check: %d %s, want the app", res.StatusCode, res.Header.Get("Content-Type"))
	}
}

func TestConnectionTestThroughTURN(t *testing.T) {
	srv := startServer(t, withTURN(t))
	status, raw, servers, _ := getServers(t, srv, "")
	if status != http.StatusOK || !servers.TURN || len(servers.ICEServers) != 1 {
		t.Fatalf("GET with TURN: %d %s", status, raw)
	}
	s := servers.ICEServers[0]
	if len(s.URLs) != 2 || s.Username == "" || s.Credential == "" || !strings.Contains(s.URLs[0], "127.0.0.1:") {
		t.Fatalf("ICE servers: %+v, want UDP and TCP URLs on the host the client used, with credentials", servers.ICEServers)
	}
	before := srv.turn.Allocations()
	page := newTestPage(t, webrtc.Configuration{
		ICETransportPolicy: webrtc.ICETransportPolicyRelay,
		ICEServers:         []webrtc.ICEServer{{URLs: s.URLs[:1], Username: s.Username, Credential: s.Credential}},
	})
	answer := page.run(t, srv)
	if srv.turn.Allocations() <= before {
		t.Fatal("the test connected without a relay, though the page only offered relayed candidates")
	}
	if len(answer.ICEServers) != 1 || answer.ICEServers[0].Username == "" {
		t.Fatalf("the answer has no TURN servers: %+v", answer.ICEServers)
	}
}

func TestConnectionTestRefusesMalformedRequests(t *testing.T) {
	srv := startServer(t)
	audio := "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:111 opus/48000/2\r\n"
	audioBody, _ := json.Marshal(map[string]string{"sdp": audio})
	for _, tc := range []struct {
		name, contentType, body string
		status                  int
		code, says              string
	}{
		{"empty body", "application/json", "", 400, "bad_request", "needs a JSON body"},
		{"not JSON", "application/json", "sdp=v0", 400, "bad_request", `not {"sdp": "<offer>"}`},
		{"no offer", "application/json", `{}`, 400, "bad_request", "no offer"},
		{"unknown field", "application/json", `{"sdp":"x","room":"abc"}`, 400, "bad_request", "unknown field"},
		{"two values", "application/json", `{"sdp":"x"} {"sdp":"y"}`, 400, "bad_request", "more than one"},
		{"not SDP", "application/json", `{"sdp":"hello"}`, 400, "bad_sdp", "not a WebRTC offer"},
		{"media offer", "application/json", string(audioBody), 400, "bad_sdp", "data channel only"},
		{"too large", "application/json", `{"sdp":"` + strings.Repeat("a", maxConnectionTestBody) + `"}`, 400, "bad_request", "over 16384 bytes"},
		{"form", "application/x-www-form-urlencoded", `sdp=x`, 415, "bad_request", "send JSON"},
	} {
		status, raw := postTest(t, srv, tc.contentType, []byte(tc.body), nil)
		var e struct{ Error, Message string }
		_ = json.Unmarshal([]byte(raw), &e)
		if status != tc.status || e.Error != tc.code || !strings.Contains(e.Message, tc.says) {
			t.Errorf("%s: %d %s, want %d %s saying %q", tc.name, status, raw, tc.status, tc.code, tc.says)
		}
	}
}

func TestConnectionTestIsRateLimitedPerClient(t *testing.T) {
	srv := startServer(t, func(c *config.Config, _ *Options) { c.HTTP.TrustedProxies = []string{"127.0.0.1/32"} })
	for i := range connectionTestsPerMinute {
		if status, raw, _, _ := getServers(t, srv, "203.0.113.7"); status != http.StatusOK {
			t.Fatalf("request %d of the allowed %d: %d %s", i+1, connectionTestsPerMinute, status, raw)
		}
	}
	status, raw, _, header := getServers(t, srv, "203.0.113.7")
	var e struct{ Error, Message string }
	_ = json.Unmarshal([]byte(raw), &e)
	if status != http.StatusTooManyRequests || e.Error != "rate_limited" || !strings.Contains(e.Message, "wait") || header.Get("Retry-After") == "" {
		t.Fatalf("request over the limit: %d %s (Retry-After %q)", status, raw, header.Get("Retry-After"))
	}
	body, _ := json.Marshal(map[string]string{"sdp": "x"})
	req, _ := http.NewRequest(http.MethodPost, srv.url+connectionTestPath, bytes.NewReader(body))
	req.Header.Set("X-Forwarded-For", "203.0.113.7")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if status, raw := readTestAnswer(t, res, nil); status != http.StatusTooManyRequests {
		t.Fatalf("POST over the limit: %d %s", status, raw)
	}
	if status, raw, _, _ := getServers(t, srv, "203.0.113.8"); status != http.StatusOK {
		t.Fatalf("another client behind the same proxy was refused: %d %s", status, raw)
	}
}

func FuzzParseConnectionTest(f *testing.F) {
	f.Add(`{"sdp":"v=0\r\n"}`)
	f.Add(`{}`)
	f.Add(`{"sdp":null}`)
	f.Add(`{"sdp":"x","other":1}`)
	f.Add(`{"sdp":"x"}{"sdp":"y"}`)
	f.Add(`[]`)
	f.Add(``)
	f.Fuzz(func(t *testing.T, body string) {
		offer, err := parseConnectionTest(strings.NewReader(body))
		if err == nil && strings.TrimSpace(offer) == "" {
			t.Fatalf("%q accepted with an empty offer", body)
		}
		if err != nil && offer != "" {
			t.Fatalf("%q refused, yet an offer was returned", body)
		}
	})
}
