package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/visio-meet/visio/internal/room"
	"github.com/visio-meet/visio/internal/store"
	"github.com/visio-meet/visio/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

func open(t *testing.T, url string) *store.Store {
	t.Helper()
	s, err := store.Open(t.Context(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// forEachEngine runs test on a new store of each engine.
func forEachEngine(t *testing.T, test func(t *testing.T, ctx context.Context, s *store.Store)) {
	t.Parallel()
	storetest.Engines(t, func(t *testing.T, url string) {
		test(t, t.Context(), open(t, url))
	})
}

func newUser(t *testing.T, s *store.Store, subject, name string) store.User {
	t.Helper()
	u, err := s.UpsertUser(t.Context(), store.User{
		Issuer: "https://id.example", Subject: subject, Name: name, Email: subject + "@example.org",
	})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

var defaultSettings = room.Settings{Access: room.Public, Publishing: room.Everything}

func newRoom(t *testing.T, s *store.Store, owner store.UserID, name string) store.Room {
	t.Helper()
	r, err := s.CreateRoom(t.Context(), store.Room{Code: room.NewCode(), Name: name, Settings: defaultSettings}, owner)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// now is a time as the store gives it back: UTC, to the microsecond.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
