package server

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/visio-meet/visio/internal/client"
	"github.com/visio-meet/visio/internal/config"
	"github.com/visio-meet/visio/internal/room"
	"github.com/visio-meet/visio/internal/token"
)

const testTokenSecret = "0123456789abcdef0123456789abcdef"

func withTokens(c *config.Config, _ *Options) { c.Tokens.Secret = testTokenSecret }

func issue(t *testing.T, code room.Code, scope token.Scope, ttl time.Duration) string {
	t.Helper()
	i, err := token.NewIssuer([]byte(testTokenSecret))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := i.Issue(string(code), scope, "OBS", ttl)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// post sends an SDP offer as WHIP and WHEP clients do.
func post(t *testing.T, url, bearer, offer string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(offer))
	req.Header.Set("Content-Type", "application/sdp")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

// newOffer makes a Pion connection as a broadcasting tool would (WHIP:
// sending audio and video) or a player (WHEP: receiving them), and returns
// its complete offer.
func newOffer(t *testing.T, direction webrtc.RTPTransceiverDirection) (*webrtc.PeerConnection, []*webrtc.TrackLocalStaticRTP, string) {
	t.Helper()
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(me)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	var tracks []*webrtc.TrackLocalStaticRTP
	for _, codec := range []webrtc.RTPCodecCapability{{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, {MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}} {
		if direction == webrtc.RTPTransceiverDirectionRecvonly {
			kind := webrtc.RTPCodecTypeAudio
			if codec.MimeType == webrtc.MimeTypeVP8 {
				kind = webrtc.RTPCodecTypeVideo
			}
			if _, err := pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: direction}); err != nil {
				t.Fatal(err)
			}
			continue
		}
		track, err := webrtc.NewTrackLocalStaticRTP(codec, codec.MimeType, "obs")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: direction}); err != nil {
			t.Fatal(err)
		}
		tracks = append(tracks, track)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	return pc, tracks, pc.LocalDescription().SDP
}

// broadcast sends Opus and VP8 (a keyframe a second) on the tracks until
// the test ends.
func broadcast(t *testing.T, tracks []*webrtc.TrackLocalStaticRTP) {
	stop := make(chan struct{})
	done := make(chan struct{})
	t.Cleanup(func() { close(stop); <-done })
	go func() {
		defer close(done)
		ticker := time.NewTicker(20 * time.Millisecond)
		defer ticker.Stop()
		for n := uint16(0); ; n++ {
			select {
			case <-stop:
				return
			case <-ticker.C:
			}
			_ = tracks[0].WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: n, Timestamp: uint32(n) * 960}, Payload: []byte{0x78, 1, 2, 3}})
			vp8 := []byte{0x10, 0x01, 0x00, 9, 9, 9}
			if n%50 == 0 {
				vp8 = []byte{0x10, 0x00, 0x00, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00}
			}
			_ = tracks[1].WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: n, Timestamp: uint32(n) * 1800, Marker: true}, Payload: vp8})
		}
	}()
}

