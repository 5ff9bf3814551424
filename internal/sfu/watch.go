package sfu

import (
	"errors"
	"fmt"

	"github.com/pion/webrtc/v4"
)

// ErrAlreadyWatching is returned by Watch on a peer that has a subscribe
// connection already.
var ErrAlreadyWatching = errors.New("this peer receives tracks already")

// Watch answers a client's offer of receive-only media (WHEP) with tracks
// on it: where the web app lets the server offer and renegotiate, such a
// client offers once, so the tracks it gets are those of the answer. Pion
// fills the offered transceivers of each kind in turn.
func (p *Peer) Watch(offer string, tracks []*UpTrack) (string, error) {
	if err := checkSections(offer); err != nil {
		return "", err
	}
	p.subMu.Lock()
	defer p.subMu.Unlock()
	switch {
	case p.closed:
		return "", ErrClosed
	case p.sub != nil:
		return "", ErrAlreadyWatching
	}
	p.watcher = true
	if err := p.openSubscribeLocked(p.engine.subscriberAPI(&p.secrets, true)); err != nil {
		return "", err
	}
	if err := p.sub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadSDP, err)
	}
	for _, t := range tracks {
		if err := p.attachLocked(t); err != nil {
			return "", err
		}
	}
	answer, err := p.sub.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadSDP, err)
	}
	if err := p.setLocalAndGather(p.sub, answer); err != nil {
		return "", err
	}
	return p.sub.LocalDescription().SDP, nil
}
