package client

import (
	"testing"

	"github.com/pion/webrtc/v4"
)

// Pion announces tracks on its own goroutine, so one can arrive after the
// client closed (or replaced) its subscribe connection; the CI once crashed
// on exactly that.
func TestATrackArrivingAfterTheConnectionClosedIsIgnored(t *testing.T) {
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	m := &mediaStack{c: &Client{}, sub: pc}
	m.close()
	m.onTrack(pc, nil, nil) // would dereference the closed connection's replacement

	replacement, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer replacement.Close()
	m.sub = replacement
	m.onTrack(pc, nil, nil) // a track of the old connection, not the current one
	if len(m.c.received) != 0 {
		t.Fatalf("a track of a closed connection was recorded: %v", m.c.received)
	}
}
