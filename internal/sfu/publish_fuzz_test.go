package sfu

import (
	"log/slog"
	"os"
	"strings"
	"testing"
)

type ignoreEvents struct{}

func (ignoreEvents) TrackPublished(*UpTrack)      {}
func (ignoreEvents) TrackEnded(*UpTrack)          {}
func (ignoreEvents) Offer(string, []OfferedTrack) {}
func (ignoreEvents) Failed(error)                 {}
func (ignoreEvents) LayersWanted(*UpTrack, Layer) {}

// FuzzPublishOffer hands arbitrary SDP to a peer as a publish offer: it must
// be answered or refused with ErrBadSDP, never crash the server.
func FuzzPublishOffer(f *testing.F) {
	chromium, err := os.ReadFile("testdata/chromium-publish-offer.sdp")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(chromium))
	f.Add(strings.Replace(string(chromium), "a=sendonly", "a=sendrecv", -1))
	f.Add(strings.Replace(string(chromium), "a=setup:actpass", "a=setup:passive", 1))
	f.Add("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n")
	f.Add("")

	engine, err := NewEngine(Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = engine.Close() })
	f.Fuzz(func(t *testing.T, offer string) {
		p := engine.NewPeer("fuzz", ignoreEvents{})
		defer p.Close()
		answer, err := p.Publish(offer)
		if err == nil && !strings.HasPrefix(answer, "v=0") {
			t.Fatalf("accepted offer, but the answer is not SDP: %.80q", answer)
		}
	})
}

func TestChromiumOfferIsAnswered(t *testing.T) {
	chromium, err := os.ReadFile("testdata/chromium-publish-offer.sdp")
	if err != nil {
		t.Fatal(err)
	}
	engine, err := NewEngine(Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer engine.Close()
	p := engine.NewPeer("chromium", ignoreEvents{})
	defer p.Close()
	answer, err := p.Publish(string(chromium))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"a=rtpmap:96 VP8/90000", "H264/90000", "a=rtpmap:111 opus/48000/2",
		"useinbandfec=1;usedtx=1\r\n", "a=recvonly", "typ host", audioLevelURI, "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"} {
		if !strings.Contains(answer, want) {
			t.Errorf("answer lacks %q", want)
		}
	}
	for _, unwanted := range []string{"rtx/90000", "VP9", "AV1"} {
		if strings.Contains(answer, unwanted) {
			t.Errorf("answer negotiates %s, which the server cannot forward", unwanted)
		}
	}
}
