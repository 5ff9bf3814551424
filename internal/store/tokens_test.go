package store_test

import (
	"context"
	"crypto/rand"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/visio-meet/visio/internal/identity"
	"github.com/visio-meet/visio/internal/store"
)

func TestAPITokens(t *testing.T) {
	forEachEngine(t, func(t *testing.T, ctx context.Context, s *store.Store) {
		alice, bob := newUser(t, s, "alice", "Alice"), newUser(t, s, "bob", "Bob")
		secret := rand.Text()
		tok, err := s.CreateAPIToken(ctx, store.APIToken{
			Hash: identity.HashToken(secret), UserID: alice.ID, Name: "Calendar",
			Scopes: []string{"rooms:read", "rooms:write"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if tok.ID == "" || tok.CreatedAt.IsZero() || !tok.ExpiresAt.IsZero() || !tok.LastUsedAt.IsZero() {
			t.Errorf("created token %+v", tok)
		}

		at := now().Add(time.Minute)
		got, err := s.APITokenByHash(ctx, identity.HashToken(secret), at)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != tok.ID || got.UserID != alice.ID || got.Name != "Calendar" ||
			!slices.Equal(got.Scopes, tok.Scopes) || !got.CreatedAt.Equal(tok.CreatedAt) ||
			!got.ExpiresAt.IsZero() || !got.LastUsedAt.Equal(at) {
			t.Errorf("APITokenByHash = %+v; created %+v, used at %v", got, tok, at)
		}
		later := at.Add(time.Hour)
		if got, err := s.APITokenByHash(ctx, identity.HashToken(secret), later); err != nil || !got.LastUsedAt.Equal(later) {
			t.Errorf("second use: last used %v, %v; want %v", got.LastUsedAt, err, later)
		}
		if _, err := s.APITokenByHash(ctx, identity.HashToken("wrong secret"), at); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("wrong secret: %v, want ErrNotFound", err)
		}

		short, err := s.CreateAPIToken(ctx, store.APIToken{
			Hash: identity.HashToken("short-lived"), UserID: alice.ID, Name: "Trial", ExpiresAt: at.Add(time.Hour),
		})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := s.APITokenByHash(ctx, short.Hash, at); err != nil || got.Scopes != nil || !got.ExpiresAt.Equal(at.Add(time.Hour)) {
			t.Errorf("before expiry: %+v, %v", got, err)
		}
		if _, err := s.APITokenByHash(ctx, short.Hash, at.Add(2*time.Hour)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("after expiry: %v, want ErrNotFound", err)
		}

		list, err := s.APITokens(ctx, alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].ID != short.ID || list[1].ID != tok.ID {
			t.Errorf("Alice's tokens, newest first: %+v", list)
		}
		if list, err := s.APITokens(ctx, bob.ID); err != nil || len(list) != 0 {
			t.Errorf("Bob's tokens: %+v, %v", list, err)
		}

		if err := s.RevokeAPIToken(ctx, bob.ID, tok.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Bob revoking Alice's token: %v, want ErrNotFound", err)
		}
		if _, err := s.APITokenByHash(ctx, tok.Hash, at); err != nil {
			t.Errorf("after Bob's attempt the token no longer works: %v", err)
		}
		if err := s.RevokeAPIToken(ctx, alice.ID, tok.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.APITokenByHash(ctx, tok.Hash, at); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("revoked token: %v, want ErrNotFound", err)
		}
		if list, err := s.APITokens(ctx, alice.ID); err != nil || len(list) != 1 || list[0].ID != short.ID {
			t.Errorf("tokens after revocation: %+v, %v", list, err)
		}
	})
}

func TestCreateAPITokenRefused(t *testing.T) {
	forEachEngine(t, func(t *testing.T, ctx context.Context, s *store.Store) {
		alice := newUser(t, s, "alice", "Alice")
		for _, bad := range []store.APIToken{
			{Hash: rand.Text(), UserID: alice.ID}, // the secret itself
			{Hash: identity.HashToken("a"), UserID: alice.ID, Scopes: []string{"rooms:read rooms:write"}},
			{Hash: identity.HashToken("a"), UserID: alice.ID, Scopes: []string{""}},
		} {
			if _, err := s.CreateAPIToken(ctx, bad); err == nil {
				t.Errorf("token %+v was stored", bad)
			}
		}
		_, err := s.CreateAPIToken(ctx, store.APIToken{Hash: identity.HashToken("a"), UserID: "usr_nobody"})
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("token of an unknown user: %v, want ErrNotFound", err)
		}
		if _, err := s.CreateAPIToken(ctx, store.APIToken{Hash: identity.HashToken("a"), UserID: alice.ID}); err != nil {
			t.Fatal(err)
		}
		_, err = s.CreateAPIToken(ctx, store.APIToken{Hash: identity.HashToken("a"), UserID: alice.ID})
		if !errors.Is(err, store.ErrConflict) {
			t.Errorf("same hash twice: %v, want ErrConflict", err)
		}
	})
}
