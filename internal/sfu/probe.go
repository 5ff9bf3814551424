package sfu

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// ErrProbesBusy is returned by Probe when as many connection tests as the
// engine allows are running already.
var ErrProbesBusy = errors.New("too many connection tests are running: try again in a moment")

// Bounds of the connection tests: a test measures a few seconds of echoes,
// so a longer probe, a larger message or many of them at once would only be
// someone using the media port as a free relay.
const (
	maxProbes         = 20
	probeLifetime     = 30 * time.Second
	maxProbeMessage   = 1 << 10
	maxProbeBuffered  = 64 << 10 // echoes queued towards a client that does not read
	maxProbeSections  = 1
	probeConnectLimit = 15 * time.Second // a probe that never connects is gone sooner
)

// probes are the engine's running connection tests. The zero value is
// ready to use.
type probes struct {
	lifetime time.Duration // 0 is probeLifetime; tests shorten it

	mu     sync.Mutex
	live   map[*probe]struct{}
	closed bool
}

// probe is one connection test: a peer connection with a data channel that
// echoes what it receives.
type probe struct {
	set       *probes
	pc        *webrtc.PeerConnection
	lifetime  *time.Timer
	connect   *time.Timer
	closeOnce sync.Once
	mu        sync.Mutex
	channel   *webrtc.DataChannel // the first channel; others are refused
}

// Probe answers a browser's offer of a single data channel, on the media
// sockets and with the ICE and DTLS settings of meetings, so that what the
// browser measures over it is what its media would meet. The connection
// echoes every message of 1 KiB or less, and closes after 30 seconds, or
// when its channel or connection closes. ctx bounds the gathering of the
// answer's candidates only.
func (e *Engine) Probe(ctx context.Context, offer string) (string, error) {
	if err := checkProbeOffer(offer); err != nil {
		return "", err
	}
	p, err := e.probes.add()
	if err != nil {
		return "", err
	}
	answer, err := p.start(ctx, e.api, offer)
	if err != nil {
		p.close()
		return "", err
	}
	return answer, nil
}

// checkProbeOffer accepts an offer whose only media section is a data
// channel, so that a probe never receives media.
func checkProbeOffer(offer string) error {
	var parsed sdp.SessionDescription
	if err := parsed.UnmarshalString(offer); err != nil {
		return fmt.Errorf("%w: %v", ErrBadSDP, err)
	}
	if n := len(parsed.MediaDescriptions); n == 0 || n > maxProbeSections {
		return fmt.Errorf("%w: %d media sections, a connection test offers one data channel", ErrBadSDP, n)
	}
	if m := parsed.MediaDescriptions[0].MediaName.Media; m != "application" {
		return fmt.Errorf("%w: a %q section, a connection test offers a data channel only", ErrBadSDP, m)
	}
	return nil
}

func (s *probes) add() (*probe, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return nil, ErrClosed
	case len(s.live) >= maxProbes:
		return nil, ErrProbesBusy
	}
	if s.live == nil {
		s.live = map[*probe]struct{}{}
	}
	p := &probe{set: s}
	s.live[p] = struct{}{}
	return p, nil
}

func (s *probes) remove(p *probe) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.live, p)
}

// count returns how many probes are running.
func (s *probes) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.live)
}

// closeAll closes the running probes and refuses new ones.
func (s *probes) closeAll() {
	s.mu.Lock()
	s.closed = true
	live := make([]*probe, 0, len(s.live))
	for p := range s.live {
		live = append(live, p)
	}
	s.mu.Unlock()
	for _, p := range live {
		p.close()
	}
}

func (p *probe) start(ctx context.Context, api *webrtc.API, offer string) (string, error) {
	pc, err := api.NewPeerConnection(webrtc.Configuration{
		BundlePolicy:  webrtc.BundlePolicyMaxBundle,
		RTCPMuxPolicy: webrtc.RTCPMuxPolicyRequire,
	})
	if err != nil {
		return "", fmt.Errorf("new connection test connection: %w", err)
	}
	p.mu.Lock()
	p.pc = pc
	// Timers rather than goroutines: nothing is left waiting once the probe
	// is closed.
	p.lifetime = time.AfterFunc(orDefault(p.set.lifetime, probeLifetime), p.closeLater)
	p.connect = time.AfterFunc(probeConnectLimit, p.closeLater)
	p.mu.Unlock()

	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		switch s {
		case webrtc.PeerConnectionStateConnected:
			p.connect.Stop()
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed, webrtc.PeerConnectionStateDisconnected:
			p.closeLater()
		}
	})
	pc.OnDataChannel(p.onDataChannel)

	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadSDP, err)
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadSDP, err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(answer); err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadSDP, err)
	}
	gatherCtx, cancel := context.WithTimeout(ctx, gatherTimeout)
	defer cancel()
	select {
	case <-gathered:
	case <-gatherCtx.Done():
		return "", fmt.Errorf("connection test: ICE gathering: %w", gatherCtx.Err())
	}
	return pc.LocalDescription().SDP, nil
}

func (p *probe) onDataChannel(dc *webrtc.DataChannel) {
	p.mu.Lock()
	first := p.channel == nil
	if first {
		p.channel = dc
	}
	p.mu.Unlock()
	if !first {
		_ = dc.Close()
		return
	}
	dc.OnMessage(func(m webrtc.DataChannelMessage) {
		if len(m.Data) > maxProbeMessage || dc.BufferedAmount() > maxProbeBuffered {
			return
		}
		// A failed echo is a lost message, which is what the client measures.
		if m.IsString {
			_ = dc.SendText(string(m.Data))
		} else {
			_ = dc.Send(m.Data)
		}
	})
	dc.OnClose(p.closeLater)
}

// closeLater closes the probe from a Pion callback or a timer, outside of
// it: closing the connection waits for the callbacks to return.
func (p *probe) closeLater() { go p.close() }

// close ends the probe; it may be called any number of times.
func (p *probe) close() {
	p.closeOnce.Do(func() {
		p.mu.Lock()
		pc, lifetime, connect := p.pc, p.lifetime, p.connect
		p.mu.Unlock()
		if lifetime != nil {
			lifetime.Stop()
			connect.Stop()
		}
		if pc != nil {
			_ = pc.GracefulClose()
		}
		p.set.remove(p)
	})
}
