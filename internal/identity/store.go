package identity

import (
	"context"
	"errors"
	"time"
)

// User is a person known through the identity provider. The provider's
// (Issuer, Subject) pair is the durable key; ID is ours, assigned by the Store.
type User struct {
	ID              string
	Issuer, Subject string
	Email, Name     string
	GivenName       string
	UsualName       string // ProConnect's family name claim
}

// Session is one signed-in browser.
type Session struct {
	// TokenHash is HashToken of the cookie's random token. The token itself
	// is never stored, so a copy of the database cannot be used as cookies.
	TokenHash string
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
	// IDToken is kept to send as id_token_hint at logout: ProConnect needs
	// it to end its own session.
	IDToken string
	// ACR is the authentication level the provider vouched for (eidas1…).
	ACR string
}

// ErrNotFound is what a Store returns, wrapped or not, for an unknown user
// or an unknown, expired or revoked session.
var ErrNotFound = errors.New("not found")

// Store persists users and sessions. The store package implements it
// through an adapter; identity does not depend on it.
type Store interface {
	// UpsertUser inserts or updates the user keyed by (Issuer, Subject) and
	// returns it with its ID.
	UpsertUser(ctx context.Context, u User) (User, error)
	User(ctx context.Context, id string) (User, error)
	CreateSession(ctx context.Context, s Session) error
	// Session returns the live session with this token hash at time now,
	// or ErrNotFound if it is unknown, expired or revoked.
	Session(ctx context.Context, tokenHash string, now time.Time) (Session, error)
	RevokeSession(ctx context.Context, tokenHash string) error
}
