// Package store keeps what outlives a meeting: users and their login
// sessions, rooms with their settings, members and bans, the rooms each user
// visited, and API tokens. It runs on an embedded SQLite file by default, or
// on PostgreSQL when several nodes share one database; the same SQL and the
// same migrations serve both.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	_ "modernc.org/sqlite"             // database/sql driver "sqlite"
)

var (
	// ErrNotFound is wrapped by every error that means "no such row".
	ErrNotFound = errors.New("not found")
	// ErrConflict is wrapped by errors that mean a unique value is taken,
	// such as a room code.
	ErrConflict = errors.New("already exists")
)

// Engine names, as returned by [Store.Engine].
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Store is a migrated database. It is safe for concurrent use.
type Store struct {
	db     *sql.DB
	engine string
}

// acceptedURLs is named in every error about a database URL, so that a typo
// in the configuration says what would have worked.
const acceptedURLs = `expected "sqlite:PATH", "sqlite::memory:", "postgres://…" or "postgresql://…"`

// Open opens and migrates the database named by dbURL:
//
//   - "sqlite:PATH" is a SQLite file, created with its directory if missing;
//   - "sqlite::memory:" is a private in-memory SQLite database, for tests;
//   - "postgres://…" or "postgresql://…" is a PostgreSQL database.
func Open(ctx context.Context, dbURL string, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var (
		s       *Store
		display string
		err     error
	)
	switch {
	case strings.HasPrefix(dbURL, "sqlite:"):
		s, display, err = openSQLite(strings.TrimPrefix(dbURL, "sqlite:"))
	case strings.HasPrefix(dbURL, "postgres://"), strings.HasPrefix(dbURL, "postgresql://"):
		s, display, err = openPostgres(dbURL)
	default:
		scheme, _, _ := strings.Cut(dbURL, ":")
		if len(scheme) > 20 || scheme == dbURL {
			scheme = "" // not a scheme, and perhaps a secret: do not echo it
		}
		return nil, fmt.Errorf("store: unsupported database URL (scheme %q): %s", scheme, acceptedURLs)
	}
	if err != nil {
		return nil, err
	}
	if err := s.db.PingContext(ctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("store: connect to %s: %w", display, err)
	}
	if err := s.migrate(ctx, log); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("store: migrate %s: %w", display, err)
	}
	log.Info("database ready", "engine", s.engine, "database", display)
	return s, nil
}

func openSQLite(path string) (*Store, string, error) {
	// busy_timeout and _txlock=immediate make concurrent writers wait for
	// each other instead of failing with SQLITE_BUSY; foreign_keys is off
	// by default in SQLite and the schema relies on ON DELETE CASCADE.
	// _time_format and _timezone write times in one fixed form, so that
	// comparing them as text orders them in time.
	params := "_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)" +
		"&_txlock=immediate&_time_format=sqlite&_timezone=UTC"
	if path == ":memory:" {
		db, err := sql.Open("sqlite", "file::memory:?"+params)
		if err != nil {
			return nil, "", fmt.Errorf("store: open SQLite in memory: %w", err)
		}
		// Each connection to :memory: is a database of its own: keep
		// exactly one, for as long as the Store lives.
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.SetConnMaxLifetime(0)
		db.SetConnMaxIdleTime(0)
		return &Store{db: db, engine: SQLite}, "SQLite in memory", nil
	}
	if path == "" {
		return nil, "", fmt.Errorf("store: database URL %q has no file path: %s", "sqlite:", acceptedURLs)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, "", fmt.Errorf("store: SQLite path %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return nil, "", fmt.Errorf("store: create the directory of the SQLite database: %w", err)
	}
	// A file: URI, escaped, so that a path holding '?', '#' or '%' still
	// names the file.
	dsn := "file:" + (&url.URL{Path: abs}).EscapedPath() + "?_pragma=journal_mode(WAL)&" + params
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, "", fmt.Errorf("store: open SQLite %s: %w", abs, err)
	}
	return &Store{db: db, engine: SQLite}, "SQLite " + abs, nil
}

func openPostgres(dsn string) (*Store, string, error) {
	display := redact(dsn)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, "", fmt.Errorf("store: open PostgreSQL %s: %w", display, err)
	}
	return &Store{db: db, engine: Postgres}, "PostgreSQL " + display, nil
}

// redact returns a PostgreSQL URL without its user information and query,
// either of which may hold a password.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable URL)"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Engine returns "sqlite" or "postgres".
func (s *Store) Engine() string { return s.engine }

// inTx runs f in a transaction, committed if f returns nil.
func (s *Store) inTx(ctx context.Context, f func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		_ = tx.Rollback() // the error of f says what went wrong
		return err
	}
	return tx.Commit()
}

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface {
	Scan(dest ...any) error
}
