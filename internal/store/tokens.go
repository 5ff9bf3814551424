package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// APIToken lets an integration, such as a calendar add-in, act for a user
// within its scopes. Only the SHA-256 of the secret is kept (see identity.HashToken).
type APIToken struct {
	ID     TokenID
	Hash   string
	UserID UserID
	Name   string // given by the user, to recognise the token in a list
	Scopes []string
	// CreatedAt is set by CreateAPIToken; ExpiresAt is zero for a token
	// that never expires, LastUsedAt for one never used.
	CreatedAt, ExpiresAt, LastUsedAt time.Time
}

const tokenColumns = `id, hash, user_id, name, scopes, created_at, expires_at, last_used_at`

func scanToken(row scanner) (APIToken, error) {
	var (
		t                   APIToken
		scopes              string
		expires, lastUsedAt sql.NullTime
	)
	if err := row.Scan(&t.ID, &t.Hash, &t.UserID, &t.Name, &scopes, &t.CreatedAt, &expires, &lastUsedAt); err != nil {
		return APIToken{}, err
	}
	if scopes != "" {
		t.Scopes = strings.Split(scopes, " ")
	}
	t.CreatedAt, t.ExpiresAt, t.LastUsedAt = t.CreatedAt.UTC(), fromNullTime(expires), fromNullTime(lastUsedAt)
	return t, nil
}

func checkScopes(scopes []string) error {
	for _, sc := range scopes {
		if sc == "" || strings.ContainsFunc(sc, func(r rune) bool { return r <= ' ' }) {
			return fmt.Errorf("scope %q: scopes are non-empty words", sc)
		}
	}
	return nil
}

// CreateAPIToken stores t with a new ID, CreatedAt set to now and no use
// yet, and returns it. ErrConflict if the hash is taken, ErrNotFound if the
// user is not.
func (s *Store) CreateAPIToken(ctx context.Context, t APIToken) (APIToken, error) {
	switch {
	case !isHash(t.Hash):
		return APIToken{}, errors.New("store: create API token: Hash is not a hexadecimal SHA-256 (see identity.HashToken)")
	case t.UserID == "":
		return APIToken{}, errors.New("store: create API token: no user")
	}
	if err := checkScopes(t.Scopes); err != nil {
		return APIToken{}, fmt.Errorf("store: create API token for %s: %w", t.UserID, err)
	}
	t.ID, t.CreatedAt, t.LastUsedAt = TokenID(newID("tok_")), dbTime(time.Now()), time.Time{}
	expires := nullTime(t.ExpiresAt)
	t.ExpiresAt = fromNullTime(expires)
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO api_tokens (id, hash, user_id, name, scopes, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		t.ID, t.Hash, t.UserID, t.Name, strings.Join(t.Scopes, " "), t.CreatedAt, expires)
	if err != nil {
		return APIToken{}, fmt.Errorf("store: create API token for %s: %w", t.UserID, constraint(err))
	}
	return t, nil
}

// APITokenByHash returns the token whose secret has the given hash, if it
// has not expired at now, and records now as its last use. ErrNotFound
// otherwise, revoked tokens included.
func (s *Store) APITokenByHash(ctx context.Context, hash string, now time.Time) (APIToken, error) {
	// Updating first finds the live token and records its use in one
	// statement.
	err := affected(s.db.ExecContext(ctx, `
		UPDATE api_tokens SET last_used_at = $2
		WHERE hash = $1 AND (expires_at IS NULL OR expires_at > $2)`, hash, dbTime(now)))
	if err != nil {
		// The hash is left out: it would let a log reader find the row.
		return APIToken{}, fmt.Errorf("store: API token: %w", err)
	}
	t, err := scanToken(s.db.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE hash = $1`, hash))
	if err != nil {
		return APIToken{}, fmt.Errorf("store: API token: %w", notFound(err))
	}
	return t, nil
}

// APITokens returns a user's tokens, newest first, expired ones included so
// that the user sees them and can delete them.
func (s *Store) APITokens(ctx context.Context, user UserID) ([]APIToken, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT `+tokenColumns+` FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC, id`, user)
	if err != nil {
		return nil, fmt.Errorf("store: API tokens of %s: %w", user, err)
	}
	defer rows.Close()
	var tokens []APIToken
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("store: API tokens of %s: %w", user, err)
		}
		tokens = append(tokens, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: API tokens of %s: %w", user, err)
	}
	return tokens, nil
}

// RevokeAPIToken deletes a token of a user. ErrNotFound if the user has no
// such token: nobody revokes someone else's.
func (s *Store) RevokeAPIToken(ctx context.Context, user UserID, id TokenID) error {
	err := affected(s.db.ExecContext(ctx, `DELETE FROM api_tokens WHERE id = $1 AND user_id = $2`, id, user))
	if err != nil {
		return fmt.Errorf("store: revoke API token %s of %s: %w", id, user, err)
	}
	return nil
}
