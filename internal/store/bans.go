package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// A ban key names who is banned from a room: a signed-in user, or a guest's
// browser by the random ID it keeps, since a guest has no account.

// UserBanKey is the ban key of a signed-in user.
func UserBanKey(id UserID) string { return "user:" + string(id) }

// GuestBanKey is the ban key of a guest's browser.
func GuestBanKey(guest string) string { return "guest:" + guest }

func checkBanKey(key string) error {
	for _, prefix := range []string{"user:", "guest:"} {
		if rest, ok := strings.CutPrefix(key, prefix); ok && rest != "" {
			return nil
		}
	}
	return fmt.Errorf("ban key %q: expected user:<user ID> or guest:<guest ID>", key)
}

// Ban keeps key out of a room until the given time, or forever if it is
// zero. Banning again replaces the end of the ban. ErrNotFound if the room
// does not exist.
func (s *Store) Ban(ctx context.Context, id RoomID, key string, until time.Time) error {
	if err := checkBanKey(key); err != nil {
		return fmt.Errorf("store: ban from %s: %w", id, err)
	}
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO bans (room_id, ban_key, expires_at, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (room_id, ban_key) DO UPDATE SET expires_at = excluded.expires_at`,
		id, key, nullTime(until), dbTime(time.Now()))
	if err != nil {
		return fmt.Errorf("store: ban %s from %s: %w", key, id, constraint(err))
	}
	return nil
}

// Unban lifts a ban. ErrNotFound if there was none.
func (s *Store) Unban(ctx context.Context, id RoomID, key string) error {
	err := affected(s.db.ExecContext(ctx, `DELETE FROM bans WHERE room_id = $1 AND ban_key = $2`, id, key))
	if err != nil {
		return fmt.Errorf("store: unban %s from %s: %w", key, id, err)
	}
	return nil
}

// IsBanned tells whether key is banned from a room at now.
func (s *Store) IsBanned(ctx context.Context, id RoomID, key string, now time.Time) (bool, error) {
	var one int
	err := s.db.QueryRowContext(ctx, `
		SELECT 1 FROM bans WHERE room_id = $1 AND ban_key = $2 AND (expires_at IS NULL OR expires_at > $3)`,
		id, key, dbTime(now)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: is %s banned from %s: %w", key, id, err)
	}
	return true, nil
}
