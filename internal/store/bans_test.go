package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/visio-meet/visio/internal/store"
)

func TestBans(t *testing.T) {
	forEachEngine(t, func(t *testing.T, ctx context.Context, s *store.Store) {
		alice, bob := newUser(t, s, "alice", "Alice"), newUser(t, s, "bob", "Bob")
		r, other := newRoom(t, s, alice.ID, "Here"), newRoom(t, s, alice.ID, "Elsewhere")
		at := now()
		forever, guest := store.UserBanKey(bob.ID), store.GuestBanKey("browser-1")
		if err := s.Ban(ctx, r.ID, forever, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if err := s.Ban(ctx, r.ID, guest, at.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		isBanned := func(id store.RoomID, key string, at time.Time) bool {
			t.Helper()
			banned, err := s.IsBanned(ctx, id, key, at)
			if err != nil {
				t.Fatal(err)
			}
			return banned
		}
		for _, c := range []struct {
			what   string
			id     store.RoomID
			key    string
			at     time.Time
			banned bool
		}{
			{"banned forever, now", r.ID, forever, at, true},
			{"banned forever, in a century", r.ID, forever, at.AddDate(100, 0, 0), true},
			{"banned for an hour, now", r.ID, guest, at, true},
			{"banned for an hour, at its end", r.ID, guest, at.Add(time.Hour), false},
			{"banned for an hour, two hours later", r.ID, guest, at.Add(2 * time.Hour), false},
			{"in another room", other.ID, forever, at, false},
			{"someone else", r.ID, store.UserBanKey(alice.ID), at, false},
		} {
			if got := isBanned(c.id, c.key, c.at); got != c.banned {
				t.Errorf("%s: banned = %v, want %v", c.what, got, c.banned)
			}
		}

		// Banning again replaces the end of the ban.
		if err := s.Ban(ctx, r.ID, forever, at.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if isBanned(r.ID, forever, at.Add(2*time.Minute)) {
			t.Error("a shortened ban still holds after its new end")
		}

		if err := s.Unban(ctx, r.ID, guest); err != nil {
			t.Fatal(err)
		}
		if isBanned(r.ID, guest, at) {
			t.Error("still banned after Unban")
		}
		if err := s.Unban(ctx, r.ID, guest); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unbanning twice: %v, want ErrNotFound", err)
		}
		if err := s.Ban(ctx, r.ID, "bob", time.Time{}); err == nil {
			t.Error("a ban key without its kind was stored")
		}
		if err := s.Ban(ctx, "room_nothing", guest, time.Time{}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("ban from an unknown room: %v, want ErrNotFound", err)
		}
	})
}
