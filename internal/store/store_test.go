package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/visio-meet/visio/internal/room"
	"github.com/visio-meet/visio/internal/store"
	"github.com/visio-meet/visio/internal/store/storetest"
)

func TestOpenMigratedDatabaseKeepsData(t *testing.T) {
	t.Parallel()
	storetest.Engines(t, func(t *testing.T, url string) {
		first := open(t, url)
		u := newUser(t, first, "alice", "Alice")
		if err := first.Close(); err != nil {
			t.Fatal(err)
		}
		again := open(t, url) // the migrations have all run already
		got, err := again.User(t.Context(), u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "Alice" {
			t.Errorf("after reopening, user name = %q, want Alice", got.Name)
		}
	})
}

func TestEngine(t *testing.T) {
	t.Parallel()
	if got := open(t, storetest.SQLite(t)).Engine(); got != "sqlite" {
		t.Errorf("SQLite engine = %q", got)
	}
	if got := open(t, "sqlite::memory:").Engine(); got != "sqlite" {
		t.Errorf("in-memory engine = %q", got)
	}
	if got := open(t, storetest.Postgres(t)).Engine(); got != "postgres" {
		t.Errorf("PostgreSQL engine = %q", got)
	}
}

func TestOpenSQLiteCreatesDirectory(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "new", "dir with ? and #", "visio.db")
	s := open(t, "sqlite:"+path)
	newUser(t, s, "alice", "Alice")
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the database is not at the path given: %v", err)
	}
}

func TestOpenMemory(t *testing.T) {
	t.Parallel()
	s := open(t, "sqlite::memory:")
	// Several goroutines, so that database/sql would use several
	// connections if it could; each would see an empty database.
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			u, err := s.UpsertUser(t.Context(), store.User{Issuer: "https://id.example", Subject: string(rune('a' + i))})
			if err == nil {
				_, err = s.User(t.Context(), u.ID)
			}
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

// Nodes that start together must not fail because another is migrating.
// Without the migration lock this fails most of the time; several rounds
// make a pass by luck unlikely.
func TestOpenPostgresConcurrently(t *testing.T) {
	t.Parallel()
	for round := range 3 {
		url := storetest.Postgres(t)
		stores := make([]*store.Store, 4)
		errs := make([]error, len(stores))
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range stores {
			wg.Go(func() {
				<-start
				stores[i], errs[i] = store.Open(t.Context(), url, nil)
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("round %d, Open %d: %v", round, i, err)
				continue
			}
			t.Cleanup(func() { stores[i].Close() })
		}
		if t.Failed() {
			return
		}
		u := newUser(t, stores[0], "alice", "Alice")
		for _, s := range stores[1:] {
			if _, err := s.User(t.Context(), u.ID); err != nil {
				t.Error(err)
			}
		}
	}
}

func TestOpenBadURL(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{
		"",
		"/var/lib/visio/visio.db",
		"sqlite:",
		"sqlite3:visio.db",
		"mysql://visio:hunter2@db.example/visio",
		"postgres:visio",
	} {
		_, err := store.Open(t.Context(), bad, nil)
		if err == nil {
			t.Errorf("Open(%q) succeeded", bad)
			continue
		}
		for _, want := range []string{"sqlite:PATH", "postgres://"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("Open(%q): %v; the error does not name %q", bad, err, want)
			}
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Open(%q): the error shows the password: %v", bad, err)
		}
	}
}

func TestPostgresPasswordNotLogged(t *testing.T) {
	t.Parallel()
	u, err := url.Parse(storetest.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	// The test server trusts every connection, so the password is ignored.
	u.User = url.UserPassword(u.User.Username(), "hunter2")
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := store.Open(t.Context(), u.String(), log)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if !strings.Contains(logs.String(), u.Host) {
		t.Errorf("the logs do not say which database:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "hunter2") {
		t.Errorf("the logs show the password:\n%s", logs.String())
	}

	// Nothing listens on port 1: the error must not show the password
	// either, in the URL or in its query.
	for _, bad := range []string{
		"postgres://visio:hunter2@127.0.0.1:1/visio?connect_timeout=5",
		"postgresql://127.0.0.1:1/visio?user=visio&password=hunter2&connect_timeout=5",
	} {
		var logs bytes.Buffer
		_, err = store.Open(context.Background(), bad, slog.New(slog.NewTextHandler(&logs, nil)))
		if err == nil {
			t.Fatal("Open on a closed port succeeded")
		}
		if strings.Contains(err.Error(), "hunter2") || strings.Contains(logs.String(), "hunter2") {
			t.Errorf("the error or logs show the password: %v\n%s", err, logs.String())
		}
	}
}

func TestNotFoundIsWrapped(t *testing.T) {
	forEachEngine(t, func(t *testing.T, ctx context.Context, s *store.Store) {
		_, err := s.User(ctx, "usr_missing")
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("User of a missing ID: %v, want ErrNotFound", err)
		}
	})
}

// Concurrent writers must wait for each other, not fail with SQLITE_BUSY.
func TestConcurrentWrites(t *testing.T) {
	forEachEngine(t, func(t *testing.T, ctx context.Context, s *store.Store) {
		var wg sync.WaitGroup
		for i := range 6 {
			wg.Go(func() {
				for j := range 10 {
					subject := fmt.Sprintf("user-%d-%d", i, j)
					u, err := s.UpsertUser(ctx, store.User{Issuer: "https://id.example", Subject: subject})
					var r store.Room
					if err == nil {
						r, err = s.CreateRoom(ctx, store.Room{Code: room.NewCode(), Settings: defaultSettings}, u.ID)
					}
					if err == nil {
						err = s.RecordVisit(ctx, u.ID, r.ID, now())
					}
					if err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
	})
}
