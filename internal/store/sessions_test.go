package store_test

import (
	"context"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/visio-meet/visio/internal/identity"
	"github.com/visio-meet/visio/internal/store"
)

func newSession(t *testing.T, s *store.Store, user store.UserID, expires time.Time) string {
	t.Helper()
	hash := identity.HashToken(rand.Text())
	if err := s.CreateSession(t.Context(), store.Session{TokenHash: hash, UserID: user, ExpiresAt: expires}); err != nil {
		t.Fatal(err)
	}
	return hash
}

func TestSessionFoundUntilExpiry(t *testing.T) {
	forEachEngine(t, func(t *testing.T, ctx context.Context, s *store.Store) {
		alice := newUser(t, s, "alice", "Alice")
		created := now()
		// Given in another time zone, to check the store does not read
		// the wall clock of one as UTC.
		paris := time.FixedZone("CET", 3600)
		expires := created.Add(8 * time.Hour).In(paris)
		want := store.Session{
			TokenHash: identity.HashToken(rand.Text()), UserID: alice.ID,
			CreatedAt: created, ExpiresAt: expires,
			IDToken: "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", ACR: "eidas1",
		}
		if err := s.CreateSession(ctx, want); err != nil {
			t.Fatal(err)
		}
		for _, at := range []time.Time{created, expires.Add(-time.Minute).UTC()} {
			got, err := s.Session(ctx, want.TokenHash, at)
			if err != nil {
				t.Fatalf("at %v: %v", at, err)
			}
			if got.TokenHash != want.TokenHash || got.UserID != alice.ID || got.IDToken != want.IDToken ||
				got.ACR != want.ACR || !got.CreatedAt.Equal(created) || !got.ExpiresAt.Equal(expires) {
				t.Errorf("at %v: session %+v, want %+v", at, got, want)
			}
		}
		for _, at := range []time.Time{expires, expires.Add(time.Minute).UTC()} {
			if _, err := s.Session(ctx, want.TokenHash, at); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("at %v, after expiry: %v, want ErrNotFound", at, err)
			}
		}
		if _, err := s.Session(ctx, identity.HashToken("unknown"), created); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown session: %v, want ErrNotFound", err)
		}
	})
}

func TestRevokeSession(t *testing.T) {
	forEachEngine(t, func(t *testing.T, ctx context.Context, s *store.Store) {
		alice := newUser(t, s, "alice", "Alice")
		revoked := newSession(t, s, alice.ID, now().Add(time.Hour))
		kept := newSession(t, s, alice.ID, now().Add(time.Hour))
		if err := s.RevokeSession(ctx, revoked); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Session(ctx, revoked, now()); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("revoked session: %v, want ErrNotFound", err)
		}
		if _, err := s.Session(ctx, kept, now()); err != nil {
			t.Errorf("the other session: %v", err)
		}
		if err := s.RevokeSession(ctx, revoked); err != nil {
			t.Errorf("logging out twice: %v", err)
		}
	})
}

func TestRevokeUserSessions(t *testing.T) {
	forEachEngine(t, func(t *testing.T, ctx context.Context, s *store.Store) {
		alice, bob := newUser(t, s, "alice", "Alice"), newUser(t, s, "bob", "Bob")
		laptop := newSession(t, s, alice.ID, now().Add(time.Hour))
		phone := newSession(t, s, alice.ID, now().Add(time.Hour))
		bobs := newSession(t, s, bob.ID, now().Add(time.Hour))
		if err := s.RevokeUserSessions(ctx, alice.ID); err != nil {
			t.Fatal(err)
		}
		for _, hash := range []string{laptop, phone} {
			if _, err := s.Session(ctx, hash, now()); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Alice's session: %v, want ErrNotFound", err)
			}
		}
		if _, err := s.Session(ctx, bobs, now()); err != nil {
			t.Errorf("Bob's session: %v", err)
		}
	})
}

func TestDeleteExpiredSessions(t *testing.T) {
	forEachEngine(t, func(t *testing.T, ctx context.Context, s *store.Store) {
		alice := newUser(t, s, "alice", "Alice")
		at := now()
		newSession(t, s, alice.ID, at.Add(-time.Hour))
		newSession(t, s, alice.ID, at)
		live := newSession(t, s, alice.ID, at.Add(time.Second))
		n, err := s.DeleteExpiredSessions(ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Errorf("deleted %d sessions, want 2", n)
		}
		if _, err := s.Session(ctx, live, at); err != nil {
			t.Errorf("live session: %v", err)
		}
	})
}

func TestCreateSessionRefused(t *testing.T) {
	forEachEngine(t, func(t *testing.T, ctx context.Context, s *store.Store) {
		alice := newUser(t, s, "alice", "Alice")
		expires := now().Add(time.Hour)
		if err := s.CreateSession(ctx, store.Session{TokenHash: rand.Text(), UserID: alice.ID, ExpiresAt: expires}); err == nil {
			t.Error("a raw token was stored as a session hash")
		}
		if err := s.CreateSession(ctx, store.Session{TokenHash: identity.HashToken("x"), UserID: alice.ID}); err == nil {
			t.Error("a session without expiry was stored")
		}
		err := s.CreateSession(ctx, store.Session{TokenHash: identity.HashToken("x"), UserID: "usr_nobody", ExpiresAt: expires})
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("session of an unknown user: %v, want ErrNotFound", err)
		}
		hash := newSession(t, s, alice.ID, expires)
		err = s.CreateSession(ctx, store.Session{TokenHash: hash, UserID: alice.ID, ExpiresAt: expires})
		if !errors.Is(err, store.ErrConflict) {
			t.Errorf("same hash twice: %v, want ErrConflict", err)
		}
	})
}
