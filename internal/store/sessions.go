package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Session is a server-side login session. Only the SHA-256 of the cookie's
// token is kept (see identity.HashToken), so that the database cannot be used to log
// in; revoking a session deletes it, along with the provider's ID token it
// carried.
type Session struct {
	TokenHash            string
	UserID               UserID
	CreatedAt, ExpiresAt time.Time
	// IDToken is the provider's ID token, sent back as id_token_hint when
	// logging out at the provider.
	IDToken string
	// ACR is the authentication context class the provider reported.
	ACR string
}

// CreateSession stores sess. CreatedAt defaults to now; ExpiresAt is
// required. ErrConflict if the hash is taken, ErrNotFound if the user is
// not.
func (s *Store) CreateSession(ctx context.Context, sess Session) error {
	switch {
	case !isHash(sess.TokenHash):
		return errors.New("store: create session: TokenHash is not a hexadecimal SHA-256 (see identity.HashToken)")
	case sess.UserID == "":
		return errors.New("store: create session: no user")
	case sess.ExpiresAt.IsZero():
		return errors.New("store: create session: no expiry time")
	}
	if sess.CreatedAt.IsZero() {
		sess.CreatedAt = time.Now()
	}
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO sessions (token_hash, user_id, created_at, expires_at, id_token, acr)
		VALUES ($1, $2, $3, $4, $5, $6)`,
		sess.TokenHash, sess.UserID, dbTime(sess.CreatedAt), dbTime(sess.ExpiresAt), sess.IDToken, sess.ACR)
	if err != nil {
		return fmt.Errorf("store: create session for %s: %w", sess.UserID, constraint(err))
	}
	return nil
}

// Session returns the session whose token has the given hash, if it has
// not expired at now. ErrNotFound otherwise, revoked sessions included.
func (s *Store) Session(ctx context.Context, tokenHash string, now time.Time) (Session, error) {
	var sess Session
	err := s.db.QueryRowContext(ctx, `
		SELECT token_hash, user_id, created_at, expires_at, id_token, acr
		FROM sessions WHERE token_hash = $1 AND expires_at > $2`, tokenHash, dbTime(now)).
		Scan(&sess.TokenHash, &sess.UserID, &sess.CreatedAt, &sess.ExpiresAt, &sess.IDToken, &sess.ACR)
	if err != nil {
		// The hash is left out: it would let a log reader find the row.
		return Session{}, fmt.Errorf("store: session: %w", notFound(err))
	}
	sess.CreatedAt, sess.ExpiresAt = sess.CreatedAt.UTC(), sess.ExpiresAt.UTC()
	return sess, nil
}

// RevokeSession ends a session. Ending one that is already gone is not an
// error: logging out twice, or after expiry, must succeed.
func (s *Store) RevokeSession(ctx context.Context, tokenHash string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, tokenHash); err != nil {
		return fmt.Errorf("store: revoke session: %w", err)
	}
	return nil
}

// RevokeUserSessions ends every session of a user, on every device.
func (s *Store) RevokeUserSessions(ctx context.Context, id UserID) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, id); err != nil {
		return fmt.Errorf("store: revoke the sessions of %s: %w", id, err)
	}
	return nil
}

// DeleteExpiredSessions deletes the sessions expired at now, and returns how
// many there were. Expired sessions are never returned anyway; this only
// keeps the table small.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, dbTime(now))
	if err != nil {
		return 0, fmt.Errorf("store: delete expired sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: delete expired sessions: %w", err)
	}
	return n, nil
}
