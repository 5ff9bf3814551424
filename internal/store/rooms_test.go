package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/visio-meet/visio/internal/room"
	"github.com/visio-meet/visio/internal/store"
)

func sameRoom(a, b store.Room) bool {
	return a.ID == b.ID && a.Code == b.Code && a.Name == b.Name && a.Settings == b.Settings &&
		a.CreatedBy == b.CreatedBy && a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt)
}

func TestCreateRoom(t *testing.T) {
	forEachEngine(t, func(t *testing.T, ctx context.Context, s *store.Store) {
		alice := newUser(t, s, "alice", "Alice")
		settings := room.Settings{
			Access:          room.Restricted,
			MaxParticipants: 12,
			Publishing:      room.Publishing{Microphone: true, Camera: false, Screen: true},
		}
		code := room.NewCode()
		created, err := s.CreateRoom(ctx, store.Room{Code: code, Name: "Weekly", Settings: settings}, alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		if created.ID == "" || created.CreatedBy != alice.ID || created.CreatedAt.IsZero() {
			t.Errorf("created room %+v", created)
		}
		got, err := s.RoomByCode(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		if !sameRoom(got, created) || got.Settings != settings {
			t.Errorf("RoomByCode = %+v, want %+v", got, created)
		}
		role, err := s.Role(ctx, created.ID, alice.ID)
		if err != nil || role != room.Owner {
			t.Errorf("creator's role = %q, %v; want owner", role, err)
		}

		bob := newUser(t, s, "bob", "Bob")
		_, err = s.CreateRoom(ctx, store.Room{Code: code, Settings: settings}, bob.ID)
		if !errors.Is(err, store.ErrConflict) {
			t.Errorf("code taken twice: %v, want ErrConflict", err)
		}
		if got, err := s.RoomByCode(ctx, code); err != nil || got.ID != created.ID {
			t.Errorf("after the refused creation: %+v, %v", got, err)
		}
		if _, err := s.RoomByCode(ctx, room.NewCode()); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown code: %v, want ErrNotFound", err)
		}
	})
}

// The room and its owner are stored together or not at all.
func TestCreateRoomOfUnknownUser(t *testing.T) {
	forEachEngine(t, func(t *testing.T, ctx context.Context, s *store.Store) {
		code := room.NewCode()
		_, err := s.CreateRoom(ctx, store.Room{Code: code, Settings: defaultSettings}, "usr_nobody")
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("creator unknown: %v, want ErrNotFound", err)
		}
		if _, err := s.RoomByCode(ctx, code); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the room was left behind: %v", err)
		}
	})
}

func TestCreateRoomRefusesBadInput(t *testing.T) {
	forEachEngine(t, func(t *testing.T, ctx context.Context, s *store.Store) {
		alice := newUser(t, s, "alice", "Alice")
		_, err := s.CreateRoom(ctx, store.Room{Code: "ABC-DEFG-HIJ", Settings: defaultSettings}, alice.ID)
		if !errors.Is(err, room.ErrInvalidCode) {
			t.Errorf("code not in canonical form: %v, want room.ErrInvalidCode", err)
		}
		for _, bad := range []room.Settings{
			{Access: "everyone"},
			{Access: room.Public, MaxParticipants: -1},
		} {
			if _, err := s.CreateRoom(ctx, store.Room{Code: room.NewCode(), Settings: bad}, alice.ID); err == nil {
				t.Errorf("settings %+v were stored", bad)
			}
		}
	})
}

func TestUpdateRoom(t *testing.T) {
	forEachEngine(t, func(t *testing.T, ctx context.Context, s *store.Store) {
		alice := newUser(t, s, "alice", "Alice")
		r := newRoom(t, s, alice.ID, "Before")
		// Two rounds, so that each flag is seen both ways and differs from
		// its neighbours at least once.
		for i, settings := range []room.Settings{
			{Access: room.Trusted, MaxParticipants: 50, Publishing: room.Publishing{Camera: true}},
			{Access: room.Restricted, MaxParticipants: 0, Publishing: room.Publishing{Microphone: true, Screen: true}},
		} {
			name := fmt.Sprintf("After %d", i)
			updated, err := s.UpdateRoom(ctx, r.ID, name, settings)
			if err != nil {
				t.Fatal(err)
			}
			if updated.Name != name || updated.Settings != settings || updated.Code != r.Code ||
				!updated.CreatedAt.Equal(r.CreatedAt) || updated.UpdatedAt.Before(r.UpdatedAt) {
				t.Errorf("UpdateRoom = %+v; before: %+v", updated, r)
			}
			got, err := s.RoomByCode(ctx, r.Code)
			if err != nil {
				t.Fatal(err)
			}
			if !sameRoom(got, updated) {
				t.Errorf("RoomByCode = %+v, want %+v", got, updated)
			}
		}
		settings := defaultSettings
		if _, err := s.UpdateRoom(ctx, "room_nothing", "x", settings); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("update of an unknown room: %v, want ErrNotFound", err)
		}
		if _, err := s.UpdateRoom(ctx, r.ID, "x", room.Settings{Access: "open"}); err == nil {
			t.Error("an unknown access level was stored")
		}
	})
}

func TestDeleteRoomCascades(t *testing.T) {
	forEachEngine(t, func(t *testing.T, ctx context.Context, s *store.Store) {
		alice, bob := newUser(t, s, "alice", "Alice"), newUser(t, s, "bob", "Bob")
		r := newRoom(t, s, alice.ID, "Doomed")
		if err := s.SetMember(ctx, r.ID, bob.ID, room.Member); err != nil {
			t.Fatal(err)
		}
		if err := s.Ban(ctx, r.ID, store.GuestBanKey("g1"), time.Time{}); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordVisit(ctx, bob.ID, r.ID, now()); err != nil {
			t.Fatal(err)
		}

		if err := s.DeleteRoom(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RoomByCode(ctx, r.Code); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleted room: %v, want ErrNotFound", err)
		}
		for _, u := range []store.UserID{alice.ID, bob.ID} {
			if role, err := s.Role(ctx, r.ID, u); err != nil || role != room.NoRole {
				t.Errorf("membership left behind: %q, %v", role, err)
			}
		}
		if banned, err := s.IsBanned(ctx, r.ID, store.GuestBanKey("g1"), now()); err != nil || banned {
			t.Errorf("ban left behind: %v, %v", banned, err)
		}
		if rooms, err := s.RecentRooms(ctx, bob.ID, 10); err != nil || len(rooms) != 0 {
			t.Errorf("recent rooms after deletion: %+v, %v", rooms, err)
		}
		if err := s.DeleteRoom(ctx, r.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleting twice: %v, want ErrNotFound", err)
		}
		// The code is free again.
		if _, err := s.CreateRoom(ctx, store.Room{Code: r.Code, Settings: defaultSettings}, bob.ID); err != nil {
			t.Errorf("reusing the code of a deleted room: %v", err)
		}
	})
}
