package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/visio-meet/visio/internal/room"
	"github.com/visio-meet/visio/internal/store"
)

type nameRole struct {
	Name string
	Role room.Role
}

func memberList(t *testing.T, s *store.Store, id store.RoomID) []nameRole {
	t.Helper()
	members, err := s.Members(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []nameRole
	for _, m := range members {
		if m.RoomID != id || m.User.ID == "" || m.AddedAt.IsZero() {
			t.Errorf("member %+v", m)
		}
		out = append(out, nameRole{m.User.Name, m.Role})
	}
	return out
}

func TestMembers(t *testing.T) {
	forEachEngine(t, func(t *testing.T, ctx context.Context, s *store.Store) {
		olga := newUser(t, s, "olga", "Olga")
		r := newRoom(t, s, olga.ID, "Team")
		users := map[string]store.User{}
		for _, m := range []nameRole{
			{"Dave", room.Member}, {"Bob", room.Administrator}, {"carol", room.Member},
			{"alice", room.Administrator}, {"Zed", room.Owner},
		} {
			u := newUser(t, s, m.Name, m.Name)
			users[m.Name] = u
			if err := s.SetMember(ctx, r.ID, u.ID, m.Role); err != nil {
				t.Fatal(err)
			}
		}
		// By name regardless of case, where byte order would put
		// capitals first.
		want := []nameRole{
			{"Olga", room.Owner}, {"Zed", room.Owner},
			{"alice", room.Administrator}, {"Bob", room.Administrator},
			{"carol", room.Member}, {"Dave", room.Member},
		}
		if got := memberList(t, s, r.ID); !slices.Equal(got, want) {
			t.Errorf("members:\n got %v\nwant %v", got, want)
		}

		before, _ := s.Members(ctx, r.ID)
		if err := s.SetMember(ctx, r.ID, users["Dave"].ID, room.Administrator); err != nil {
			t.Fatal(err)
		}
		if role, err := s.Role(ctx, r.ID, users["Dave"].ID); err != nil || role != room.Administrator {
			t.Errorf("Dave's new role: %q, %v", role, err)
		}
		want = []nameRole{
			{"Olga", room.Owner}, {"Zed", room.Owner},
			{"alice", room.Administrator}, {"Bob", room.Administrator}, {"Dave", room.Administrator},
			{"carol", room.Member},
		}
		after, _ := s.Members(ctx, r.ID)
		if got := memberList(t, s, r.ID); !slices.Equal(got, want) {
			t.Errorf("after the role change:\n got %v\nwant %v", got, want)
		}
		addedAt := func(ms []store.Member, name string) string {
			for _, m := range ms {
				if m.User.Name == name {
					return m.AddedAt.String()
				}
			}
			return ""
		}
		if addedAt(before, "Dave") != addedAt(after, "Dave") {
			t.Errorf("a role change moved the time Dave was added: %s, then %s", addedAt(before, "Dave"), addedAt(after, "Dave"))
		}
		if m := after[0]; m.User.Email != "olga@example.org" {
			t.Errorf("member's user: %+v", m.User)
		}

		if err := s.RemoveMember(ctx, r.ID, users["carol"].ID); err != nil {
			t.Fatal(err)
		}
		if role, err := s.Role(ctx, r.ID, users["carol"].ID); err != nil || role != room.NoRole {
			t.Errorf("removed member's role: %q, %v", role, err)
		}
		if got := memberList(t, s, r.ID); len(got) != 5 || slices.Contains(got, nameRole{"carol", room.Member}) {
			t.Errorf("after removing carol: %v", got)
		}
		if err := s.RemoveMember(ctx, r.ID, users["carol"].ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("removing twice: %v, want ErrNotFound", err)
		}
	})
}

func TestSetMemberRefused(t *testing.T) {
	forEachEngine(t, func(t *testing.T, ctx context.Context, s *store.Store) {
		olga := newUser(t, s, "olga", "Olga")
		r := newRoom(t, s, olga.ID, "Team")
		if err := s.SetMember(ctx, r.ID, olga.ID, room.NoRole); err == nil {
			t.Error("a member without a role was stored")
		}
		if err := s.SetMember(ctx, r.ID, "usr_nobody", room.Member); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown user: %v, want ErrNotFound", err)
		}
		if err := s.SetMember(ctx, "room_nothing", olga.ID, room.Member); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown room: %v, want ErrNotFound", err)
		}
		if role, err := s.Role(ctx, r.ID, "usr_nobody"); err != nil || role != room.NoRole {
			t.Errorf("role of a stranger: %q, %v", role, err)
		}
	})
}
