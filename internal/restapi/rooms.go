package restapi

import (
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/visio-meet/visio/internal/httpapi"
	"github.com/visio-meet/visio/internal/protocol"
	"github.com/visio-meet/visio/internal/room"
	"github.com/visio-meet/visio/internal/store"
)

// roomJSON is a room as the API shows it.
type roomJSON struct {
	Code            string          `json:"code"`
	Name            string          `json:"name"`
	Path            string          `json:"path"`
	Access          room.Access     `json:"access"`
	MaxParticipants int             `json:"max_participants"`
	Publishing      room.Publishing `json:"publishing"`
	Language        string          `json:"language"`
	Role            room.Role       `json:"role,omitempty"` // the caller's
	CreatedAt       time.Time       `json:"created_at"`
}

func roomView(r store.Room, role room.Role) roomJSON {
	return roomJSON{Code: string(r.Code), Name: r.Name, Path: "/" + string(r.Code), Access: r.Settings.Access,
		MaxParticipants: r.Settings.MaxParticipants, Publishing: r.Settings.Publishing, Language: r.Settings.Language,
		Role: role, CreatedAt: r.CreatedAt}
}

// roomChange is the body of room creation and change: fields left out keep
// their value (on creation, the default).
type roomChange struct {
	Name            *string          `json:"name"`
	Access          *string          `json:"access"`
	MaxParticipants *int             `json:"max_participants"`
	Publishing      *room.Publishing `json:"publishing"`
	Language        *string          `json:"language"`
}

const maxRoomName = 100

// apply changes r as c says, checking each value.
func (c roomChange) apply(r *store.Room) *apiError {
	if c.Name != nil {
		name := strings.TrimSpace(*c.Name)
		// Only printable characters: no control or bidirectional format
		// characters that would disguise the name guests see.
		if utf8.RuneCountInString(name) > maxRoomName || !utf8.ValidString(name) ||
			strings.ContainsFunc(name, func(r rune) bool { return !unicode.IsPrint(r) && r != ' ' }) {
			return fail(http.StatusBadRequest, "invalid", "the room name must be at most %d characters, without control characters", maxRoomName)
		}
		r.Name = name
	}
	if c.Access != nil {
		access, err := room.ParseAccess(*c.Access)
		if err != nil {
			return fail(http.StatusBadRequest, "invalid", "%v", err)
		}
		r.Settings.Access = access
	}
	if c.MaxParticipants != nil {
		if *c.MaxParticipants < 0 || *c.MaxParticipants > 100000 {
			return fail(http.StatusBadRequest, "invalid", "max_participants must be 0 (the server's cap) to 100000")
		}
		r.Settings.MaxParticipants = *c.MaxParticipants
	}
	if c.Publishing != nil {
		r.Settings.Publishing = *c.Publishing
	}
	if c.Language != nil {
		if *c.Language != "" && !protocol.SpeechLanguage(*c.Language) {
			return fail(http.StatusBadRequest, "invalid", "language must be fr, en, de, nl, or empty for the server's default")
		}
		r.Settings.Language = *c.Language
	}
	return nil
}

type meJSON struct {
	SignedIn bool   `json:"signed_in"`
	SignIn   bool   `json:"sign_in_available"` // whether this server has sign-in at all
	ID       string `json:"id,omitempty"`
	Name     string `json:"name,omitempty"`
	Email    string `json:"email,omitempty"`
	// MayCreate tells whether the caller may create rooms.
	MayCreate bool `json:"may_create_rooms"`
}

func (a *API) me(w http.ResponseWriter, r *http.Request) {
	c, ae := a.whoCalls(w, r)
	me := meJSON{SignIn: a.cfg.Auth != nil, MayCreate: a.cfg.Auth == nil}
	if ae == nil && c.signedIn {
		me = meJSON{SignedIn: true, SignIn: true, ID: string(c.user.ID), Name: c.user.Name, Email: c.user.Email, MayCreate: true}
	}
	a.answer(w, http.StatusOK, me, ae)
}

