package server

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/visio-meet/visio/internal/client"
	"github.com/visio-meet/visio/internal/config"
	"github.com/visio-meet/visio/internal/protocol"
	"github.com/visio-meet/visio/internal/room"
)

// patient gives participants time to come back: media connections fail
// after 15 s of silence, and a dropped signalling connection is waited for
// 10 s.
func patient(c *config.Config, o *Options) {
	c.Media.ICEFailedTimeout = 15 * time.Second
	o.Meeting.ReconnectGrace = 10 * time.Second
}

// moreFrom waits until c has received n more packets of each source from.
func moreFrom(t *testing.T, c, from *client.Client, n int, sources ...protocol.Source) {
	t.Helper()
	before := map[protocol.Source]int{}
	for _, src := range sources {
		before[src] = packets(c, from, src)
	}
	err := c.WaitFor(testContext(t), func(s client.State) bool {
		for _, src := range sources {
			if s.Received[client.TrackKey{Participant: from.ID(), Source: src}].Packets < before[src]+n {
				return false
			}
		}
		return true
	})
	if err != nil {
		t.Fatalf("media from %s did not resume: %v", from.ID(), err)
	}
}

// meetingOfTwo has Alice and Bob publish to each other, on a patient
// server.
func meetingOfTwo(t *testing.T) (ctx context.Context, alice, bob *client.Client) {
	srv := startServer(t, patient)
	ctx = testContext(t)
	code := room.NewCode()
	alice = srv.join(t, ctx, code, "Alice", mic, camera)
	bob = srv.join(t, ctx, code, "Bob", mic, camera)
	receiving(t, ctx, alice, bob, 20, mic, camera)
	receiving(t, ctx, bob, alice, 20, mic, camera)
	return ctx, alice, bob
}

func TestAShortOutageResumesTheSameParticipant(t *testing.T) {
	ctx, alice, bob := meetingOfTwo(t)
	id := bob.ID()
	// The welcome tells the app how long it may take to come back.
	if w := bob.State().ResumeWithin; w != 10*time.Second {
		t.Fatalf("the welcome gives %v to come back, the server waits 10s", w)
	}

	// Bob's network goes away for 3 s: signalling and media.
	bob.BlockMedia(true)
	bob.DropSignalling()
	time.Sleep(3 * time.Second)
	bob.BlockMedia(false)

	// His app reconnects and comes back as the same participant, without
	// joining again, then restarts ICE.
	if err := bob.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	if bob.ID() != id {
		t.Fatalf("Bob came back as %s, not %s", bob.ID(), id)
	}
	if _, ok := bob.State().Others[alice.ID()]; !ok {
		t.Fatal("the new welcome does not list Alice")
	}
	if err := bob.RestartICE(ctx); err != nil {
		t.Fatal(err)
	}
	moreFrom(t, alice, bob, 30, mic, camera)
	moreFrom(t, bob, alice, 30, mic, camera)
	if left := alice.State().Left; slices.Contains(left, id) {
		t.Fatal("Alice was told Bob left")
	}
}

func TestICERestartAfterANetworkChange(t *testing.T) {
	ctx, alice, bob := meetingOfTwo(t)
	pubBefore, subBefore := bob.RemoteICEUfrags()

	// Bob's old path dies; his app restarts ICE over the signalling
	// connection, which stayed up, and media flows on the new path.
	bob.BlockMedia(true)
	if err := bob.RestartICE(ctx); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, func() bool { _, sub := bob.RemoteICEUfrags(); return sub != subBefore }, "no ICE restart offer on the subscribe connection")
	time.Sleep(time.Second)
	bob.BlockMedia(false)
	moreFrom(t, alice, bob, 30, mic, camera)
	moreFrom(t, bob, alice, 30, mic, camera)
	if pub, _ := bob.RemoteICEUfrags(); pub == pubBefore {
		t.Fatal("the publish connection kept its ICE credentials")
	}
	if slices.Contains(alice.State().Left, bob.ID()) {
		t.Fatal("Alice was told Bob left")
	}
}

func TestResumingTooLateOrWithAWrongTokenFails(t *testing.T) {
	srv := startServer(t, func(c *config.Config, o *Options) { o.Meeting.ReconnectGrace = time.Second })
	ctx := testContext(t)
	code := room.NewCode()
	alice := srv.join(t, ctx, code, "Alice")
	bob := srv.join(t, ctx, code, "Bob")

	// Someone else tries to take Bob's place with his id but not his token.
	mallory, err := client.Connect(ctx, client.Options{URL: srv.url, Name: "Mallory"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mallory.Kill)
	if err := mallory.SendMessage(ctx, &protocol.Resume{Participant: bob.ID(), Token: "not-his-token"}); err != nil {
		t.Fatal(err)
	}
	if err := mallory.WaitFor(ctx, func(s client.State) bool { return len(s.Errors) > 0 }); err != nil || mallory.State().Errors[0].Code != protocol.CodeResumeFailed {
		t.Fatalf("a forged resume was not refused: %v %v", err, mallory.State().Errors)
	}

	// Bob's connection drops and he stays away longer than the grace period:
	// the others see him leave, and he cannot resume.
	bob.DropSignalling()
	if err := alice.WaitFor(ctx, func(s client.State) bool { return slices.Contains(s.Left, bob.ID()) }); err != nil {
		t.Fatal("Alice was not told that Bob left")
	}
	if err := bob.Resume(ctx); err == nil {
		t.Fatal("Bob resumed after the grace period")
	}
}
