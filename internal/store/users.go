package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// User is someone who signed in with OpenID Connect.
type User struct {
	ID UserID
	// Issuer and Subject are the identity at the provider, unique together;
	// the e-mail address is not, as it may change or be reused.
	Issuer, Subject                   string
	Email, Name, GivenName, UsualName string
	CreatedAt, LastLoginAt            time.Time
}

const userColumns = `u.id, u.issuer, u.subject, u.email, u.name, u.given_name, u.usual_name, u.created_at, u.last_login_at`

// fields are the destinations of userColumns, for Scan.
func (u *User) fields() []any {
	return []any{&u.ID, &u.Issuer, &u.Subject, &u.Email, &u.Name, &u.GivenName, &u.UsualName, &u.CreatedAt, &u.LastLoginAt}
}

// utc undoes the time zone an engine may attach to the times it returns.
func (u *User) utc() { u.CreatedAt, u.LastLoginAt = u.CreatedAt.UTC(), u.LastLoginAt.UTC() }

func scanUser(row scanner) (User, error) {
	var u User
	err := row.Scan(u.fields()...)
	u.utc()
	return u, err
}

// UpsertUser records a login: it creates the user of (u.Issuer, u.Subject),
// or updates its e-mail address and names from u, the provider being their
// source of truth. u.ID and the times are ignored; the user is returned
// with its ID, and LastLoginAt set to now.
func (s *Store) UpsertUser(ctx context.Context, u User) (User, error) {
	if u.Issuer == "" || u.Subject == "" {
		return User{}, errors.New("store: upsert user: issuer and subject are required")
	}
	now := dbTime(time.Now())
	var out User
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// No RETURNING: SQLite does not give the declared types of returned
		// columns, so times would come back as text.
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO users (id, issuer, subject, email, name, given_name, usual_name, created_at, last_login_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
			ON CONFLICT (issuer, subject) DO UPDATE SET
				email = excluded.email, name = excluded.name,
				given_name = excluded.given_name, usual_name = excluded.usual_name,
				last_login_at = excluded.last_login_at`,
			newID("usr_"), u.Issuer, u.Subject, u.Email, u.Name, u.GivenName, u.UsualName, now); err != nil {
			return err
		}
		var err error
		out, err = scanUser(tx.QueryRowContext(ctx,
			`SELECT `+userColumns+` FROM users u WHERE u.issuer = $1 AND u.subject = $2`, u.Issuer, u.Subject))
		return err
	})
	if err != nil {
		return User{}, fmt.Errorf("store: upsert user %s at %s: %w", u.Subject, u.Issuer, err)
	}
	return out, nil
}

// User returns the user with the given ID.
func (s *Store) User(ctx context.Context, id UserID) (User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1`, id))
	if err != nil {
		return User{}, fmt.Errorf("store: user %s: %w", id, notFound(err))
	}
	return u, nil
}

// UserByIdentity returns the user of (issuer, subject).
func (s *Store) UserByIdentity(ctx context.Context, issuer, subject string) (User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx,
		`SELECT `+userColumns+` FROM users u WHERE u.issuer = $1 AND u.subject = $2`, issuer, subject))
	if err != nil {
		return User{}, fmt.Errorf("store: user %s at %s: %w", subject, issuer, notFound(err))
	}
	return u, nil
}

// UserByEmail returns the user with this e-mail address, ignoring case;
// when several accounts share it, the one who signed in last.
func (s *Store) UserByEmail(ctx context.Context, email string) (User, error) {
	if email == "" {
		return User{}, fmt.Errorf("store: user by e-mail: %w", ErrNotFound)
	}
	u, err := scanUser(s.db.QueryRowContext(ctx,
		`SELECT `+userColumns+` FROM users u WHERE lower(u.email) = lower($1) ORDER BY u.last_login_at DESC LIMIT 1`, email))
	if err != nil {
		return User{}, fmt.Errorf("store: user by e-mail: %w", notFound(err))
	}
	return u, nil
}
