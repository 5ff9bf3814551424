package sfu

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

func newProbeEngine(t *testing.T) *Engine {
	t.Helper()
	e, err := NewEngine(Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// probeClient is a Pion peer connection standing for the browser.
type probeClient struct {
	pc       *webrtc.PeerConnection
	dc       *webrtc.DataChannel
	open     chan struct{}
	closed   chan struct{}
	received chan string
}

func newProbeClient(t *testing.T) *probeClient {
	t.Helper()
	var se webrtc.SettingEngine
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	pc, err := webrtc.NewAPI(webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.GracefulClose() })
	c := &probeClient{pc: pc, open: make(chan struct{}), closed: make(chan struct{}), received: make(chan string, 100)}
	if c.dc, err = pc.CreateDataChannel("probe", nil); err != nil {
		t.Fatal(err)
	}
	c.dc.OnOpen(func() { close(c.open) })
	c.dc.OnClose(func() { close(c.closed) })
	c.dc.OnMessage(func(m webrtc.DataChannelMessage) { c.received <- string(m.Data) })
	return c
}

// offer returns the client's offer with its candidates.
func (c *probeClient) offer(t *testing.T) string {
	t.Helper()
	offer, err := c.pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(c.pc)
	if err := c.pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	return c.pc.LocalDescription().SDP
}

// connect makes a probe for the client and waits for its channel to open.
func (c *probeClient) connect(t *testing.T, e *Engine) {
	t.Helper()
	answer, err := e.Probe(context.Background(), c.offer(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.open:
	case <-time.After(10 * time.Second):
		t.Fatal("the test's data channel did not open")
	}
}

func (c *probeClient) next(t *testing.T) string {
	t.Helper()
	select {
	case m := <-c.received:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no echo")
		return ""
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal(what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestProbeEchoesSmallMessagesAndDropsLargeOnes(t *testing.T) {
	e := newProbeEngine(t)
	c := newProbeClient(t)
	c.connect(t, e)
	if err := c.dc.SendText("ping 1"); err != nil {
		t.Fatal(err)
	}
	if got := c.next(t); got != "ping 1" {
		t.Fatalf("echo %q, want ping 1", got)
	}
	// The channel is ordered: had the large message been echoed, it would
	// come before the small one sent after it.
	if err := c.dc.Send(make([]byte, maxProbeMessage+1)); err != nil {
		t.Fatal(err)
	}
	if err := c.dc.SendText("ping 2"); err != nil {
		t.Fatal(err)
	}
	if got := c.next(t); got != "ping 2" {
		t.Fatalf("echo of %d bytes, want only ping 2: messages over 1 KiB must be dropped", len(got))
	}
	if err := c.dc.Send(make([]byte, maxProbeMessage)); err != nil {
		t.Fatal(err)
	}
	if got := c.next(t); len(got) != maxProbeMessage {
		t.Fatalf("echo of %d bytes, want the 1 KiB message back", len(got))
	}
}

func TestProbeEndsWithItsChannelAndAfterItsLifetime(t *testing.T) {
	e := newProbeEngine(t)
	c := newProbeClient(t)
	c.connect(t, e)
	if err := c.dc.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the probe outlived its channel", func() bool { return e.probes.count() == 0 })

	e.probes.lifetime = 500 * time.Millisecond
	c = newProbeClient(t)
	c.connect(t, e)
	select {
	case <-c.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the probe did not end after its lifetime")
	}
	waitFor(t, "the probe is still counted", func() bool { return e.probes.count() == 0 })
}

func TestProbesAreCappedAndClosedWithTheEngine(t *testing.T) {
	e := newProbeEngine(t)
	c := newProbeClient(t)
	c.connect(t, e)
	offer := newProbeClient(t).offer(t)
	for i := 1; i < maxProbes; i++ {
		if _, err := e.Probe(context.Background(), offer); err != nil {
			t.Fatalf("probe %d: %v", i+1, err)
		}
	}
	if _, err := e.Probe(context.Background(), offer); !errors.Is(err, ErrProbesBusy) {
		t.Fatalf("probe %d: %v, want busy", maxProbes+1, err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if n := e.probes.count(); n != 0 {
		t.Fatalf("%d probes left after the engine closed", n)
	}
	select {
	case <-c.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the client's channel stayed open after the engine closed")
	}
	if _, err := e.Probe(context.Background(), offer); !errors.Is(err, ErrClosed) {
		t.Fatalf("probe on a closed engine: %v", err)
	}
}

const mediaOffer = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n" +
	"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=rtpmap:111 opus/48000/2\r\n"

func TestProbeRefusesMediaAndGarbage(t *testing.T) {
	e := newProbeEngine(t)
	for name, offer := range map[string]string{
		"empty":    "",
		"garbage":  "hello",
		"audio":    mediaOffer,
		"no media": "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n",
	} {
		if _, err := e.Probe(context.Background(), offer); !errors.Is(err, ErrBadSDP) {
			t.Errorf("%s offer: %v, want a bad SDP error", name, err)
		}
	}
	if n := e.probes.count(); n != 0 {
		t.Fatalf("%d probes left by refused offers", n)
	}
}

func FuzzCheckProbeOffer(f *testing.F) {
	f.Add("")
	f.Add(mediaOffer)
	f.Add(strings.Replace(mediaOffer, "m=audio 9 UDP/TLS/RTP/SAVPF 111", "m=application 9 UDP/DTLS/SCTP webrtc-datachannel", 1))
	f.Add("v=0\r\nm=application\r\n")
	f.Fuzz(func(t *testing.T, offer string) {
		err := checkProbeOffer(offer)
		if err != nil && !errors.Is(err, ErrBadSDP) {
			t.Fatalf("error %v is not a bad SDP error", err)
		}
	})
}
