package server

import (
	"testing"

	"github.com/visio-meet/visio/internal/config"
	"github.com/visio-meet/visio/internal/room"
)

// Who joins a meeting that has reached rooms.muted_join_from people is
// asked to start muted; who comes back after a drop is not (their
// microphone stays as they left it); everyone learns rooms.quiet_above.
func TestLargeMeetingsStartMutedAndQuiet(t *testing.T) {
	srv := startServer(t, func(c *config.Config, _ *Options) {
		c.Rooms.MutedJoinFrom = 2
		c.Rooms.QuietAbove = 7
	})
	ctx := testContext(t)
	code := room.NewCode()
	first := srv.join(t, ctx, code, "Ana")
	second := srv.join(t, ctx, code, "Bea")
	third := srv.join(t, ctx, code, "Cal")
	for _, c := range []struct {
		name  string
		muted bool
		state func() bool
	}{
		{"Ana, alone", false, func() bool { return first.State().Welcome.StartMuted }},
		{"Bea, with one other", false, func() bool { return second.State().Welcome.StartMuted }},
		{"Cal, with two others", true, func() bool { return third.State().Welcome.StartMuted }},
	} {
		if got := c.state(); got != c.muted {
			t.Errorf("%s: start_muted %v, want %v", c.name, got, c.muted)
		}
	}
	if q := third.State().Welcome.QuietAbove; q != 7 {
		t.Errorf("quiet_above %d, want 7", q)
	}

	third.DropSignalling()
	if err := third.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	if w := third.State().Welcome; !w.Resumed || w.StartMuted {
		t.Errorf("resumed welcome: resumed %v, start_muted %v; want a resumed welcome that leaves the microphone alone", w.Resumed, w.StartMuted)
	}
}
