package server

import (
	"slices"
	"testing"

	"github.com/visio-meet/visio/internal/client"
	"github.com/visio-meet/visio/internal/room"
)

// receivesLayer waits until c gets the camera of from at layer.
func receivesLayer(t *testing.T, c, from *client.Client, layer int, why string) {
	t.Helper()
	key := client.TrackKey{Participant: from.ID(), Source: camera}
	before := c.State().Received[key].Packets
	err := c.WaitFor(testContext(t), func(s client.State) bool {
		r := s.Received[key]
		return r.Layer == layer && r.Packets > before+30
	})
	if err != nil {
		t.Fatalf("%s: not receiving layer %d (%v): %+v", why, layer, err, c.State().Received[key])
	}
}

// asksForLayers waits until the server asks the publisher for these layers.
func asksForLayers(t *testing.T, c *client.Client, want []string, why string) {
	t.Helper()
	waitUntil(t, func() bool {
		active, ok := c.ActiveLayers(camera)
		return ok && slices.Equal(active, want)
	}, why)
}

func TestSimulcastLayerFollowsTheTileSize(t *testing.T) {
	srv := startServer(t)
	ctx := testContext(t)
	code := room.NewCode()
	alice := srv.joinWith(t, ctx, client.Options{Room: string(code), Name: "Alice", Simulcast: true}, mic, camera)
	bob := srv.join(t, ctx, code, "Bob")
	carol := srv.join(t, ctx, code, "Carol")
	aliceCamera := client.TrackKey{Participant: alice.ID(), Source: camera}

	// Before telling what they show, everyone gets the best layer.
	receivesLayer(t, bob, alice, 2, "no view yet")
	receivesLayer(t, carol, alice, 2, "no view yet")

	// Bob shows Alice in a small tile, Carol in a middle-sized one.
	if err := bob.SetView(ctx, map[client.TrackKey]int{aliceCamera: 120}); err != nil {
		t.Fatal(err)
	}
	if err := carol.SetView(ctx, map[client.TrackKey]int{aliceCamera: 360}); err != nil {
		t.Fatal(err)
	}
	receivesLayer(t, bob, alice, 0, "small tile")
	receivesLayer(t, carol, alice, 1, "middle tile")
	// Nobody needs the full layer: Alice stops sending it.
	asksForLayers(t, alice, []string{"q", "h"}, "the unwanted full layer is not paused")

	// Bob's tile grows: the full layer resumes and reaches him.
	if err := bob.SetView(ctx, map[client.TrackKey]int{aliceCamera: 720}); err != nil {
		t.Fatal(err)
	}
	asksForLayers(t, alice, []string{"q", "h", "f"}, "the full layer is not resumed")
	receivesLayer(t, bob, alice, 2, "large tile")
	receivesLayer(t, carol, alice, 1, "Carol's tile did not change")
	// Across the switches each subscriber saw one unbroken stream.
	for _, c := range []*client.Client{bob, carol} {
		if r := c.State().Received[aliceCamera]; r.Missing != 0 || r.Keyframes < 3 {
			t.Errorf("after layer switches: %d packets missing, %d keyframes (one per switch expected)", r.Missing, r.Keyframes)
		}
	}

	// Nobody shows Alice's camera: she sends no video at all.
	for _, c := range []*client.Client{bob, carol} {
		if err := c.SetView(ctx, map[client.TrackKey]int{}); err != nil {
			t.Fatal(err)
		}
	}
	asksForLayers(t, alice, []string{}, "an unwatched camera is not paused")
}
