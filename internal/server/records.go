package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/visio-meet/visio/internal/identity"
	"github.com/visio-meet/visio/internal/meeting"
	"github.com/visio-meet/visio/internal/room"
	"github.com/visio-meet/visio/internal/store"
)

// roomRecords gives meetings their rooms' rules from the store, and keeps
// what hosts change there. Codes that no room was created for are public
// rooms when unregistered rooms are allowed, with nothing to keep.
type roomRecords struct {
	store             *store.Store
	allowUnregistered bool
}

var openRoom = room.Settings{Access: room.Public, Publishing: room.Everything}

func (r roomRecords) find(ctx context.Context, code room.Code) (store.Room, bool, error) {
	rm, err := r.store.RoomByCode(ctx, code)
	switch {
	case err == nil:
		return rm, true, nil
	case errors.Is(err, store.ErrNotFound) && r.allowUnregistered:
		return store.Room{}, false, nil
	case errors.Is(err, store.ErrNotFound):
		return store.Room{}, false, fmt.Errorf("%w: %s", meeting.ErrNoRoom, code)
	}
	return store.Room{}, false, err
}

func (r roomRecords) Settings(ctx context.Context, code room.Code) (room.Settings, error) {
	rm, found, err := r.find(ctx, code)
	if err != nil || !found {
		return openRoom, err
	}
	return rm.Settings, nil
}

func (r roomRecords) SaveSettings(ctx context.Context, code room.Code, s room.Settings) error {
	rm, found, err := r.find(ctx, code)
	if err != nil || !found {
		return err
	}
	_, err = r.store.UpdateRoom(ctx, rm.ID, rm.Name, s)
	return err
}

func (r roomRecords) SetRole(ctx context.Context, code room.Code, user string, role room.Role) error {
	rm, found, err := r.find(ctx, code)
	if err != nil || !found {
		return err
	}
	return r.store.SetMember(ctx, rm.ID, store.UserID(user), role)
}

func (r roomRecords) Ban(ctx context.Context, code room.Code, key string) error {
	rm, found, err := r.find(ctx, code)
	if err != nil || !found {
		return err
	}
	return r.store.Ban(ctx, rm.ID, key, time.Time{})
}

func (r roomRecords) IsBanned(ctx context.Context, code room.Code, key string) (bool, error) {
	rm, found, err := r.find(ctx, code)
	if err != nil || !found {
		return false, err
	}
	return r.store.IsBanned(ctx, rm.ID, key, time.Now())
}

// accounts keeps identity's users and sessions in the store.
type accounts struct{ store *store.Store }

func notFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %w", identity.ErrNotFound, err)
	}
	return err
}

func toIdentity(u store.User) identity.User {
	return identity.User{ID: string(u.ID), Issuer: u.Issuer, Subject: u.Subject, Email: u.Email, Name: u.Name,
		GivenName: u.GivenName, UsualName: u.UsualName}
}

func (a accounts) UpsertUser(ctx context.Context, u identity.User) (identity.User, error) {
	saved, err := a.store.UpsertUser(ctx, store.User{Issuer: u.Issuer, Subject: u.Subject, Email: u.Email, Name: u.Name,
		GivenName: u.GivenName, UsualName: u.UsualName})
	return toIdentity(saved), err
}

func (a accounts) User(ctx context.Context, id string) (identity.User, error) {
	u, err := a.store.User(ctx, store.UserID(id))
	return toIdentity(u), notFound(err)
}

func (a accounts) CreateSession(ctx context.Context, s identity.Session) error {
	return a.store.CreateSession(ctx, store.Session{TokenHash: s.TokenHash, UserID: store.UserID(s.UserID),
		CreatedAt: s.CreatedAt, ExpiresAt: s.ExpiresAt, IDToken: s.IDToken, ACR: s.ACR})
}

func (a accounts) Session(ctx context.Context, tokenHash string, now time.Time) (identity.Session, error) {
	s, err := a.store.Session(ctx, tokenHash, now)
	return identity.Session{TokenHash: s.TokenHash, UserID: string(s.UserID), CreatedAt: s.CreatedAt,
		ExpiresAt: s.ExpiresAt, IDToken: s.IDToken, ACR: s.ACR}, notFound(err)
}

func (a accounts) RevokeSession(ctx context.Context, tokenHash string) error {
	return notFound(a.store.RevokeSession(ctx, tokenHash))
}