// listRooms returns the caller's recent rooms: those they entered or own.
func (a *API) listRooms(w http.ResponseWriter, r *http.Request) {
	c, ae := a.whoCalls(w, r)
	if ae == nil && !c.may(ScopeRoomsRead) {
		ae = scopeError(ScopeRoomsRead)
	}
	if ae != nil {
		a.answer(w, 0, nil, ae)
		return
	}
	out := []roomJSON{}
	if c.user.ID != "" {
		rooms, err := a.cfg.Store.RecentRooms(r.Context(), c.user.ID, 20)
		if err != nil {
			a.answer(w, 0, nil, a.internal(r.Context(), err))
			return
		}
		for _, rm := range rooms {
			role, ae := a.roleIn(r.Context(), c, rm)
			if ae != nil {
				a.answer(w, 0, nil, ae)
				return
			}
			out = append(out, roomView(rm, role))
		}
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"rooms": out})
}

// createRoom makes a room, owned by the caller, with a fresh code.
func (a *API) createRoom(w http.ResponseWriter, r *http.Request) {
	if !a.allow(w, r, a.limits.write) {
		return
	}
	ctx := r.Context()
	c, ae := a.whoCalls(w, r)
	if ae == nil && !c.may(ScopeRoomsWrite) {
		ae = scopeError(ScopeRoomsWrite)
	}
	var change roomChange
	if ae == nil && r.ContentLength != 0 {
		ae = readJSON(r, &change)
	}
	var owner store.User
	if ae == nil {
		owner, ae = a.account(ctx, c)
	}
	// A new room is trusted by default when people sign in (a leaked link
	// lets no stranger straight in), public when nobody can.
	rm := store.Room{Settings: room.Settings{Access: room.Trusted, Publishing: room.Everything}}
	if a.cfg.Auth == nil {
		rm.Settings.Access = room.Public
	}
	if ae == nil {
		ae = change.apply(&rm)
	}
	if ae != nil {
		a.answer(w, 0, nil, ae)
		return
	}
	for range 3 { // a code already taken is drawn again
		rm.Code = room.NewCode()
		created, err := a.cfg.Store.CreateRoom(ctx, rm, owner.ID)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			a.answer(w, 0, nil, a.internal(ctx, err))
			return
		}
		a.log.Info("room created", "room", created.Code, "access", created.Settings.Access)
		httpapi.WriteJSON(w, http.StatusCreated, roomView(created, room.Owner))
		return
	}
	a.answer(w, 0, nil, a.internal(ctx, errors.New("no free room code after 3 draws")))
}

// getRoom shows a room to anyone who has its code: the link is what lets
// people in, and the app shows the room's name before they enter.
func (a *API) getRoom(w http.ResponseWriter, r *http.Request) {
	c, ae := a.whoCalls(w, r)
	if ae == nil && !c.may(ScopeRoomsRead) {
		ae = scopeError(ScopeRoomsRead)
	}
	var rm store.Room
	var role room.Role
	if ae == nil {
		rm, role, ae = a.roomFor(r, c)
	}
	a.answer(w, http.StatusOK, roomView(rm, role), ae)
}

// updateRoom changes a room's name and rules, and those of its live meeting.
func (a *API) updateRoom(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	_, rm, role, ae := a.hostOf(w, r, ScopeRoomsWrite)
	var change roomChange
	if ae == nil {
		ae = readJSON(r, &change)
	}
	if ae == nil {
		ae = change.apply(&rm)
	}
	if ae != nil {
		a.answer(w, 0, nil, ae)
		return
	}
	updated, err := a.cfg.Store.UpdateRoom(ctx, rm.ID, rm.Name, rm.Settings)
	if err != nil {
		a.answer(w, 0, nil, a.storeError(ctx, err, errNoRoom))
		return
	}
	if m := a.cfg.Meetings.Meeting(updated.Code); m != nil {
		m.ApplySettings(updated.Settings)
	}
	httpapi.WriteJSON(w, http.StatusOK, roomView(updated, role))
}

// deleteRoom removes a room and ends its meeting; only its owner may.
func (a *API) deleteRoom(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	_, rm, role, ae := a.hostOf(w, r, ScopeRoomsWrite)
	if ae == nil && role != room.Owner {
		ae = fail(http.StatusForbidden, "forbidden", "only the room's owner may delete it")
	}
	if ae != nil {
		a.answer(w, 0, nil, ae)
		return
	}
	if err := a.cfg.Store.DeleteRoom(ctx, rm.ID); err != nil {
		a.answer(w, 0, nil, a.storeError(ctx, err, errNoRoom))
		return
	}
	if m := a.cfg.Meetings.Meeting(rm.Code); m != nil {
		m.End()
	}
	a.log.Info("room deleted", "room", rm.Code)
	w.WriteHeader(http.StatusNoContent)
}
