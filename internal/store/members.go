package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/visio-meet/visio/internal/room"
)

// Member is a user with a role in a room.
type Member struct {
	RoomID  RoomID
	User    User
	Role    room.Role
	AddedAt time.Time
}

// SetMember gives a user a role in a room, adding the user if needed.
// ErrNotFound if the room or the user does not exist. Whether a room may be
// left without an owner is the caller's rule, not the store's.
func (s *Store) SetMember(ctx context.Context, id RoomID, user UserID, role room.Role) error {
	if _, err := room.ParseRole(string(role)); err != nil {
		return fmt.Errorf("store: set member %s of %s: %w", user, id, err)
	}
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO members (room_id, user_id, role, added_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (room_id, user_id) DO UPDATE SET role = excluded.role`,
		id, user, role, dbTime(time.Now()))
	if err != nil {
		return fmt.Errorf("store: set member %s of %s: %w", user, id, constraint(err))
	}
	return nil
}

// RemoveMember takes a user out of a room's members. ErrNotFound if the
// user was not one.
func (s *Store) RemoveMember(ctx context.Context, id RoomID, user UserID) error {
	err := affected(s.db.ExecContext(ctx, `DELETE FROM members WHERE room_id = $1 AND user_id = $2`, id, user))
	if err != nil {
		return fmt.Errorf("store: remove member %s of %s: %w", user, id, err)
	}
	return nil
}

// Role returns a user's role in a room, room.NoRole if the user is not a
// member (or either does not exist).
func (s *Store) Role(ctx context.Context, id RoomID, user UserID) (room.Role, error) {
	var role room.Role
	err := s.db.QueryRowContext(ctx, `SELECT role FROM members WHERE room_id = $1 AND user_id = $2`, id, user).Scan(&role)
	if errors.Is(err, sql.ErrNoRows) {
		return room.NoRole, nil
	}
	if err != nil {
		return room.NoRole, fmt.Errorf("store: role of %s in %s: %w", user, id, err)
	}
	return role, nil
}

// Members returns the members of a room, hosts first (owners, then
// administrators), then by name. Names are compared without case, which
// both engines do alike for ASCII letters only.
func (s *Store) Members(ctx context.Context, id RoomID) ([]Member, error) {
	rows, err := s.db.QueryContext(ctx, `
		SELECT m.role, m.added_at, `+userColumns+`
		FROM members m JOIN users u ON u.id = m.user_id
		WHERE m.room_id = $1
		ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'administrator' THEN 1 ELSE 2 END,
			LOWER(u.name), u.name, u.id`, id)
	if err != nil {
		return nil, fmt.Errorf("store: members of %s: %w", id, err)
	}
	defer rows.Close()
	var members []Member
	for rows.Next() {
		m := Member{RoomID: id}
		if err := rows.Scan(append([]any{&m.Role, &m.AddedAt}, m.User.fields()...)...); err != nil {
			return nil, fmt.Errorf("store: members of %s: %w", id, err)
		}
		m.User.utc()
		m.AddedAt = m.AddedAt.UTC()
		members = append(members, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: members of %s: %w", id, err)
	}
	return members, nil
}
