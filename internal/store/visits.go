package store

import (
	"context"
	"fmt"
	"time"

	"github.com/visio-meet/visio/internal/room"
)

// RecordVisit remembers that a signed-in user entered a meeting of a room at
// the given time, for RecentRooms. A visit older than the one recorded
// changes nothing, so that late or repeated calls cannot move a room down.
func (s *Store) RecordVisit(ctx context.Context, user UserID, id RoomID, at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("store: visit of %s to %s: no time", user, id)
	}
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO visits (user_id, room_id, visited_at) VALUES ($1, $2, $3)
		ON CONFLICT (user_id, room_id) DO UPDATE SET visited_at = excluded.visited_at
		WHERE visits.visited_at < excluded.visited_at`, user, id, dbTime(at))
	if err != nil {
		return fmt.Errorf("store: visit of %s to %s: %w", user, id, constraint(err))
	}
	return nil
}

// RecentRooms returns up to limit rooms for a user's home page, most recent
// first: the rooms the user entered, by the time of the last visit, and the
// rooms the user owns, by creation time if never entered.
func (s *Store) RecentRooms(ctx context.Context, user UserID, limit int) ([]Room, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("store: recent rooms of %s: limit %d is not positive", user, limit)
	}
	// An entered room sorts by its last visit, an owned room never entered
	// by its creation.
	rows, err := s.db.QueryContext(ctx, `
		SELECT `+roomColumns+` FROM rooms r
		LEFT JOIN visits v ON v.room_id = r.id AND v.user_id = $1
		LEFT JOIN members m ON m.room_id = r.id AND m.user_id = $1 AND m.role = $2
		WHERE v.user_id IS NOT NULL OR m.user_id IS NOT NULL
		ORDER BY COALESCE(v.visited_at, r.created_at) DESC, r.id
		LIMIT $3`, user, room.Owner, limit)
	if err != nil {
		return nil, fmt.Errorf("store: recent rooms of %s: %w", user, err)
	}
	defer rows.Close()
	var rooms []Room
	for rows.Next() {
		r, err := scanRoom(rows)
		if err != nil {
			return nil, fmt.Errorf("store: recent rooms of %s: %w", user, err)
		}
		rooms = append(rooms, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: recent rooms of %s: %w", user, err)
	}
	return rooms, nil
}
