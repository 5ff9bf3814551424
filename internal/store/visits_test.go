package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/visio-meet/visio/internal/room"
	"github.com/visio-meet/visio/internal/store"
)

func names(rooms []store.Room) []string {
	var out []string
	for _, r := range rooms {
		out = append(out, r.Name)
	}
	return out
}

func TestRecentRooms(t *testing.T) {
	forEachEngine(t, func(t *testing.T, ctx context.Context, s *store.Store) {
		alice, olga := newUser(t, s, "alice", "Alice"), newUser(t, s, "olga", "Olga")
		own := newRoom(t, s, alice.ID, "Alice's own")
		b := newRoom(t, s, olga.ID, "B")
		c := newRoom(t, s, olga.ID, "C")
		adm := newRoom(t, s, olga.ID, "Administered, never visited")
		if err := s.SetMember(ctx, adm.ID, alice.ID, room.Administrator); err != nil {
			t.Fatal(err)
		}
		recent := func(user store.UserID, limit int) []string {
			t.Helper()
			rooms, err := s.RecentRooms(ctx, user, limit)
			if err != nil {
				t.Fatal(err)
			}
			return names(rooms)
		}
		visit := func(r store.Room, at time.Time) {
			t.Helper()
			if err := s.RecordVisit(ctx, alice.ID, r.ID, at); err != nil {
				t.Fatal(err)
			}
		}

		if got, want := recent(alice.ID, 10), []string{"Alice's own"}; !slices.Equal(got, want) {
			t.Errorf("before any visit: %q, want %q", got, want)
		}
		at := now()
		visit(b, at.Add(1*time.Minute))
		visit(c, at.Add(2*time.Minute))
		visit(b, at.Add(3*time.Minute))
		want := []string{"B", "C", "Alice's own"}
		if got := recent(alice.ID, 10); !slices.Equal(got, want) {
			t.Errorf("after visits: %q, want %q", got, want)
		}
		if got := recent(alice.ID, 2); !slices.Equal(got, want[:2]) {
			t.Errorf("limit 2: %q, want %q", got, want[:2])
		}
		// An older visit reported late moves nothing.
		visit(b, at)
		if got := recent(alice.ID, 10); !slices.Equal(got, want) {
			t.Errorf("after a late visit: %q, want %q", got, want)
		}
		// Entering one's own room brings it up.
		visit(own, at.Add(4*time.Minute))
		if got, want := recent(alice.ID, 10), []string{"Alice's own", "B", "C"}; !slices.Equal(got, want) {
			t.Errorf("after visiting her own room: %q, want %q", got, want)
		}
		// Olga visited nothing: her rooms by creation, newest first.
		if got, want := recent(olga.ID, 10), []string{"Administered, never visited", "C", "B"}; !slices.Equal(got, want) {
			t.Errorf("Olga's rooms: %q, want %q", got, want)
		}
		if _, err := s.RecentRooms(ctx, alice.ID, 0); err == nil {
			t.Error("limit 0 accepted")
		}
		rooms, err := s.RecentRooms(ctx, alice.ID, 1)
		if err != nil || len(rooms) != 1 || !sameRoom(rooms[0], own) {
			t.Errorf("RecentRooms gives %+v, %v; want %+v", rooms, err, own)
		}
	})
}
