package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/visio-meet/visio/internal/store"
)

func TestUpsertUser(t *testing.T) {
	forEachEngine(t, func(t *testing.T, ctx context.Context, s *store.Store) {
		before := now()
		first, err := s.UpsertUser(ctx, store.User{
			Issuer: "https://id.example", Subject: "alice-uuid",
			Email: "alice@example.org", Name: "Alice Martin", GivenName: "Alice", UsualName: "Martin",
		})
		if err != nil {
			t.Fatal(err)
		}
		if first.ID == "" || first.Email != "alice@example.org" || first.UsualName != "Martin" {
			t.Errorf("first login: %+v", first)
		}
		if first.LastLoginAt.Before(before) || !first.CreatedAt.Equal(first.LastLoginAt) {
			t.Errorf("first login at %v, created at %v; the test started at %v", first.LastLoginAt, first.CreatedAt, before)
		}

		second, err := s.UpsertUser(ctx, store.User{
			ID:     "usr_ignored",
			Issuer: "https://id.example", Subject: "alice-uuid",
			Email: "alice.dupont@example.org", Name: "Alice Dupont", GivenName: "Alice", UsualName: "Dupont",
		})
		if err != nil {
			t.Fatal(err)
		}
		if second.ID != first.ID {
			t.Errorf("second login: ID %s, want %s", second.ID, first.ID)
		}
		if second.Name != "Alice Dupont" || second.Email != "alice.dupont@example.org" || second.UsualName != "Dupont" {
			t.Errorf("second login did not update the user: %+v", second)
		}
		if !second.CreatedAt.Equal(first.CreatedAt) || second.LastLoginAt.Before(first.LastLoginAt) {
			t.Errorf("second login: created %v, last login %v; first: %+v", second.CreatedAt, second.LastLoginAt, first)
		}
		got, err := s.User(ctx, first.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got != second {
			t.Errorf("User = %+v, want %+v", got, second)
		}

		// The same subject at another provider is someone else.
		other, err := s.UpsertUser(ctx, store.User{Issuer: "https://other.example", Subject: "alice-uuid"})
		if err != nil {
			t.Fatal(err)
		}
		if other.ID == first.ID {
			t.Error("a user of another issuer got the same ID")
		}

		if _, err := s.UpsertUser(ctx, store.User{Issuer: "https://id.example"}); err == nil {
			t.Error("a user without a subject was stored")
		}
		if _, err := s.User(ctx, "usr_nobody"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("User of an unknown ID: %v, want ErrNotFound", err)
		}
	})
}

func TestFindUsersByIdentityAndEmail(t *testing.T) {
	forEachEngine(t, func(t *testing.T, ctx context.Context, s *store.Store) {
		alice, err := s.UpsertUser(ctx, store.User{Issuer: "https://id.example", Subject: "alice", Email: "Alice@Example.org", Name: "Alice"})
		if err != nil {
			t.Fatal(err)
		}
		if u, err := s.UserByIdentity(ctx, "https://id.example", "alice"); err != nil || u.ID != alice.ID {
			t.Fatalf("by identity: %+v %v", u, err)
		}
		if _, err := s.UserByIdentity(ctx, "https://other.example", "alice"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the same subject at another provider: %v", err)
		}
		if u, err := s.UserByEmail(ctx, "alice@example.ORG"); err != nil || u.ID != alice.ID {
			t.Fatalf("by e-mail, another case: %+v %v", u, err)
		}
		for _, email := range []string{"", "bob@example.org"} {
			if _, err := s.UserByEmail(ctx, email); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("by e-mail %q: %v", email, err)
			}
		}
	})
}
