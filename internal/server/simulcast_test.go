package server

import (
	"slices"
	"strings"
	"testing"
	"time"

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
	// Bob started on the full layer and switched twice, Carol once: a
	// keyframe for the start and each switch (the publisher's periodic ones
	// may add more).
	for c, layers := range map[*client.Client]int{bob: 3, carol: 2} {
		if r := c.State().Received[aliceCamera]; r.Missing != 0 || r.Keyframes < layers {
			t.Errorf("after layer switches: %d packets missing, %d keyframes (one per layer received expected, %d)", r.Missing, r.Keyframes, layers)
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

func TestASubscriberOnANarrowLinkGetsALowerLayer(t *testing.T) {
	srv := startServer(t)
	ctx := testContext(t)
	code := room.NewCode()
	alice := srv.joinWith(t, ctx, client.Options{Room: string(code), Name: "Alice", Simulcast: true}, mic, camera)
	bob := srv.join(t, ctx, code, "Bob")
	carol := srv.joinWith(t, ctx, client.Options{Room: string(code), Name: "Carol on a narrow link", DownlinkKbps: 1000})

	// Both show Alice large: Bob gets the full layer; Carol's link cannot
	// carry it (1.5 Mbit/s), so she gets a lower one, and keeps receiving.
	// Now and then the server tries the full layer again for her (a probe,
	// of a second or so, at most once in 8 s after a failed one), so most,
	// not all, of what she gets over 8 s is of the lower layers.
	receivesLayer(t, bob, alice, 2, "wide link")
	receivesLayer(t, carol, alice, 1, "narrow link")
	key := client.TrackKey{Participant: alice.ID(), Source: camera}
	before := carol.State().Received[key]
	bobBefore := bob.State().Received[key]
	time.Sleep(8 * time.Second)
	after := carol.State().Received[key]
	lower := after.LayerPackets[0] + after.LayerPackets[1] - before.LayerPackets[0] - before.LayerPackets[1]
	full := after.LayerPackets[2] - before.LayerPackets[2]
	if lower < 200 || full >= lower {
		t.Fatalf("on the narrow link, in 8 s: %d packets of the lower layers, %d of the full one", lower, full)
	}
	bobAfter := bob.State().Received[key]
	if got := bobAfter.LayerPackets[2] - bobBefore.LayerPackets[2]; got < bobAfter.Packets-bobBefore.Packets {
		t.Fatalf("Bob, on a wide link, got %d of %d packets from the full layer", got, bobAfter.Packets-bobBefore.Packets)
	}
}

func TestAViewMayNameATrackBeforeItIsPublished(t *testing.T) {
	srv := startServer(t)
	ctx := testContext(t)
	code := room.NewCode()
	alice := srv.join(t, ctx, code, "Alice")
	bob := srv.join(t, ctx, code, "Bob")
	// Bob's app lays out Alice's tile as soon as it knows her camera is
	// coming, before the server has her first packet.
	if err := bob.SetView(ctx, map[client.TrackKey]int{{Participant: alice.ID(), Source: camera}: 360}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if err := alice.Publish(ctx, camera); err != nil {
		t.Fatal(err)
	}
	receiving(t, ctx, bob, alice, 50, camera)
}

func TestH264IsForwardedToo(t *testing.T) {
	srv := startServer(t)
	ctx := testContext(t)
	code := room.NewCode()
	alice := srv.joinWith(t, ctx, client.Options{Room: string(code), Name: "Alice", H264: true, Simulcast: true}, camera)
	bob := srv.join(t, ctx, code, "Bob")
	receiving(t, ctx, bob, alice, 60, camera)
	// The full layer comes once the bandwidth estimate allows it.
	receivesLayer(t, bob, alice, 2, "a tile of any size, H.264")
	r := bob.State().Received[client.TrackKey{Participant: alice.ID(), Source: camera}]
	if !strings.EqualFold(r.Codec, "video/H264") || r.Keyframes == 0 || r.Layer != 2 {
		t.Fatalf("Bob gets %+v, want H.264 from a keyframe, at the full layer", r)
	}
	// The layer switch works on H.264 keyframes too.
	if err := bob.SetView(ctx, map[client.TrackKey]int{{Participant: alice.ID(), Source: camera}: 120}); err != nil {
		t.Fatal(err)
	}
	receivesLayer(t, bob, alice, 0, "small tile, H.264")
}
