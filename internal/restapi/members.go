package restapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/visio-meet/visio/internal/httpapi"
	"github.com/visio-meet/visio/internal/room"
	"github.com/visio-meet/visio/internal/store"
)

type memberJSON struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Email   string    `json:"email"`
	Role    room.Role `json:"role"`
	AddedAt time.Time `json:"added_at"`
}

func (a *API) listMembers(w http.ResponseWriter, r *http.Request) {
	_, rm, _, ae := a.hostOf(w, r, ScopeRoomsRead)
	if ae != nil {
		a.answer(w, 0, nil, ae)
		return
	}
	members, err := a.cfg.Store.Members(r.Context(), rm.ID)
	if err != nil {
		a.answer(w, 0, nil, a.internal(r.Context(), err))
		return
	}
	out := make([]memberJSON, 0, len(members))
	for _, m := range members {
		out = append(out, memberJSON{ID: string(m.User.ID), Name: m.User.Name, Email: m.User.Email, Role: m.Role, AddedAt: m.AddedAt})
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"members": out})
}

// mayGive checks that a host of role giver may give role, or change a
// member whose role is now: only owners make or unmake owners.
func mayGive(giver, now, role room.Role) *apiError {
	if giver != room.Owner && (role == room.Owner || now == room.Owner) {
		return fail(http.StatusForbidden, "forbidden", "only an owner may make or change an owner")
	}
	return nil
}

// addMember gives a role to a user known by email: someone who has signed
// in to Visio once.
func (a *API) addMember(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var body struct {
		Email string `json:"email"`
		Role  string `json:"role"`
	}
	rm, giver, role, ae := a.roleRequest(w, r, &body, &body.Role)
	var user store.User
	if ae == nil {
		var err error
		if user, err = a.cfg.Store.UserByEmail(ctx, strings.TrimSpace(body.Email)); err != nil {
			ae = a.storeError(ctx, err, fail(http.StatusNotFound, "not_found",
				"nobody with this email has signed in to Visio yet: ask them to sign in once, then add them"))
		}
	}
	a.give(w, r, rm, giver, user, role, ae)
}

// setMember gives a role to a user by id.
func (a *API) setMember(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var body struct {
		Role string `json:"role"`
	}
	rm, giver, role, ae := a.roleRequest(w, r, &body, &body.Role)
	var user store.User
	if ae == nil {
		var err error
		user, err = a.cfg.Store.User(ctx, store.UserID(r.PathValue("user")))
		if err != nil {
			ae = a.storeError(ctx, err, fail(http.StatusNotFound, "not_found", "no such user"))
		}
	}
	a.give(w, r, rm, giver, user, role, ae)
}

// roleRequest checks that the caller hosts the room, and reads the request's
// body, whose role field is role.
func (a *API) roleRequest(w http.ResponseWriter, r *http.Request, body any, role *string) (store.Room, room.Role, room.Role, *apiError) {
	_, rm, giver, ae := a.hostOf(w, r, ScopeMembersWrite)
	if ae == nil {
		ae = readJSON(r, body)
	}
	var given room.Role
	if ae == nil {
		given, ae = parseRole(*role)
	}
	return rm, giver, given, ae
}

func (a *API) give(w http.ResponseWriter, r *http.Request, rm store.Room, giver room.Role, user store.User, role room.Role, ae *apiError) {
	ctx := r.Context()
	if ae == nil {
		var now room.Role
		if now, ae = a.roleIn(ctx, caller{user: user}, rm); ae == nil {
			ae = mayGive(giver, now, role)
		}
		if ae == nil && now == room.Owner && role != room.Owner {
			ae = a.keepAnOwner(ctx, rm)
		}
	}
	if ae == nil {
		if err := a.cfg.Store.SetMember(ctx, rm.ID, user.ID, role); err != nil {
			ae = a.storeError(ctx, err, fail(http.StatusNotFound, "not_found", "no such user"))
		}
	}
	if ae == nil {
		a.liveRole(rm, user.ID, role)
	}
	a.answer(w, http.StatusOK, memberJSON{ID: string(user.ID), Name: user.Name, Email: user.Email, Role: role, AddedAt: a.now()}, ae)
}

func (a *API) removeMember(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	_, rm, giver, ae := a.hostOf(w, r, ScopeMembersWrite)
	user := store.UserID(r.PathValue("user"))
	if ae == nil {
		var now room.Role
		if now, ae = a.roleIn(ctx, caller{user: store.User{ID: user}}, rm); ae == nil {
			ae = mayGive(giver, now, room.Member)
		}
		if ae == nil && now == room.Owner {
			ae = a.keepAnOwner(ctx, rm)
		}
	}
	if ae == nil {
		if err := a.cfg.Store.RemoveMember(ctx, rm.ID, user); err != nil {
			ae = a.storeError(ctx, err, fail(http.StatusNotFound, "not_found", "this user is not a member of the room"))
		}
	}
	if ae == nil {
		a.liveRole(rm, user, room.NoRole)
	}
	a.answer(w, http.StatusNoContent, nil, ae)
}

// liveRole makes the room's meeting, if one goes on, follow a member's new
// role.
func (a *API) liveRole(rm store.Room, user store.UserID, role room.Role) {
	if m := a.cfg.Meetings.Meeting(rm.Code); m != nil {
		m.SetRole(string(user), role)
	}
}

// keepAnOwner refuses to take the owner role from the room's last owner: a
// room without one could not be deleted, nor its owners changed.
func (a *API) keepAnOwner(ctx context.Context, rm store.Room) *apiError {
	members, err := a.cfg.Store.Members(ctx, rm.ID)
	if err != nil {
		return a.internal(ctx, err)
	}
	owners := 0
	for _, m := range members {
		if m.Role == room.Owner {
			owners++
		}
	}
	if owners <= 1 {
		return fail(http.StatusConflict, "last_owner", "a room keeps at least one owner: make someone else owner first")
	}
	return nil
}

func parseRole(s string) (room.Role, *apiError) {
	role, err := room.ParseRole(s)
	if err != nil {
		return "", fail(http.StatusBadRequest, "invalid", "%v", err)
	}
	return role, nil
}
