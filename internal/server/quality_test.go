package server

import (
	"testing"
	"time"

	"github.com/visio-meet/visio/internal/client"
	"github.com/visio-meet/visio/internal/config"
	"github.com/visio-meet/visio/internal/protocol"
	"github.com/visio-meet/visio/internal/room"
)

func TestEveryoneSeesWhoseConnectionIsPoor(t *testing.T) {
	srv := startServer(t, func(_ *config.Config, o *Options) { o.Meeting.QualityInterval = 300 * time.Millisecond })
	ctx := testContext(t)
	code := room.NewCode()
	alice := srv.join(t, ctx, code, "Alice", mic, camera)
	bob := srv.join(t, ctx, code, "Bob", mic)
	carol := srv.join(t, ctx, code, "Carol")
	receiving(t, ctx, carol, alice, 20, mic, camera)

	// Carol's downlink loses a packet in five.
	carol.DropIncoming(5)
	rated := func(who *client.Client, want protocol.Quality) func(client.State) bool {
		return func(s client.State) bool { return s.Quality[who.ID()] == want }
	}
	for _, viewer := range []*client.Client{alice, bob, carol} {
		if err := viewer.WaitFor(ctx, rated(carol, protocol.QualityPoor)); err != nil {
			t.Fatalf("Carol's lossy link is not shown as poor: %v", viewer.State().Quality)
		}
		if q := viewer.State().Quality; q[alice.ID()] != protocol.QualityGood || q[bob.ID()] != protocol.QualityGood {
			t.Fatalf("Alice and Bob, on clean links, are rated %v", q)
		}
	}

	// Her link heals: after a while she is rated good again.
	carol.DropIncoming(0)
	if err := alice.WaitFor(ctx, rated(carol, protocol.QualityGood)); err != nil {
		t.Fatalf("Carol's rating does not recover: %v", alice.State().Quality)
	}
}
