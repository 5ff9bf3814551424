package restapi

import (
	"errors"
	"net/http"

	"github.com/visio-meet/visio/internal/httpapi"
	"github.com/visio-meet/visio/internal/identity"
	"github.com/visio-meet/visio/internal/room"
	"github.com/visio-meet/visio/internal/store"
	"github.com/visio-meet/visio/internal/token"
)

type joinJSON struct {
	Token string   `json:"token"`
	Room  roomJSON `json:"room"`
	Name  string   `json:"name"` // the name the meeting will show
	// Enter says what happens on joining: "enter" at once, or "wait" in
	// the lobby for a host.
	Enter string `json:"enter"`
	// SignalURL is where to open the signalling connection: the node of
	// a cluster hosting the meeting; "" for this server.
	SignalURL string `json:"signal_url,omitempty"`
}

// join hands out the join token a signalling session presents: it says who
// joins, under which name, and what they are in the room. Bans and the
// room's existence are checked here; the room's access level and cap are
// applied when the session joins.
func (a *API) join(w http.ResponseWriter, r *http.Request) {
	if !a.allow(w, r, a.limits.join) {
		return
	}
	ctx := r.Context()
	c, ae := a.whoCalls(w, r)
	if ae == nil && c.scopes != nil {
		// A join token carries the user's whole role in the room, which
		// would let a token do in the meeting what its scopes do not allow.
		ae = fail(http.StatusForbidden, "forbidden", "an API token cannot join a meeting: join from a signed-in browser")
	}
	var body struct {
		Name string `json:"name"`
	}
	if ae == nil && r.ContentLength != 0 {
		ae = readJSON(r, &body)
	}
	if ae != nil {
		a.answer(w, 0, nil, ae)
		return
	}
	name := c.user.Name
	if !c.signedIn || name == "" {
		var err error
		if name, err = identity.GuestName(body.Name); err != nil {
			a.answer(w, 0, nil, fail(http.StatusBadRequest, "invalid", "%v", err))
			return
		}
	}
	rm, role, ae := a.roomFor(r, c)
	if errors.Is(ae, errNoRoom) && a.cfg.AllowUnregistered {
		code, _ := room.ParseCode(r.PathValue("code"))
		rm, role, ae = store.Room{Code: code, Settings: room.Settings{Access: room.Public, Publishing: room.Everything}}, room.NoRole, nil
	}
	if ae != nil {
		a.answer(w, 0, nil, ae)
		return
	}
	key := c.banKey()
	if rm.ID != "" && key != "" {
		banned, err := a.cfg.Store.IsBanned(ctx, rm.ID, key, a.now())
		if err != nil {
			a.answer(w, 0, nil, a.internal(ctx, err))
			return
		}
		if banned {
			a.answer(w, 0, nil, errBanned)
			return
		}
	}
	signalURL := ""
	if a.cfg.Place != nil {
		var err error
		if signalURL, err = a.cfg.Place(ctx, rm.Code); err != nil {
			a.log.WarnContext(ctx, "cannot place a meeting", "room", rm.Code, "err", err)
			a.answer(w, 0, nil, fail(http.StatusServiceUnavailable, "unavailable", "no server can host this meeting right now: try again in a few seconds"))
			return
		}
	}
	grant := token.Grant{User: string(c.user.ID), SignedIn: c.signedIn, Role: string(role), BanKey: key}
	tok, err := a.cfg.JoinTokens.IssueJoin(string(rm.Code), name, grant, joinTokenTTL)
	if err != nil {
		a.answer(w, 0, nil, a.internal(ctx, err))
		return
	}
	if rm.ID != "" && c.user.ID != "" {
		if err := a.cfg.Store.RecordVisit(ctx, c.user.ID, rm.ID, a.now()); err != nil {
			a.log.WarnContext(ctx, "record a visit", "err", err)
		}
	}
	enter := "enter"
	if rm.Settings.Admit(room.Visitor{SignedIn: c.signedIn, Role: role}, 0, 1).Entry == room.Wait {
		enter = "wait"
	}
	httpapi.WriteJSON(w, http.StatusOK, joinJSON{Token: tok, Room: roomView(rm, role), Name: name, Enter: enter, SignalURL: signalURL})
}

type meetingJSON struct {
	Live         bool              `json:"live"`
	Participants []participantJSON `json:"participants"`
	Waiting      int               `json:"waiting"`
}

type participantJSON struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Role     string `json:"role,omitempty"`
	SignedIn bool   `json:"signed_in"`
}

// getMeeting tells hosts who is in the room's meeting now.
func (a *API) getMeeting(w http.ResponseWriter, r *http.Request) {
	_, rm, _, ae := a.hostOf(w, r, ScopeRoomsRead)
	if ae != nil {
		a.answer(w, 0, nil, ae)
		return
	}
	out := meetingJSON{Participants: []participantJSON{}}
	if m := a.cfg.Meetings.Meeting(rm.Code); m != nil {
		info := m.Info()
		out.Live, out.Waiting = true, info.Waiting
		for _, p := range info.Participants {
			out.Participants = append(out.Participants, participantJSON{ID: p.ID, Name: p.Name, Role: p.Role, SignedIn: p.SignedIn})
		}
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

// endMeeting ends the room's meeting for everyone.
func (a *API) endMeeting(w http.ResponseWriter, r *http.Request) {
	_, rm, _, ae := a.hostOf(w, r, ScopeRoomsWrite)
	if ae == nil {
		m := a.cfg.Meetings.Meeting(rm.Code)
		if m == nil {
			ae = fail(http.StatusNotFound, "not_found", "no meeting is going on in this room")
		} else {
			m.End()
		}
	}
	a.answer(w, http.StatusNoContent, nil, ae)
}
