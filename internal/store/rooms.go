package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/visio-meet/visio/internal/room"
)

// Room is a room as kept between meetings.
type Room struct {
	ID       RoomID
	Code     room.Code
	Name     string
	Settings room.Settings
	// CreatedBy is empty once the creator's account is deleted.
	CreatedBy            UserID
	CreatedAt, UpdatedAt time.Time
}

const roomColumns = `r.id, r.code, r.name, r.access, r.max_participants,
	r.publish_microphone, r.publish_camera, r.publish_screen, r.language, r.created_by, r.created_at, r.updated_at`

func scanRoom(row scanner) (Room, error) {
	var (
		r         Room
		createdBy sql.NullString
	)
	err := row.Scan(&r.ID, &r.Code, &r.Name, &r.Settings.Access, &r.Settings.MaxParticipants,
		&r.Settings.Publishing.Microphone, &r.Settings.Publishing.Camera, &r.Settings.Publishing.Screen,
		&r.Settings.Language, &createdBy, &r.CreatedAt, &r.UpdatedAt)
	r.CreatedBy = UserID(createdBy.String)
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	return r, err
}

// checkSettings refuses what the schema's CHECK constraints would, with an
// error that says what is expected rather than the engine's.
func checkSettings(st room.Settings) error {
	if _, err := room.ParseAccess(string(st.Access)); err != nil {
		return err
	}
	if st.MaxParticipants < 0 {
		return fmt.Errorf("participant cap %d is negative (0 means the server's cap)", st.MaxParticipants)
	}
	return nil
}

// CreateRoom stores r, with a new ID and the times set to now, and makes
// creator its owner, both or neither. ErrConflict if r.Code is taken,
// ErrNotFound if creator is not a user.
func (s *Store) CreateRoom(ctx context.Context, r Room, creator UserID) (Room, error) {
	if !r.Code.Valid() {
		return Room{}, fmt.Errorf("store: create room %q: %w", r.Code, room.ErrInvalidCode)
	}
	if creator == "" {
		return Room{}, fmt.Errorf("store: create room %s: no creator", r.Code)
	}
	if err := checkSettings(r.Settings); err != nil {
		return Room{}, fmt.Errorf("store: create room %s: %w", r.Code, err)
	}
	now := dbTime(time.Now())
	r.ID, r.CreatedBy, r.CreatedAt, r.UpdatedAt = RoomID(newID("room_")), creator, now, now
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		p := r.Settings.Publishing
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO rooms (id, code, name, access, max_participants,
				publish_microphone, publish_camera, publish_screen, language, created_by, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)`,
			r.ID, r.Code, r.Name, r.Settings.Access, r.Settings.MaxParticipants,
			p.Microphone, p.Camera, p.Screen, r.Settings.Language, creator, now); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO members (room_id, user_id, role, added_at) VALUES ($1, $2, $3, $4)`,
			r.ID, creator, room.Owner, now)
		return err
	})
	if err != nil {
		return Room{}, fmt.Errorf("store: create room %s: %w", r.Code, constraint(err))
	}
	return r, nil
}

// RoomByCode returns the room with the given code.
func (s *Store) RoomByCode(ctx context.Context, code room.Code) (Room, error) {
	r, err := scanRoom(s.db.QueryRowContext(ctx, `SELECT `+roomColumns+` FROM rooms r WHERE r.code = $1`, code))
	if err != nil {
		return Room{}, fmt.Errorf("store: room %s: %w", code, notFound(err))
	}
	return r, nil
}

// UpdateRoom changes the name and settings of a room and returns it.
func (s *Store) UpdateRoom(ctx context.Context, id RoomID, name string, settings room.Settings) (Room, error) {
	if err := checkSettings(settings); err != nil {
		return Room{}, fmt.Errorf("store: update room %s: %w", id, err)
	}
	var r Room
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		p := settings.Publishing
		err := affected(tx.ExecContext(ctx, `
			UPDATE rooms SET name = $2, access = $3, max_participants = $4,
				publish_microphone = $5, publish_camera = $6, publish_screen = $7, language = $8, updated_at = $9
			WHERE id = $1`,
			id, name, settings.Access, settings.MaxParticipants, p.Microphone, p.Camera, p.Screen, settings.Language, dbTime(time.Now())))
		if err != nil {
			return err
		}
		r, err = scanRoom(tx.QueryRowContext(ctx, `SELECT `+roomColumns+` FROM rooms r WHERE r.id = $1`, id))
		return err
	})
	if err != nil {
		return Room{}, fmt.Errorf("store: update room %s: %w", id, notFound(err))
	}
	return r, nil
}

// DeleteRoom deletes a room with its members, bans and visits.
func (s *Store) DeleteRoom(ctx context.Context, id RoomID) error {
	if err := affected(s.db.ExecContext(ctx, `DELETE FROM rooms WHERE id = $1`, id)); err != nil {
		return fmt.Errorf("store: delete room %s: %w", id, err)
	}
	return nil
}
