package restapi

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/visio-meet/visio/internal/identity"
	"github.com/visio-meet/visio/internal/room"
	"github.com/visio-meet/visio/internal/store"
)

// Scopes of API tokens. A browser session has them all.
const (
	ScopeRoomsRead    = "rooms:read"    // list and read rooms, their members and meetings
	ScopeRoomsWrite   = "rooms:write"   // create, change and delete rooms, end meetings
	ScopeMembersWrite = "members:write" // add, change and remove members
	// ScopeTranscriptsRead lists and downloads the transcripts of rooms
	// the token's user hosts.
	ScopeTranscriptsRead = "transcripts:read"
	// ScopeSpeech uses the server's speech engine through its
	// OpenAI-compatible POST /v1/audio/transcriptions.
	ScopeSpeech = "speech:transcribe"
)

var allScopes = []string{ScopeRoomsRead, ScopeRoomsWrite, ScopeMembersWrite, ScopeTranscriptsRead, ScopeSpeech}

// guestIssuer is the issuer of the users that stand for guests' browsers
// when sign-in is off, so that whoever creates a room owns it.
const guestIssuer = "urn:visio:guest"

// caller is who makes a request.
type caller struct {
	user     store.User // empty ID for a guest with no record
	signedIn bool       // through the identity provider
	guestID  string     // the guest's browser, when not signed in
	scopes   []string   // what an API token allows; nil for a browser, which may do all
}

func (c caller) may(scope string) bool { return c.scopes == nil || slices.Contains(c.scopes, scope) }

// banKey names the caller for bans: their account, or their browser.
func (c caller) banKey() string {
	if c.signedIn || c.scopes != nil {
		return store.UserBanKey(c.user.ID)
	}
	if c.guestID != "" {
		return store.GuestBanKey(c.guestID)
	}
	return ""
}

// whoCalls finds out who makes r: the bearer of an API token, a signed-in
// browser, or a guest (whose browser gets a guest id if it has none).
func (a *API) whoCalls(w http.ResponseWriter, r *http.Request) (caller, *apiError) {
	ctx := r.Context()
	if h := r.Header.Get("Authorization"); h != "" {
		secret, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return caller{}, fail(http.StatusUnauthorized, "invalid_token", "the Authorization header must be: Bearer TOKEN")
		}
		t, err := a.cfg.Store.APITokenByHash(ctx, identity.HashToken(secret), a.now())
		if errors.Is(err, store.ErrNotFound) {
			return caller{}, fail(http.StatusUnauthorized, "invalid_token", "this API token is unknown, revoked or expired: create a new one")
		} else if err != nil {
			return caller{}, a.internal(ctx, err)
		}
		u, err := a.cfg.Store.User(ctx, t.UserID)
		if err != nil {
			return caller{}, a.storeError(ctx, err, errSignIn)
		}
		return caller{user: u, signedIn: true, scopes: t.Scopes}, nil
	}
	if a.cfg.Auth != nil {
		if who, ok := a.cfg.Auth.Current(r); ok { // Current has read the user
			u := who.User
			return caller{user: store.User{ID: store.UserID(u.ID), Issuer: u.Issuer, Subject: u.Subject, Email: u.Email,
				Name: u.Name, GivenName: u.GivenName, UsualName: u.UsualName}, signedIn: true}, nil
		}
	}
	c := caller{guestID: identity.GuestID(w, r, a.cfg.CookieSecure)}
	if a.cfg.Auth == nil {
		// Sign-in is off: the guest's browser may own rooms.
		u, err := a.cfg.Store.UserByIdentity(ctx, guestIssuer, c.guestID)
		switch {
		case err == nil:
			c.user = u
		case !errors.Is(err, store.ErrNotFound):
			return caller{}, a.internal(ctx, err)
		}
	}
	return c, nil
}

// account returns the user who acts for c, making one for a guest's
// browser when sign-in is off; errSignIn when c must sign in first.
func (a *API) account(ctx context.Context, c caller) (store.User, *apiError) {
	switch {
	case c.user.ID != "":
		return c.user, nil
	case a.cfg.Auth != nil:
		return store.User{}, errSignIn
	}
	u, err := a.cfg.Store.UpsertUser(ctx, store.User{Issuer: guestIssuer, Subject: c.guestID, Name: "Guest"})
	if err != nil {
		return store.User{}, a.internal(ctx, err)
	}
	return u, nil
}

// roleIn returns c's role in a room.
func (a *API) roleIn(ctx context.Context, c caller, r store.Room) (room.Role, *apiError) {
	if c.user.ID == "" {
		return room.NoRole, nil
	}
	role, err := a.cfg.Store.Role(ctx, r.ID, c.user.ID)
	if err != nil {
		return room.NoRole, a.internal(ctx, err)
	}
	return role, nil
}

// roomFor loads the room of the request's {code}, and c's role in it.
func (a *API) roomFor(r *http.Request, c caller) (store.Room, room.Role, *apiError) {
	code, err := room.ParseCode(r.PathValue("code"))
	if err != nil {
		return store.Room{}, room.NoRole, fail(http.StatusBadRequest, "bad_room", "%.64q is not a room code like abc-defg-hij", r.PathValue("code"))
	}
	rm, err := a.cfg.Store.RoomByCode(r.Context(), code)
	if err != nil {
		return store.Room{}, room.NoRole, a.storeError(r.Context(), err, errNoRoom)
	}
	role, ae := a.roleIn(r.Context(), c, rm)
	return rm, role, ae
}

// hostOf loads the room and checks that c hosts it and may use scope.
func (a *API) hostOf(w http.ResponseWriter, r *http.Request, scope string) (caller, store.Room, room.Role, *apiError) {
	c, ae := a.whoCalls(w, r)
	if ae != nil {
		return c, store.Room{}, room.NoRole, ae
	}
	if !c.may(scope) {
		return c, store.Room{}, room.NoRole, scopeError(scope)
	}
	rm, role, ae := a.roomFor(r, c)
	if ae != nil {
		return c, rm, role, ae
	}
	if !role.IsHost() {
		return c, rm, role, errForbidden
	}
	// A host removed and banned in a meeting keeps their role on record,
	// but not its powers.
	if key := c.banKey(); key != "" {
		banned, err := a.cfg.Store.IsBanned(r.Context(), rm.ID, key, a.now())
		if err != nil {
			return c, rm, role, a.internal(r.Context(), err)
		}
		if banned {
			return c, rm, role, errBanned
		}
	}
	return c, rm, role, nil
}

func scopeError(scope string) *apiError {
	return fail(http.StatusForbidden, "insufficient_scope", "this API token lacks the %s scope: create one that has it", scope)
}