func TestWHIPPublishesIntoAMeetingAndWHEPWatchesIt(t *testing.T) {
	srv := startServer(t, withTokens)
	ctx := testContext(t)
	code := room.NewCode()
	bob := srv.join(t, ctx, code, "Bob")

	// OBS publishes with WHIP: it appears in the meeting as a participant,
	// and Bob gets its audio and video.
	pub, tracks, offer := newOffer(t, webrtc.RTPTransceiverDirectionSendonly)
	res := post(t, srv.url+"/whip/"+string(code), issue(t, code, token.ScopeWHIP, time.Hour), offer)
	answer, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusCreated || res.Header.Get("Content-Type") != "application/sdp" || !strings.HasPrefix(res.Header.Get("Location"), "/whip/"+string(code)+"/") {
		t.Fatalf("WHIP: %d %v %s", res.StatusCode, res.Header, answer)
	}
	if err := pub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(answer)}); err != nil {
		t.Fatal(err)
	}
	broadcast(t, tracks)
	var obs string
	if err := bob.WaitFor(ctx, func(s client.State) bool {
		for id, p := range s.Others {
			if p.Name == "OBS" {
				obs = id
			}
		}
		return obs != "" && s.Received[client.TrackKey{Participant: obs, Source: camera}].Packets > 20 &&
			s.Received[client.TrackKey{Participant: obs, Source: mic}].Packets > 20
	}); err != nil {
		t.Fatalf("Bob does not get OBS's media: %+v", bob.State().Received)
	}

	// A player watches with WHEP and gets OBS's audio and video.
	player, _, watchOffer := newOffer(t, webrtc.RTPTransceiverDirectionRecvonly)
	var audio, video atomic.Int32
	player.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		count := &audio
		if tr.Kind() == webrtc.RTPCodecTypeVideo {
			count = &video
		}
		buf := make([]byte, 1500)
		for {
			if _, _, err := tr.Read(buf); err != nil {
				return
			}
			count.Add(1)
		}
	})
	watch := post(t, srv.url+"/whep/"+string(code), issue(t, code, token.ScopeWHEP, time.Hour), watchOffer)
	watchAnswer, _ := io.ReadAll(watch.Body)
	if watch.StatusCode != http.StatusCreated {
		t.Fatalf("WHEP: %d %s", watch.StatusCode, watchAnswer)
	}
	if err := player.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(watchAnswer)}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, func() bool { return audio.Load() > 20 && video.Load() > 20 }, "the WHEP player gets no media")
	// The watcher is in the meeting for all to see.
	if err := bob.WaitFor(ctx, func(s client.State) bool { return len(s.Others) == 2 }); err != nil {
		t.Fatalf("Bob does not see the WHEP watcher: %+v", bob.State().Others)
	}

	// OBS stops: it deletes its resource and leaves the meeting.
	del, _ := http.NewRequest(http.MethodDelete, srv.url+res.Header.Get("Location"), nil)
	del.Header.Set("Authorization", "Bearer "+issue(t, code, token.ScopeWHIP, time.Hour))
	dres, err := http.DefaultClient.Do(del)
	if err != nil || dres.StatusCode != http.StatusOK {
		t.Fatalf("DELETE: %v %v", err, dres)
	}
	dres.Body.Close()
	if err := bob.WaitFor(ctx, func(s client.State) bool { return slices.Contains(s.Left, obs) }); err != nil {
		t.Fatal("OBS did not leave the meeting when it deleted its WHIP resource")
	}
}

func TestWHIPAndWHEPNeedAValidTokenForTheRoom(t *testing.T) {
	srv := startServer(t, withTokens)
	code := room.NewCode()
	_, _, offer := newOffer(t, webrtc.RTPTransceiverDirectionSendonly)
	cases := []struct {
		name, path, bearer string
		want               int
	}{
		{"no token", "/whip/" + string(code), "", http.StatusUnauthorized},
		{"garbage", "/whip/" + string(code), "not.a.token", http.StatusUnauthorized},
		{"expired", "/whip/" + string(code), issue(t, code, token.ScopeWHIP, -time.Hour), http.StatusUnauthorized},
		{"another room", "/whip/" + string(code), issue(t, room.NewCode(), token.ScopeWHIP, time.Hour), http.StatusForbidden},
		{"watch token to publish", "/whip/" + string(code), issue(t, code, token.ScopeWHEP, time.Hour), http.StatusForbidden},
		{"publish token to watch", "/whep/" + string(code), issue(t, code, token.ScopeWHIP, time.Hour), http.StatusForbidden},
		{"nothing to watch yet", "/whep/" + string(code), issue(t, code, token.ScopeWHEP, time.Hour), http.StatusServiceUnavailable},
		{"not SDP", "/whip/" + string(code), issue(t, code, token.ScopeWHIP, time.Hour), http.StatusBadRequest},
	}
	for _, c := range cases {
		body := offer
		if c.name == "not SDP" {
			body = "hello"
		}
		res := post(t, srv.url+c.path, c.bearer, body)
		msg, _ := io.ReadAll(res.Body)
		if res.StatusCode != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, res.StatusCode, msg, c.want)
		}
	}
	if m := srv.Meetings().Meeting(code); m != nil && len(m.Participants()) > 0 {
		t.Fatalf("refused requests left %d participants in the meeting", len(m.Participants()))
	}

	// Without tokens.secret, the endpoints say what to configure.
	bare := startServer(t)
	res := post(t, bare.url+"/whip/"+string(code), "x", offer)
	msg, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(msg), "tokens.secret") {
		t.Fatalf("unconfigured: %d %s", res.StatusCode, msg)
	}
}
