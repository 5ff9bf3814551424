// Package storetest gives tests real databases to run the store on: a
// SQLite file, and a fresh database on a private PostgreSQL server that the
// test binary starts and stops itself.
//
// A package whose tests use Postgres must call Main from its TestMain:
//
//	func TestMain(m *testing.M) { storetest.Main(m) }
package storetest

import (
	"testing"
)

// SQLite returns the URL of a new SQLite database in t's temporary
// directory.
func SQLite(t testing.TB) string {
	return "sqlite:" + t.TempDir() + "/visio.db"
}

// Engines runs test once per engine, as the subtests "sqlite" and
// "postgres", each with the URL of a new, empty database. The PostgreSQL
// database is made inside its subtest, so that a machine without PostgreSQL
// skips only that one.
func Engines(t *testing.T, test func(t *testing.T, url string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { test(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { test(t, Postgres(t)) })
}
