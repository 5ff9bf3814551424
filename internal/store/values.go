package store

import (
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"time"
)

// Typed identifiers, random strings with a prefix that tells their kind in
// logs and URLs.
type (
	UserID  string
	RoomID  string
	TokenID string
)

func newID(prefix string) string { return prefix + rand.Text() }

// isHash tells whether h looks like what identity.HashToken returns (the
// hexadecimal SHA-256 of a secret, which is all the store keeps of it), to
// catch a
// secret passed where its hash was meant before it is written down.
func isHash(h string) bool {
	if len(h) != 2*sha256.Size {
		return false
	}
	for i := range len(h) {
		if c := h[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false // lowercase only, or lookups by HashToken would miss it
		}
	}
	return true
}

// dbTime is t as stored: UTC, to the microsecond, PostgreSQL's precision,
// so that both engines give back the same time.
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// nullTime stores the zero time, which means "never" or "forever", as NULL.
func nullTime(t time.Time) sql.NullTime {
	if t.IsZero() {
		return sql.NullTime{}
	}
	return sql.NullTime{Time: dbTime(t), Valid: true}
}

func fromNullTime(t sql.NullTime) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}
