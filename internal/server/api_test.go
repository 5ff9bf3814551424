package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/visio-meet/visio/internal/client"
	"github.com/visio-meet/visio/internal/config"
	"github.com/visio-meet/visio/internal/identity"
	"github.com/visio-meet/visio/internal/identity/oidctest"
	"github.com/visio-meet/visio/internal/protocol"
	"github.com/visio-meet/visio/internal/room"
	"github.com/visio-meet/visio/internal/store"
	"github.com/visio-meet/visio/internal/token"
)

// The REST API's policy: for every endpoint and every kind of caller, who
// may and who may not, and what a permitted call really changes.

// ---- making requests ----

// who makes an API request: a browser (its cookie jar), an integration (an
// API token), or nobody in particular (neither).
type who struct {
	jar    http.CookieJar
	bearer string
	from   net.IP // the client's loopback address, when not 127.0.0.1
	header http.Header
}

func browser(p *person) who    { return who{jar: p.jar} }
func bearer(secret string) who { return who{bearer: secret} }

// raw is a request body sent as it is.
type raw struct {
	contentType string
	data        string
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

// apiCall makes a request; body is JSON-encoded unless it is raw. Redirects
// are not followed.
func (s *testServer) apiCall(t *testing.T, w who, method, path string, body any) reply {
	t.Helper()
	var rd io.Reader
	contentType := "application/json"
	switch b := body.(type) {
	case nil:
	case raw:
		rd, contentType = strings.NewReader(b.data), b.contentType
	default:
		js, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, s.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil && contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if w.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+w.bearer)
	}
	for k, v := range w.header {
		req.Header[k] = v
	}
	transport := http.DefaultTransport
	if w.from != nil {
		dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: w.from}}
		transport = &http.Transport{DialContext: dialer.DialContext, DisableKeepAlives: true}
	}
	c := &http.Client{Jar: w.jar, Transport: transport, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", method, path, err)
	}
	return reply{status: res.StatusCode, header: res.Header, body: b}
}

func (r reply) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("answer %d is not the JSON expected: %v: %s", r.status, err, r.body)
	}
}

// apiErr is the body of an error answer.
type apiErr struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// problem returns the error of an error answer, failing the test if the
// answer is not a JSON error that says what to do.
func (r reply) problem(t *testing.T) apiErr {
	t.Helper()
	var e apiErr
	if err := json.Unmarshal(r.body, &e); err != nil || e.Error == "" || e.Message == "" {
		t.Fatalf("error answer %d is not a JSON {error, message}: %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("error answer %d has Content-Type %q", r.status, ct)
	}
	return e
}

type meAnswer struct {
	SignedIn bool   `json:"signed_in"`
	ID       string `json:"id"`
	Name     string `json:"name"`
	Email    string `json:"email"`
}

func (s *testServer) me(t *testing.T, p *person) meAnswer {
	t.Helper()
	var me meAnswer
	if r := s.apiCall(t, browser(p), http.MethodGet, "/api/v1/me", nil); r.status != http.StatusOK {
		t.Fatalf("GET /api/v1/me: %d", r.status)
	} else {
		r.decode(t, &me)
	}
	if !me.SignedIn || me.ID == "" {
		t.Fatalf("%s is not signed in: %+v", p.name, me)
	}
	return me
}

// newToken makes an API token as p, through the API.
func (s *testServer) newToken(t *testing.T, p *person, scopes ...string) (id, secret string) {
	t.Helper()
	r := s.apiCall(t, browser(p), http.MethodPost, "/api/v1/tokens", map[string]any{"name": "Agenda", "scopes": scopes})
	var tok struct{ ID, Secret string }
	if r.status != http.StatusCreated {
		t.Fatalf("%s cannot make a token: %d %s", p.name, r.status, r.body)
	}
	r.decode(t, &tok)
	return tok.ID, tok.Secret
}

// storedToken puts an API token straight into the store, for what the API
// cannot make without waiting (an expired token).
func (s *testServer) storedToken(t *testing.T, user store.UserID, expires time.Time, scopes ...string) (store.APIToken, string) {
	t.Helper()
	secret := "visio_" + rand.Text() + rand.Text()
	tok, err := s.store.CreateAPIToken(context.Background(),
		store.APIToken{Hash: identity.HashToken(secret), UserID: user, Name: "stored", Scopes: scopes, ExpiresAt: expires})
	if err != nil {
		t.Fatal(err)
	}
	return tok, secret
}

func (s *testServer) storedRoom(t *testing.T, code room.Code) (store.Room, bool) {
	t.Helper()
	rm, err := s.store.RoomByCode(context.Background(), code)
	if err != nil && !strings.Contains(err.Error(), store.ErrNotFound.Error()) {
		t.Fatal(err)
	}
	return rm, err == nil
}

func (s *testServer) mustRoom(t *testing.T, code room.Code) store.Room {
	t.Helper()
	rm, ok := s.storedRoom(t, code)
	if !ok {
		t.Fatalf("room %s is not in the store", code)
	}
	return rm
}

func (s *testServer) roleIn(t *testing.T, rm store.Room, user store.UserID) room.Role {
	t.Helper()
	role, err := s.store.Role(context.Background(), rm.ID, user)
	if err != nil {
		t.Fatal(err)
	}
	return role
}

func (s *testServer) members(t *testing.T, rm store.Room) map[store.UserID]room.Role {
	t.Helper()
	ms, err := s.store.Members(context.Background(), rm.ID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[store.UserID]room.Role{}
	for _, m := range ms {
		out[m.User.ID] = m.Role
	}
	return out
}

// give makes user's role in the room role, as by does, through the API.
func (s *testServer) give(t *testing.T, by *person, code room.Code, user store.UserID, role room.Role) {
	t.Helper()
	r := s.apiCall(t, browser(by), http.MethodPut, "/api/v1/rooms/"+string(code)+"/members/"+string(user), map[string]string{"role": string(role)})
	if r.status != http.StatusOK {
		t.Fatalf("%s cannot make %s %s: %d %s", by.name, user, role, r.status, r.body)
	}
}

// refused sends m and waits for the error it gets.
func refused(t *testing.T, ctx context.Context, c *client.Client, m protocol.Message, want protocol.ErrorCode) {
	t.Helper()
	before := len(c.State().Errors)
	if err := c.SendMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, c, fmt.Sprintf("%s %+v gets an error", m.MessageType(), m), func(s client.State) bool { return len(s.Errors) > before })
	if got := c.State().Errors[before]; got.Code != want {
		t.Fatalf("%s %+v: got %+v, want %s", m.MessageType(), m, got, want)
	}
}

// stillThere checks that c's meeting goes on: a message sent now is
// answered, and no bye came before the answer.
func stillThere(t *testing.T, ctx context.Context, c *client.Client) {
	t.Helper()
	sendExpectingError(t, ctx, c, `{"type":"dance"}`, protocol.CodeUnknownType)
	if s := c.State(); s.Bye != "" || s.Closed {
		t.Fatalf("the meeting did not go on: bye %q", s.Bye)
	}
}

// ---- the matrix ----

// expect is an answer: its status and, for an error, its code.
type expect struct {
	status int
	code   string
}

func (e expect) allowed() bool { return e.status < 300 }

func (e expect) String() string {
	if e.code == "" {
		return strconv.Itoa(e.status)
	}
	return fmt.Sprintf("%d %s", e.status, e.code)
}

// grid reads a row of the matrix: one answer per caller, in the order of
// the columns, "|" separating groups for the eye. An answer is a status,
// with the error code after a colon for errors other than "forbidden"
// (403), "invalid_token" (401) and "not_found" (404).
func grid(row string) [nCallers]expect {
	short := map[string]string{"scope": "insufficient_scope", "banned": "banned", "signin": "sign_in_required"}
	plain := map[int]string{http.StatusForbidden: "forbidden", http.StatusUnauthorized: "invalid_token", http.StatusNotFound: "not_found"}
	cells := strings.Fields(strings.ReplaceAll(row, "|", " "))
	if len(cells) != nCallers {
		panic(fmt.Sprintf("row %q has %d cells, not %d", row, len(cells), nCallers))
	}
	var out [nCallers]expect
	for i, cell := range cells {
		status, code, _ := strings.Cut(cell, ":")
		n, err := strconv.Atoi(status)
		if err != nil || code != "" && short[code] == "" {
			panic(fmt.Sprintf("cell %q of row %q", cell, row))
		}
		out[i] = expect{status: n, code: short[code]}
		if code == "" && n >= 400 {
			out[i].code = plain[n]
		}
	}
	return out
}

// The callers, in the order of the matrix's columns. Every row starts from
// a fresh trusted room owned by Doctor Who (dwho), where Mickey Smith
// (msmith) is a member, both given through the API; Rose Tyler (rtyler)
// plays the administrator, the member, the non-member and the banned.
const (
	asOwner         = iota // dwho's browser
	asAdmin                // rtyler's browser, rtyler an administrator
	asMember               // rtyler's browser, rtyler a member
	asNonMember            // rtyler's browser, signed in, no role
	asGuest                // a browser that has not signed in: a guest cookie only
	asBanned               // rtyler's browser, banned from the room (a removed participant)
	asBannedAdmin          // rtyler's browser, an administrator who was then banned
	asScopedToken          // dwho's API token with the scope the endpoint needs (every scope if it needs none)
	asUnscopedToken        // dwho's API token with every other scope
	asMemberToken          // rtyler's API token with every scope, rtyler a member
	asForgedToken          // a made-up secret
	asExpiredToken         // dwho's token past its expiry
	asRevokedToken         // dwho's token, revoked
	nCallers
)

type caller struct {
	name  string
	owner bool      // dwho acts; otherwise rtyler, or a guest
	guest bool      // nobody signed in
	role  room.Role // the caller's role in the room
	ban   bool      // banned from the room
	// token returns the secret of the caller's API token for an endpoint
	// that needs scope; nil for a browser.
	token func(w *policyWorld, scope string) string
}

var callers = [nCallers]caller{
	asOwner:         {name: "owner", owner: true, role: room.Owner},
	asAdmin:         {name: "administrator", role: room.Administrator},
	asMember:        {name: "member", role: room.Member},
	asNonMember:     {name: "non-member"},
	asGuest:         {name: "guest", guest: true},
	asBanned:        {name: "banned", ban: true},
	asBannedAdmin:   {name: "banned administrator", role: room.Administrator, ban: true},
	asScopedToken:   {name: "token with the scope", owner: true, role: room.Owner, token: (*policyWorld).scopedToken},
	asUnscopedToken: {name: "token without the scope", owner: true, role: room.Owner, token: (*policyWorld).unscopedToken},
	asMemberToken:   {name: "member's token", role: room.Member, token: func(w *policyWorld, _ string) string { return w.memberSecret }},
	asForgedToken:   {name: "forged token", owner: true, token: func(w *policyWorld, _ string) string { return w.forgedSecret }},
	asExpiredToken:  {name: "expired token", owner: true, token: func(w *policyWorld, _ string) string { return w.expiredSecret }},
	asRevokedToken:  {name: "revoked token", owner: true, token: func(w *policyWorld, _ string) string { return w.revokedSecret }},
}

// policyWorld is the server of the matrix and its people.
type policyWorld struct {
	srv                        *testServer
	dwho, rtyler, msmith       *person
	visitor                    *person // a guest
	dwhoID, rtylerID, msmithID store.UserID
	dwhoName, rtylerName       string
	msmithName, msmithEmail    string
	tokens                     map[string]string // dwho's token secrets by their scopes
	memberSecret               string
	forgedSecret               string
	expiredSecret              string
	revokedSecret              string
}

var allScopes = []string{"rooms:read", "rooms:write", "members:write", "transcripts:read", "speech:transcribe"}

func newPolicyWorld(t *testing.T) *policyWorld {
	srv := signInServer(t)
	w := &policyWorld{srv: srv, dwho: srv.signedIn(t, "dwho"), rtyler: srv.signedIn(t, "rtyler"), msmith: srv.signedIn(t, "msmith"),
		visitor: srv.guest(t, "Invitée"), tokens: map[string]string{}}
	d, r, m := srv.me(t, w.dwho), srv.me(t, w.rtyler), srv.me(t, w.msmith)
	w.dwhoID, w.rtylerID, w.msmithID = store.UserID(d.ID), store.UserID(r.ID), store.UserID(m.ID)
	w.dwhoName, w.rtylerName, w.msmithName, w.msmithEmail = d.Name, r.Name, m.Name, m.Email
	for _, sc := range allScopes {
		w.tokens[sc] = w.newOwnerToken(t, sc)
		others := slices.DeleteFunc(slices.Clone(allScopes), func(s string) bool { return s == sc })
		w.tokens[strings.Join(others, " ")] = w.newOwnerToken(t, others...)
	}
	w.tokens[strings.Join(allScopes, " ")] = w.newOwnerToken(t, allScopes...)
	_, w.memberSecret = srv.newToken(t, w.rtyler, allScopes...)
	w.forgedSecret = "visio_" + rand.Text() + rand.Text()
	_, w.expiredSecret = srv.storedToken(t, w.dwhoID, time.Now().Add(-time.Hour), allScopes...)
	id, secret := srv.newToken(t, w.dwho, allScopes...)
	if r := srv.apiCall(t, browser(w.dwho), http.MethodDelete, "/api/v1/tokens/"+id, nil); r.status != http.StatusNoContent {
		t.Fatalf("revoking a token: %d %s", r.status, r.body)
	}
	w.revokedSecret = secret
	return w
}

func (w *policyWorld) newOwnerToken(t *testing.T, scopes ...string) string {
	_, secret := w.srv.newToken(t, w.dwho, scopes...)
	return secret
}

func (w *policyWorld) scopedToken(scope string) string {
	if scope == "" {
		return w.tokens[strings.Join(allScopes, " ")]
	}
	return w.tokens[scope]
}

func (w *policyWorld) unscopedToken(scope string) string {
	if scope == "" {
		return w.tokens["rooms:read"]
	}
	return w.tokens[strings.Join(slices.DeleteFunc(slices.Clone(allScopes), func(s string) bool { return s == scope }), " ")]
}

func (w *policyWorld) as(c caller, scope string) who {
	switch {
	case c.token != nil:
		return bearer(c.token(w, scope))
	case c.owner:
		return browser(w.dwho)
	case c.guest:
		return browser(w.visitor)
	}
	return browser(w.rtyler)
}

// userOf is the account the caller acts for; "" for a guest.
func (w *policyWorld) userOf(c caller) store.UserID {
	switch {
	case c.owner:
		return w.dwhoID
	case c.guest:
		return ""
	}
	return w.rtylerID
}

// fixture is what one cell of the matrix starts from.
type fixture struct {
	room         store.Room
	victim       store.APIToken // a token of dwho's, for DELETE /tokens/{id}
	victimSecret string
	meeting      *client.Client // msmith in the room's meeting, for the meeting rows
	dwhoTokens   int
	transcript   store.TranscriptID // of a past meeting of the room
}

func (w *policyWorld) prepare(t *testing.T, ctx context.Context, c caller, e endpoint) *fixture {
	t.Helper()
	s := w.srv
	// Rooms are made in the store: the API allows 60 creations a minute.
	rm, err := s.store.CreateRoom(ctx, store.Room{Code: room.NewCode(), Name: "Salle du conseil",
		Settings: room.Settings{Access: room.Trusted, Publishing: room.Everything}}, w.dwhoID)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{room: rm}
	if f.transcript, err = s.store.CreateTranscript(ctx, rm.ID, "fr", "Doctor Who", time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.store.AppendSegment(ctx, f.transcript, store.TranscriptSegment{ParticipantID: "p1", SpeakerName: "Doctor Who",
		Start: time.Second, End: 3 * time.Second, Text: "Bonjour à tous", Language: "fr"}); err != nil {
		t.Fatal(err)
	}
	s.give(t, w.dwho, rm.Code, w.msmithID, room.Member)
	if !c.owner && !c.guest && c.role != room.NoRole {
		s.give(t, w.dwho, rm.Code, w.rtylerID, c.role)
	}
	if c.ban {
		if err := s.store.Ban(ctx, rm.ID, store.UserBanKey(w.rtylerID), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	f.victim, f.victimSecret = s.storedToken(t, w.dwhoID, time.Time{}, "rooms:read")
	tokens, err := s.store.APITokens(ctx, w.dwhoID)
	if err != nil {
		t.Fatal(err)
	}
	f.dwhoTokens = len(tokens)
	if e.live {
		f.meeting = s.joinWith(t, ctx, client.Options{Room: string(rm.Code), Name: "Mickey", Cookies: w.msmith.jar})
	}
	return f
}

// endpoint is a row of the matrix: a request, what each caller gets, and
// what must (or must not) have changed.
type endpoint struct {
	name         string
	method, path string // {code} is the room, {user} msmith, {id} the victim token
	scope        string // that an API token needs
	live         bool   // the room has a meeting going on
	body         any    // or a func(*policyWorld) any
	want         [nCallers]expect
	check        func(t *testing.T, ctx context.Context, w *policyWorld, f *fixture, c caller, r reply, allowed bool)
}

// The policy. A row's answers are those of the callers above, in order:
//
//	owner, administrator, member, non-member, guest, banned, banned administrator
//	| token with the endpoint's scope, token without it, a member's token with all scopes
//	| forged, expired and revoked tokens
var policy = []endpoint{
	{name: "GET room", method: "GET", path: "/api/v1/rooms/{code}", scope: "rooms:read", check: checkGetRoom,
		//          owner   admin   member  non-m.  guest       banned      b.admin     | token+ token-     m.token | forged expired revoked
		want: grid("200     200     200     200     200         200         200         | 200    403:scope  200     | 401    401     401")},
	{name: "PATCH room", method: "PATCH", path: "/api/v1/rooms/{code}", scope: "rooms:write", body: roomChange, check: checkPatchRoom,
		want: grid("200     200     403     403     403         403         403:banned  | 200    403:scope  403     | 401    401     401")},
	{name: "DELETE room", method: "DELETE", path: "/api/v1/rooms/{code}", scope: "rooms:write", check: checkDeleteRoom,
		want: grid("204     403     403     403     403         403         403:banned  | 204    403:scope  403     | 401    401     401")},
	{name: "GET rooms", method: "GET", path: "/api/v1/rooms", scope: "rooms:read", check: checkListRooms,
		want: grid("200     200     200     200     200         200         200         | 200    403:scope  200     | 401    401     401")},
	{name: "POST rooms", method: "POST", path: "/api/v1/rooms", scope: "rooms:write", body: map[string]string{"name": "Nouvelle salle"}, check: checkCreateRoom,
		want: grid("201     201     201     201     401:signin  201         201         | 201    403:scope  201     | 401    401     401")},
	{name: "GET members", method: "GET", path: "/api/v1/rooms/{code}/members", scope: "rooms:read", check: checkListMembers,
		want: grid("200     200     403     403     403         403         403:banned  | 200    403:scope  403     | 401    401     401")},
	{name: "POST members", method: "POST", path: "/api/v1/rooms/{code}/members", scope: "members:write", body: addMsmith, check: checkMsmithPromoted,
		want: grid("200     200     403     403     403         403         403:banned  | 200    403:scope  403     | 401    401     401")},
	{name: "PUT member", method: "PUT", path: "/api/v1/rooms/{code}/members/{user}", scope: "members:write", body: map[string]string{"role": "administrator"}, check: checkMsmithPromoted,
		want: grid("200     200     403     403     403         403         403:banned  | 200    403:scope  403     | 401    401     401")},
	{name: "DELETE member", method: "DELETE", path: "/api/v1/rooms/{code}/members/{user}", scope: "members:write", check: checkMsmithRemoved,
		want: grid("204     204     403     403     403         403         403:banned  | 204    403:scope  403     | 401    401     401")},
	{name: "POST join", method: "POST", path: "/api/v1/rooms/{code}/join", body: map[string]string{"name": "Invitée"}, check: checkJoin,
		want: grid("200     200     200     200     200         403:banned  403:banned  | 403    403        403     | 401    401     401")},
	{name: "GET meeting", method: "GET", path: "/api/v1/rooms/{code}/meeting", scope: "rooms:read", live: true, check: checkGetMeeting,
		want: grid("200     200     403     403     403         403         403:banned  | 200    403:scope  403     | 401    401     401")},
	{name: "DELETE meeting", method: "DELETE", path: "/api/v1/rooms/{code}/meeting", scope: "rooms:write", live: true, check: checkEndMeeting,
		want: grid("204     204     403     403     403         403         403:banned  | 204    403:scope  403     | 401    401     401")},
	{name: "GET transcripts", method: "GET", path: "/api/v1/rooms/{code}/transcripts", scope: "transcripts:read", check: checkListTranscripts,
		want: grid("200     200     403     403     403         403         403:banned  | 200    403:scope  403     | 401    401     401")},
	{name: "GET transcript", method: "GET", path: "/api/v1/rooms/{code}/transcripts/{transcript}?format=json", scope: "transcripts:read", check: checkGetTranscript,
		want: grid("200     200     403     403     403         403         403:banned  | 200    403:scope  403     | 401    401     401")},
	{name: "DELETE transcript", method: "DELETE", path: "/api/v1/rooms/{code}/transcripts/{transcript}", scope: "rooms:write", check: checkDeleteTranscript,
		want: grid("204     204     403     403     403         403         403:banned  | 204    403:scope  403     | 401    401     401")},
	{name: "GET tokens", method: "GET", path: "/api/v1/tokens", check: checkListTokens,
		want: grid("200     200     200     200     401:signin  200         200         | 403    403        403     | 401    401     401")},
	{name: "POST tokens", method: "POST", path: "/api/v1/tokens", body: map[string]any{"name": "Agenda", "scopes": []string{"rooms:read"}}, check: checkCreateToken,
		want: grid("201     201     201     201     401:signin  201         201         | 403    403        403     | 401    401     401")},
	{name: "DELETE token", method: "DELETE", path: "/api/v1/tokens/{id}", check: checkRevokeToken,
		want: grid("204     404     404     404     401:signin  404         404         | 403    403        403     | 401    401     401")},
}

var roomChange = map[string]any{"name": "Renommée", "access": "public", "publishing": map[string]bool{"microphone": true, "camera": false, "screen": false}}

func addMsmith(w *policyWorld) any {
	return map[string]string{"email": w.msmithEmail, "role": "administrator"}
}

func checkPatchRoom(t *testing.T, _ context.Context, w *policyWorld, f *fixture, _ caller, _ reply, allowed bool) {
	rm := w.srv.mustRoom(t, f.room.Code)
	changed := rm.Name == "Renommée" && rm.Settings.Access == room.Public && !rm.Settings.Publishing.Camera
	unchanged := rm.Name == f.room.Name && rm.Settings == f.room.Settings
	if allowed && !changed || !allowed && !unchanged {
		t.Fatalf("the room is now %q %+v", rm.Name, rm.Settings)
	}
}

func checkDeleteRoom(t *testing.T, _ context.Context, w *policyWorld, f *fixture, _ caller, _ reply, allowed bool) {
	if _, exists := w.srv.storedRoom(t, f.room.Code); exists == allowed {
		t.Fatalf("the room exists: %v", exists)
	}
}

func checkListRooms(t *testing.T, _ context.Context, _ *policyWorld, f *fixture, c caller, r reply, allowed bool) {
	if !allowed {
		return
	}
	var got struct{ Rooms []roomAnswer }
	r.decode(t, &got)
	i := slices.IndexFunc(got.Rooms, func(a roomAnswer) bool { return a.Code == string(f.room.Code) })
	// Only the owner has the room among their recent rooms: nobody else
	// entered it.
	if (i >= 0) != c.owner || i >= 0 && got.Rooms[i].Role != "owner" {
		t.Fatalf("the room is listed: %v: %+v", i >= 0, got.Rooms)
	}
}

func checkCreateRoom(t *testing.T, ctx context.Context, w *policyWorld, f *fixture, c caller, r reply, allowed bool) {
	if allowed {
		var got roomAnswer
		r.decode(t, &got)
		rm := w.srv.mustRoom(t, room.Code(got.Code))
		if rm.CreatedBy != w.userOf(c) || w.srv.roleIn(t, rm, w.userOf(c)) != room.Owner || got.Role != "owner" ||
			rm.Settings.Access != room.Trusted || rm.Name != "Nouvelle salle" {
			t.Fatalf("created %+v, answered %+v", rm, got)
		}
		return
	}
	if c.owner { // dwho's newest room is still the fixture's
		recent, err := w.srv.store.RecentRooms(ctx, w.dwhoID, 1)
		if err != nil || len(recent) != 1 || recent[0].Code != f.room.Code {
			t.Fatalf("a room was created: %+v %v", recent, err)
		}
	}
}

func checkListMembers(t *testing.T, _ context.Context, w *policyWorld, _ *fixture, c caller, r reply, allowed bool) {
	if !allowed {
		return
	}
	var got struct {
		Members []struct{ ID, Role, Name string }
	}
	r.decode(t, &got)
	roles := map[store.UserID]room.Role{}
	for _, m := range got.Members {
		roles[store.UserID(m.ID)] = room.Role(m.Role)
	}
	want := map[store.UserID]room.Role{w.dwhoID: room.Owner, w.msmithID: room.Member}
	if !c.owner && c.role != room.NoRole {
		want[w.rtylerID] = c.role
	}
	if !maps.Equal(roles, want) {
		t.Fatalf("members %v, want %v", roles, want)
	}
}

func checkMsmithRemoved(t *testing.T, _ context.Context, w *policyWorld, f *fixture, _ caller, _ reply, allowed bool) {
	role := w.srv.roleIn(t, f.room, w.msmithID)
	if allowed && role != room.NoRole || !allowed && role != room.Member {
		t.Fatalf("msmith is now %q", role)
	}
}

func checkGetMeeting(t *testing.T, _ context.Context, w *policyWorld, _ *fixture, _ caller, r reply, allowed bool) {
	if !allowed {
		return
	}
	var got struct {
		Live         bool
		Participants []struct {
			Name     string
			Role     string
			SignedIn bool `json:"signed_in"`
		}
	}
	r.decode(t, &got)
	if !got.Live || len(got.Participants) != 1 || got.Participants[0].Name != w.msmithName ||
		got.Participants[0].Role != "member" || !got.Participants[0].SignedIn {
		t.Fatalf("the meeting: %+v", got)
	}
}

func checkEndMeeting(t *testing.T, ctx context.Context, _ *policyWorld, f *fixture, _ caller, _ reply, allowed bool) {
	if allowed {
		waitState(t, ctx, f.meeting, "the participant is told the meeting ended", func(s client.State) bool { return s.Bye == protocol.ReasonEnded })
		return
	}
	stillThere(t, ctx, f.meeting)
}

func checkListTranscripts(t *testing.T, _ context.Context, _ *policyWorld, f *fixture, _ caller, r reply, allowed bool) {
	if !allowed {
		return
	}
	var got struct {
		Transcripts []struct {
			ID       string
			Segments int
		}
	}
	r.decode(t, &got)
	if len(got.Transcripts) != 1 || got.Transcripts[0].ID != string(f.transcript) || got.Transcripts[0].Segments != 1 {
		t.Fatalf("transcripts %+v", got.Transcripts)
	}
}

func checkGetTranscript(t *testing.T, _ context.Context, _ *policyWorld, _ *fixture, _ caller, r reply, allowed bool) {
	if allowed != strings.Contains(string(r.body), "Bonjour à tous") {
		t.Fatalf("the transcript's words were given: %v: %s", !allowed, r.body)
	}
}

func checkDeleteTranscript(t *testing.T, ctx context.Context, w *policyWorld, f *fixture, _ caller, _ reply, allowed bool) {
	_, err := w.srv.store.Transcript(ctx, f.transcript)
	if gone := errors.Is(err, store.ErrNotFound); gone != allowed {
		t.Fatalf("the transcript is gone: %v (%v)", gone, err)
	}
}

type listedToken struct{ ID, Secret string }

func checkListTokens(t *testing.T, _ context.Context, _ *policyWorld, f *fixture, c caller, r reply, allowed bool) {
	if !allowed {
		return
	}
	var got struct{ Tokens []listedToken }
	r.decode(t, &got)
	if len(got.Tokens) == 0 {
		t.Fatal("no tokens listed")
	}
	// Everyone sees their own tokens only, and never a secret.
	mine := slices.ContainsFunc(got.Tokens, func(x listedToken) bool { return x.ID == string(f.victim.ID) })
	secrets := slices.ContainsFunc(got.Tokens, func(x listedToken) bool { return x.Secret != "" })
	if mine != c.owner || secrets {
		t.Fatalf("dwho's token listed: %v, secrets listed: %v", mine, secrets)
	}
}

func checkCreateToken(t *testing.T, ctx context.Context, w *policyWorld, f *fixture, c caller, r reply, allowed bool) {
	if allowed {
		var got listedToken
		r.decode(t, &got)
		if !strings.HasPrefix(got.Secret, "visio_") {
			t.Fatalf("secret %q", got.Secret)
		}
		if r := w.srv.apiCall(t, bearer(got.Secret), http.MethodGet, "/api/v1/rooms", nil); r.status != http.StatusOK {
			t.Fatalf("the new token does not work: %d", r.status)
		}
		tokens, err := w.srv.store.APITokens(ctx, w.userOf(c))
		if err != nil || !slices.ContainsFunc(tokens, func(x store.APIToken) bool { return string(x.ID) == got.ID }) {
			t.Fatalf("the token is not the caller's: %v", err)
		}
		return
	}
	if tokens, err := w.srv.store.APITokens(ctx, w.dwhoID); err != nil || len(tokens) != f.dwhoTokens {
		t.Fatalf("dwho has %d tokens, had %d (%v)", len(tokens), f.dwhoTokens, err)
	}
}

func checkRevokeToken(t *testing.T, _ context.Context, w *policyWorld, f *fixture, _ caller, _ reply, allowed bool) {
	works := w.srv.apiCall(t, bearer(f.victimSecret), http.MethodGet, "/api/v1/rooms", nil).status == http.StatusOK
	if works == allowed {
		t.Fatalf("dwho's token still works: %v", works)
	}
}

func checkGetRoom(t *testing.T, _ context.Context, _ *policyWorld, f *fixture, c caller, r reply, allowed bool) {
	if !allowed {
		return
	}
	var got roomAnswer
	r.decode(t, &got)
	if got.Code != string(f.room.Code) || got.Role != string(c.role) || got.Access != "trusted" {
		t.Fatalf("got %+v, want role %q", got, c.role)
	}
}

// checkMsmithPromoted checks the effect of making msmith an administrator.
func checkMsmithPromoted(t *testing.T, _ context.Context, w *policyWorld, f *fixture, _ caller, _ reply, allowed bool) {
	role := w.srv.roleIn(t, f.room, w.msmithID)
	if allowed && role != room.Administrator || !allowed && role != room.Member {
		t.Fatalf("msmith is now %q", role)
	}
}

// checkJoin checks the grant that the join token carries: who, with which
// role, and whether they will wait.
func checkJoin(t *testing.T, _ context.Context, w *policyWorld, f *fixture, c caller, r reply, allowed bool) {
	if !allowed {
		return
	}
	var got struct {
		Token, Name, Enter string
		Room               roomAnswer
	}
	r.decode(t, &got)
	wantName, wantEnter := w.rtylerName, "enter"
	switch {
	case c.owner:
		wantName = w.dwhoName
	case c.guest:
		wantName, wantEnter = "Invitée", "wait" // a trusted room: guests knock
	}
	if got.Name != wantName || got.Enter != wantEnter || got.Room.Code != string(f.room.Code) || got.Room.Role != string(c.role) {
		t.Fatalf("join answer %+v, want %q %q %q", got, wantName, wantEnter, c.role)
	}
	claims := jwtClaims(t, got.Token)
	if claims.Room != string(f.room.Code) || claims.Role != string(c.role) || claims.SignedIn == c.guest || claims.User != string(w.userOf(c)) {
		t.Fatalf("the join token grants %+v", claims)
	}
}

// jwtClaims reads a join token's claims without checking it.
func jwtClaims(t *testing.T, tok string) token.Claims {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("%q is not a JWT", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c token.Claims
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestAPIPolicyMatrix is the whole REST policy: every endpoint, asked by
// every kind of caller, answers as the table says, and a permitted call
// changes what it says while a refused one changes nothing.
func TestAPIPolicyMatrix(t *testing.T) {
	w := newPolicyWorld(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	for _, e := range policy {
		t.Run(e.name, func(t *testing.T) {
			for i, c := range callers {
				t.Run(c.name, func(t *testing.T) {
					f := w.prepare(t, ctx, c, e)
					path := strings.NewReplacer("{code}", string(f.room.Code), "{user}", string(w.msmithID), "{id}", string(f.victim.ID),
						"{transcript}", string(f.transcript)).Replace(e.path)
					body := e.body
					if mk, ok := body.(func(*policyWorld) any); ok {
						body = mk(w)
					}
					r := w.srv.apiCall(t, w.as(c, e.scope), e.method, path, body)
					want := e.want[i]
					got := expect{status: r.status}
					if r.status >= 300 {
						got.code = r.problem(t).Error
					}
					if got != want {
						t.Fatalf("%s %s as %s: got %v, want %v: %s", e.method, e.path, c.name, got, want, r.body)
					}
					e.check(t, ctx, w, f, c, r, want.allowed())
				})
			}
		})
	}
}

// ---- owners, hosts and the meeting ----

// TestOnlyOwnersMakeOrUnmakeOwners: an administrator may change members
// but not owners: not demote the owner, not remove them, not make anyone
// (themselves included) an owner. An owner may do all of it.
func TestOnlyOwnersMakeOrUnmakeOwners(t *testing.T) {
	srv := signInServer(t)
	dwho, rtyler, msmith := srv.signedIn(t, "dwho"), srv.signedIn(t, "rtyler"), srv.signedIn(t, "msmith")
	dwhoID, rtylerID := store.UserID(srv.me(t, dwho).ID), store.UserID(srv.me(t, rtyler).ID)
	me := srv.me(t, msmith)
	msmithID := store.UserID(me.ID)
	code := room.Code(dwho.newRoom("trusted"))
	base := "/api/v1/rooms/" + string(code) + "/members"
	srv.give(t, dwho, code, rtylerID, room.Administrator)
	if r := srv.apiCall(t, browser(dwho), http.MethodPost, base, map[string]string{"email": me.Email, "role": "member"}); r.status != http.StatusOK {
		t.Fatalf("adding msmith by e-mail: %d %s", r.status, r.body)
	}
	rm := srv.mustRoom(t, code)
	roles := func() map[store.UserID]room.Role { return srv.members(t, rm) }
	want := map[store.UserID]room.Role{dwhoID: room.Owner, rtylerID: room.Administrator, msmithID: room.Member}
	if !maps.Equal(roles(), want) {
		t.Fatalf("members %v", roles())
	}

	type attempt struct {
		method, path string
		body         any
	}
	ownerAttempts := func(target store.UserID) []attempt {
		return []attempt{
			{http.MethodPut, base + "/" + string(target), map[string]string{"role": "member"}},
			{http.MethodPut, base + "/" + string(target), map[string]string{"role": "administrator"}},
			{http.MethodDelete, base + "/" + string(target), nil},
		}
	}
	refusedToAdmin := append(ownerAttempts(dwhoID),
		attempt{http.MethodPut, base + "/" + string(msmithID), map[string]string{"role": "owner"}},
		attempt{http.MethodPost, base, map[string]string{"email": me.Email, "role": "owner"}},
		attempt{http.MethodPut, base + "/" + string(rtylerID), map[string]string{"role": "owner"}}, // themselves
	)
	for _, a := range refusedToAdmin {
		r := srv.apiCall(t, browser(rtyler), a.method, a.path, a.body)
		if r.status != http.StatusForbidden || r.problem(t).Error != "forbidden" {
			t.Fatalf("an administrator's %s %s %v: %d %s", a.method, a.path, a.body, r.status, r.body)
		}
	}
	if !maps.Equal(roles(), want) {
		t.Fatalf("refused changes changed the members: %v", roles())
	}

	// What is not about owners the administrator may do.
	srv.give(t, rtyler, code, msmithID, room.Administrator)
	srv.give(t, rtyler, code, msmithID, room.Member)

	// The owner makes msmith an owner: now the administrator cannot touch him.
	srv.give(t, dwho, code, msmithID, room.Owner)
	want[msmithID] = room.Owner
	for _, a := range ownerAttempts(msmithID) {
		if r := srv.apiCall(t, browser(rtyler), a.method, a.path, a.body); r.status != http.StatusForbidden {
			t.Fatalf("an administrator's %s %s %v on an owner: %d %s", a.method, a.path, a.body, r.status, r.body)
		}
	}
	if !maps.Equal(roles(), want) {
		t.Fatalf("refused changes changed the members: %v", roles())
	}
	// An owner takes the owner role away, and may remove an owner.
	srv.give(t, dwho, code, msmithID, room.Member)
	srv.give(t, dwho, code, msmithID, room.Owner)
	if r := srv.apiCall(t, browser(dwho), http.MethodDelete, base+"/"+string(msmithID), nil); r.status != http.StatusNoContent {
		t.Fatalf("the owner removing a second owner: %d %s", r.status, r.body)
	}
	delete(want, msmithID)
	if !maps.Equal(roles(), want) {
		t.Fatalf("members %v, want %v", roles(), want)
	}
}

// TestTheOwnerCannotBeRemovedOrDemotedOverTheWebSocket: an administrator
// in the meeting cannot demote, remove or ban the owner, though they may
// remove others.
func TestTheOwnerCannotBeRemovedOrDemotedOverTheWebSocket(t *testing.T) {
	srv := signInServer(t)
	ctx := testContext(t)
	dwho, rtyler, msmith := srv.signedIn(t, "dwho"), srv.signedIn(t, "rtyler"), srv.signedIn(t, "msmith")
	dwhoID, rtylerID := store.UserID(srv.me(t, dwho).ID), store.UserID(srv.me(t, rtyler).ID)
	code := room.Code(dwho.newRoom("public"))
	srv.give(t, dwho, code, rtylerID, room.Administrator)
	host := dwho.join(ctx, string(code))
	admin := rtyler.join(ctx, string(code))
	other := msmith.join(ctx, string(code))
	if r := admin.State().Self.Role; r != "administrator" {
		t.Fatalf("rtyler entered as %q", r)
	}
	for _, m := range []protocol.Moderate{
		{Action: protocol.ActionRole, Participant: host.ID(), Role: "member"},
		{Action: protocol.ActionRole, Participant: host.ID(), Role: "administrator"},
		{Action: protocol.ActionRemove, Participant: host.ID()},
		{Action: protocol.ActionRemove, Participant: host.ID(), Ban: true},
	} {
		refused(t, ctx, admin, &m, protocol.CodeForbidden)
	}
	stillThere(t, ctx, host)
	rm := srv.mustRoom(t, code)
	if s := host.State(); s.Self.Role != "owner" || srv.roleIn(t, rm, dwhoID) != room.Owner {
		t.Fatalf("the owner is now %q, stored %q", s.Self.Role, srv.roleIn(t, rm, dwhoID))
	}
	if banned, err := srv.store.IsBanned(ctx, rm.ID, store.UserBanKey(dwhoID), time.Now()); err != nil || banned {
		t.Fatalf("the owner was banned: %v %v", banned, err)
	}
	// The administrator is a host all the same.
	if err := admin.Moderate(ctx, protocol.Moderate{Action: protocol.ActionRemove, Participant: other.ID()}); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, other, "the administrator removes a member", func(s client.State) bool { return s.Bye == protocol.ReasonRemoved })
}

// TestARoomChangeOverRESTReachesTheLiveMeeting: an administrator's PATCH,
// from outside the meeting, is told to everyone in it at once; a camera the
// room no longer allows stops; a guest waiting in the lobby of the trusted
// room enters when it becomes public.
func TestARoomChangeOverRESTReachesTheLiveMeeting(t *testing.T) {
	srv := signInServer(t)
	ctx := testContext(t)
	dwho, rtyler, msmith := srv.signedIn(t, "dwho"), srv.signedIn(t, "rtyler"), srv.signedIn(t, "msmith")
	code := room.Code(dwho.newRoom("trusted"))
	srv.give(t, dwho, code, store.UserID(srv.me(t, rtyler).ID), room.Administrator)
	host := dwho.join(ctx, string(code), mic, camera)
	ms := msmith.join(ctx, string(code), mic, camera)
	receiving(t, ctx, host, ms, 10, camera)
	waiting := srv.guest(t, "Camille").join(ctx, string(code))
	waitState(t, ctx, waiting, "the guest waits", func(s client.State) bool { return s.Waiting })
	waitState(t, ctx, host, "the host sees the guest", func(s client.State) bool { return len(s.Lobby) == 1 })
	if a := host.State().Room.Access; a != "trusted" {
		t.Fatalf("the meeting starts %q", a)
	}

	r := srv.apiCall(t, browser(rtyler), http.MethodPatch, "/api/v1/rooms/"+string(code),
		map[string]any{"access": "public", "publishing": map[string]bool{"microphone": true, "camera": false, "screen": true}})
	if r.status != http.StatusOK {
		t.Fatalf("PATCH: %d %s", r.status, r.body)
	}
	changed := func(s client.State) bool {
		return s.Room.Access == "public" && !s.Room.Publishing.Camera && s.Room.Publishing.Microphone && s.Room.Publishing.Screen
	}
	for name, c := range map[string]*client.Client{"the owner": host, "msmith": ms} {
		waitState(t, ctx, c, name+" is told the new rules", changed)
	}
	waitState(t, ctx, waiting, "the waiting guest enters the now public room", func(s client.State) bool {
		return !s.Waiting && s.Self.ID != "" && changed(s)
	})
	waitState(t, ctx, ms, "msmith is told to stop his camera", func(s client.State) bool {
		return slices.ContainsFunc(s.Moderated, func(m protocol.Moderated) bool { return m.Action == protocol.ActionStop && m.Source == camera })
	})
	id := ms.ID()
	waitState(t, ctx, host, "msmith's camera is gone, his microphone stays", func(s client.State) bool {
		tracks := s.Others[id].Tracks
		return !slices.ContainsFunc(tracks, func(tr protocol.Track) bool { return tr.Source == camera }) &&
			slices.ContainsFunc(tracks, func(tr protocol.Track) bool { return tr.Source == mic })
	})
	// Hosts may always publish: the owner's camera still reaches msmith.
	before := packets(ms, host, camera)
	waitState(t, ctx, ms, "the host's camera goes on", func(client.State) bool { return packets(ms, host, camera) > before+10 })
	if rm := srv.mustRoom(t, code); rm.Settings.Access != room.Public || rm.Settings.Publishing.Camera {
		t.Fatalf("stored %+v", rm.Settings)
	}
}

// TestAPromotionOverTheWebSocketIsKept: a host makes a signed-in
// participant an administrator in the meeting; they get the lobby at once,
// and are an administrator again when they come back. A guest cannot be
// promoted.
func TestAPromotionOverTheWebSocketIsKept(t *testing.T) {
	srv := signInServer(t)
	ctx := testContext(t)
	dwho, msmith := srv.signedIn(t, "dwho"), srv.signedIn(t, "msmith")
	msmithID := store.UserID(srv.me(t, msmith).ID)
	code := room.Code(dwho.newRoom("trusted"))
	host := dwho.join(ctx, string(code))
	ms := msmith.join(ctx, string(code)) // trusted: a signed-in user enters
	admitted := srv.guest(t, "Alix").join(ctx, string(code))
	waitState(t, ctx, host, "the host sees Alix knock", func(s client.State) bool { return len(s.Lobby) == 1 })
	if err := host.Admit(ctx, host.State().Lobby[0].ID); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, admitted, "Alix enters", func(s client.State) bool { return s.Self.ID != "" })
	knocking := srv.guest(t, "Bérénice").join(ctx, string(code))
	waitState(t, ctx, host, "the host sees Bérénice knock", func(s client.State) bool { return len(s.Lobby) == 1 })
	if len(ms.State().Lobby) != 0 {
		t.Fatal("a participant who is not a host sees the lobby")
	}

	refused(t, ctx, host, &protocol.Moderate{Action: protocol.ActionRole, Participant: admitted.ID(), Role: "administrator"}, protocol.CodeSignInRequired)
	if r := admitted.State().Self.Role; r != "" {
		t.Fatalf("the guest is now %q", r)
	}

	if err := host.Moderate(ctx, protocol.Moderate{Action: protocol.ActionRole, Participant: ms.ID(), Role: "administrator"}); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, ms, "msmith is an administrator and sees who waits", func(s client.State) bool {
		return s.Self.Role == "administrator" && len(s.Lobby) == 1 && s.Lobby[0].Name == "Bérénice"
	})
	rm := srv.mustRoom(t, code)
	if r := srv.roleIn(t, rm, msmithID); r != room.Administrator {
		t.Fatalf("the promotion is not kept: %q", r)
	}

	if err := ms.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	back := msmith.join(ctx, string(code))
	waitState(t, ctx, back, "msmith comes back an administrator, with the lobby", func(s client.State) bool {
		return s.Self.Role == "administrator" && len(s.Lobby) == 1
	})
	if !knocking.State().Waiting {
		t.Fatal("Bérénice no longer waits")
	}
	// And acts as one.
	if err := back.Admit(ctx, back.State().Lobby[0].ID); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, knocking, "the new administrator lets Bérénice in", func(s client.State) bool { return s.Self.ID != "" && !s.Waiting })
}

// TestEndingTheMeetingAndDeletingTheRoom: an administrator may end the
// meeting for everyone, the lobby included, but not delete the room; the
// owner may, which ends the meeting too.
func TestEndingTheMeetingAndDeletingTheRoom(t *testing.T) {
	srv := signInServer(t)
	ctx := testContext(t)
	dwho, rtyler, msmith := srv.signedIn(t, "dwho"), srv.signedIn(t, "rtyler"), srv.signedIn(t, "msmith")
	code := room.Code(dwho.newRoom("trusted"))
	path := "/api/v1/rooms/" + string(code)
	srv.give(t, dwho, code, store.UserID(srv.me(t, rtyler).ID), room.Administrator)
	host := dwho.join(ctx, string(code))
	ms := msmith.join(ctx, string(code))
	knocking := srv.guest(t, "Camille").join(ctx, string(code))
	waitState(t, ctx, host, "the host sees the guest", func(s client.State) bool { return len(s.Lobby) == 1 })

	r := srv.apiCall(t, browser(rtyler), http.MethodDelete, path, nil)
	if r.status != http.StatusForbidden || r.problem(t).Error != "forbidden" {
		t.Fatalf("an administrator deleting the room: %d %s", r.status, r.body)
	}
	srv.mustRoom(t, code)
	for _, c := range []*client.Client{host, ms} {
		stillThere(t, ctx, c)
	}

	if r := srv.apiCall(t, browser(rtyler), http.MethodDelete, path+"/meeting", nil); r.status != http.StatusNoContent {
		t.Fatalf("an administrator ending the meeting: %d %s", r.status, r.body)
	}
	for name, c := range map[string]*client.Client{"the owner": host, "msmith": ms, "the waiting guest": knocking} {
		waitState(t, ctx, c, name+" is told the meeting ended", func(s client.State) bool { return s.Bye == protocol.ReasonEnded && s.Closed })
	}
	waitUntil(t, func() bool { return srv.Meetings().Meeting(code) == nil }, "the ended meeting is still there")
	var m struct{ Live bool }
	if r := srv.apiCall(t, browser(rtyler), http.MethodGet, path+"/meeting", nil); r.status != http.StatusOK {
		t.Fatalf("GET meeting: %d", r.status)
	} else if r.decode(t, &m); m.Live {
		t.Fatal("the ended meeting is live")
	}
	if r := srv.apiCall(t, browser(rtyler), http.MethodDelete, path+"/meeting", nil); r.status != http.StatusNotFound || r.problem(t).Error != "not_found" {
		t.Fatalf("ending no meeting: %d %s", r.status, r.body)
	}

	again := dwho.join(ctx, string(code))
	if r := srv.apiCall(t, browser(dwho), http.MethodDelete, path, nil); r.status != http.StatusNoContent {
		t.Fatalf("the owner deleting the room: %d %s", r.status, r.body)
	}
	waitState(t, ctx, again, "deleting the room ends its meeting", func(s client.State) bool { return s.Bye == protocol.ReasonEnded })
	if _, ok := srv.storedRoom(t, code); ok {
		t.Fatal("the deleted room is still stored")
	}
	for _, p := range []string{path, path + "/join"} {
		method := http.MethodGet
		if strings.HasSuffix(p, "/join") {
			method = http.MethodPost
		}
		if r := srv.apiCall(t, browser(msmith), method, p, nil); r.status != http.StatusNotFound {
			t.Fatalf("%s %s of a deleted room: %d %s", method, p, r.status, r.body)
		}
	}
}

// TestABannedAdministratorLosesTheRoom: banned over the WebSocket, an
// administrator can neither come back nor act as a host through the API,
// though their role is still recorded.
func TestABannedAdministratorLosesTheRoom(t *testing.T) {
	srv := signInServer(t)
	ctx := testContext(t)
	dwho, rtyler, msmith := srv.signedIn(t, "dwho"), srv.signedIn(t, "rtyler"), srv.signedIn(t, "msmith")
	code := room.Code(dwho.newRoom("trusted"))
	path := "/api/v1/rooms/" + string(code)
	srv.give(t, dwho, code, store.UserID(srv.me(t, rtyler).ID), room.Administrator)
	host := dwho.join(ctx, string(code))
	admin := rtyler.join(ctx, string(code))
	ms := msmith.join(ctx, string(code))
	if err := host.Moderate(ctx, protocol.Moderate{Action: protocol.ActionRemove, Participant: admin.ID(), Ban: true}); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, admin, "the administrator is banned", func(s client.State) bool { return s.Bye == protocol.ReasonBanned })

	for _, a := range []struct {
		method, path string
		body         any
	}{
		{http.MethodPost, path + "/join", map[string]string{}},
		{http.MethodPatch, path, map[string]string{"access": "public"}},
		{http.MethodGet, path + "/members", nil},
		{http.MethodGet, path + "/meeting", nil},
		{http.MethodDelete, path + "/meeting", nil},
		{http.MethodPut, path + "/members/" + srv.me(t, msmith).ID, map[string]string{"role": "administrator"}},
	} {
		r := srv.apiCall(t, browser(rtyler), a.method, a.path, a.body)
		if r.status != http.StatusForbidden || r.problem(t).Error != "banned" {
			t.Fatalf("the banned administrator's %s %s: %d %s", a.method, a.path, r.status, r.body)
		}
	}
	stillThere(t, ctx, ms)
	if rm := srv.mustRoom(t, code); rm.Settings.Access != room.Trusted {
		t.Fatalf("the room changed: %+v", rm.Settings)
	}
}

// ---- join tokens over the WebSocket ----

// TestJoinTokensAreCheckedOverTheWebSocket: a join with no token, a
// garbage one, one for another room, another scope, or signed with another
// key, or expired, gets bad_token and no welcome; the right one then works
// on the same socket.
func TestJoinTokensAreCheckedOverTheWebSocket(t *testing.T) {
	const secret = "the join token secret of this test server"
	srv := startServer(t, func(c *config.Config, _ *Options) { c.Tokens.Secret = secret })
	ctx := testContext(t)
	code, elsewhere := room.NewCode(), room.NewCode()
	host := srv.join(t, ctx, code, "Hôte")
	own, err := token.NewIssuer([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	forger, err := token.NewIssuer([]byte("another secret, of at least thirty-two bytes"))
	if err != nil {
		t.Fatal(err)
	}
	mint := func(i *token.Issuer, rc room.Code, ttl time.Duration) string {
		tok, err := i.IssueJoin(string(rc), "Mallory", token.Grant{User: "usr_x", SignedIn: true, Role: "owner"}, ttl)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	other, err := client.RequestJoin(ctx, client.Options{URL: srv.url, Room: string(elsewhere), Name: "Mallory"})
	if err != nil {
		t.Fatal(err)
	}
	whip, err := own.Issue(string(code), token.ScopeWHIP, "Mallory", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	unsigned := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." +
		base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, `{"iss":"visio","room":%q,"scope":"join","name":"Mallory","role":"owner","exp":%d}`, code, time.Now().Add(time.Minute).Unix())) + "."

	mallory, err := client.Connect(ctx, client.Options{URL: srv.url, Name: "Mallory"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mallory.Kill)
	for _, c := range []struct {
		what, token, message string
	}{
		{"no token", "", "needs a token"},
		{"garbage", "garbage", "not valid"},
		{"a token for another room", other.Token, "not valid"},
		{"a WHIP token", whip, "not valid"},
		{"a token signed with another key", mint(forger, code, time.Minute), "not valid"},
		{"an unsigned token", unsigned, "not valid"},
		{"an expired token", mint(own, code, -time.Minute), "expired"},
	} {
		msg, err := protocol.Encode(&protocol.Join{Room: string(code), Name: "Mallory", Token: c.token})
		if err != nil {
			t.Fatal(err)
		}
		sendExpectingError(t, ctx, mallory, string(msg), protocol.CodeBadToken)
		s := mallory.State()
		if e := s.Errors[len(s.Errors)-1]; !strings.Contains(e.Message, c.message) {
			t.Errorf("%s: %q", c.what, e.Message)
		}
		if s.Self.ID != "" || s.Waiting || len(host.State().Others) != 0 {
			t.Fatalf("%s let Mallory in", c.what)
		}
	}
	// The same socket, with a token of its own, joins.
	grant, err := client.RequestJoin(ctx, client.Options{URL: srv.url, Room: string(code), Name: "Mallory"})
	if err != nil {
		t.Fatal(err)
	}
	if err := mallory.SendMessage(ctx, &protocol.Join{Room: string(code), Name: "Mallory", Token: grant.Token}); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, mallory, "a good token gets the welcome", func(s client.State) bool { return s.Self.ID != "" && s.Self.Role == "" })
}

// ---- rate limits ----

// TestJoinRequestsAreRateLimited: with limits.joins_per_minute 3, the
// fourth request from one address is refused with 429 and Retry-After,
// saying how long to wait; another address is not held up.
func TestJoinRequestsAreRateLimited(t *testing.T) {
	srv := startServer(t, func(c *config.Config, _ *Options) { c.Limits.JoinsPerMinute = 3 })
	ctx := testContext(t)
	code := room.NewCode()
	path := "/api/v1/rooms/" + string(code) + "/join"
	body := map[string]string{"name": "Alix"}
	for i := range 3 {
		if r := srv.apiCall(t, who{}, http.MethodPost, path, body); r.status != http.StatusOK {
			t.Fatalf("join request %d: %d %s", i+1, r.status, r.body)
		}
	}
	tooMany(t, srv.apiCall(t, who{}, http.MethodPost, path, body))
	// The signalling client is refused as well.
	_, err := client.Join(ctx, client.Options{URL: srv.url, Room: string(code), Name: "Alix"})
	var re *client.RefusedError
	if !errors.As(err, &re) || re.Status != http.StatusTooManyRequests {
		t.Fatalf("a join over the limit: %v", err)
	}
	if r := srv.apiCall(t, who{}, http.MethodGet, "/api/v1/me", nil); r.status != http.StatusOK {
		t.Fatalf("the join limit holds up other requests: %d", r.status)
	}
	if r := srv.apiCall(t, who{from: net.IPv4(127, 0, 0, 2)}, http.MethodPost, path, body); r.status != http.StatusOK {
		t.Fatalf("another address is held up: %d %s", r.status, r.body)
	}
}

// tooMany checks a 429 answer: Retry-After in seconds, and a message that
// says to wait that long.
func tooMany(t *testing.T, r reply) {
	t.Helper()
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("over the limit: %d %s", r.status, r.body)
	}
	secs, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || secs < 1 || secs > 60 {
		t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
	}
	if e := r.problem(t); e.Error != "rate_limited" || !strings.Contains(e.Message, fmt.Sprintf("wait %d seconds", secs)) {
		t.Fatalf("429 says %+v (Retry-After %d)", e, secs)
	}
}

// TestSignInsAreRateLimited: with limits.logins_per_minute 3, the fourth
// GET /auth/login from one address is refused, and so is the callback.
func TestSignInsAreRateLimited(t *testing.T) {
	srv := startServer(t, withSignIn(t), func(c *config.Config, _ *Options) { c.Limits.LoginsPerMinute = 3 })
	for i := range 3 {
		r := srv.apiCall(t, who{}, http.MethodGet, "/auth/login?next=/", nil)
		if r.status != http.StatusFound || !strings.HasPrefix(r.header.Get("Location"), "http://127.0.0.1:") {
			t.Fatalf("sign-in %d: %d to %q", i+1, r.status, r.header.Get("Location"))
		}
	}
	tooMany(t, srv.apiCall(t, who{}, http.MethodGet, "/auth/login?next=/", nil))
	tooMany(t, srv.apiCall(t, who{}, http.MethodGet, "/auth/callback?code=x&state=y", nil))
	if r := srv.apiCall(t, who{from: net.IPv4(127, 0, 0, 2)}, http.MethodGet, "/auth/login", nil); r.status != http.StatusFound {
		t.Fatalf("another address is held up: %d", r.status)
	}
}

// withSignIn starts a LemonLDAP::NG provider and sets the server up to sign
// people in with it, as signInServer does, to combine with other changes.
func withSignIn(t *testing.T) func(*config.Config, *Options) {
	port := freeTCPPort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	op := oidctest.StartLemonLDAP(t, []string{base + "/auth/callback"}, base+"/")
	return func(c *config.Config, _ *Options) {
		c.HTTP.Addr = fmt.Sprintf("127.0.0.1:%d", port)
		c.Rooms.AllowUnregistered = false
		c.Auth.Issuer, c.Auth.ClientID, c.Auth.ClientSecret = op.Issuer, "visio", "visio-secret"
		c.Auth.RedirectURL = base + "/auth/callback"
		c.Auth.Secret = "a test secret of at least thirty-two bytes"
	}
}

// ---- bad input ----

// TestBadInputGetsAClearErrorAndChangesNothing: malformed JSON, unknown
// fields, wrong types, bodies over 16 KiB, values out of range, bad room
// codes and unknown things get a 4xx JSON error that says what is wrong,
// never a 500, and change nothing.
func TestBadInputGetsAClearErrorAndChangesNothing(t *testing.T) {
	srv := signInServer(t)
	ctx := testContext(t)
	dwho, msmith := srv.signedIn(t, "dwho"), srv.signedIn(t, "msmith")
	dwhoID := store.UserID(srv.me(t, dwho).ID)
	me := srv.me(t, msmith)
	code := room.Code(dwho.newRoom("trusted"))
	srv.give(t, dwho, code, store.UserID(me.ID), room.Member)
	rm := srv.mustRoom(t, code)
	members := srv.members(t, rm)
	tokens, err := srv.store.APITokens(ctx, dwhoID)
	if err != nil {
		t.Fatal(err)
	}
	live := dwho.join(ctx, string(code))

	roomPath := "/api/v1/rooms/" + string(code)
	huge := `{"name":"` + strings.Repeat("a", 17<<10) + `"}`
	jsonBody := func(s string) raw { return raw{"application/json", s} }
	type badCase struct {
		method, path string
		body         any
		status       int
		code         string
		says         string // in the message
	}
	var cases []badCase
	// Every body-taking endpoint, with every kind of bad JSON.
	for _, ep := range []struct{ method, path, field string }{
		{http.MethodPatch, roomPath, "name"},
		{http.MethodPost, "/api/v1/rooms", "name"},
		{http.MethodPost, roomPath + "/members", "email"},
		{http.MethodPut, roomPath + "/members/" + me.ID, "role"},
		{http.MethodPost, roomPath + "/join", "name"},
		{http.MethodPost, "/api/v1/tokens", "name"},
	} {
		cases = append(cases,
			badCase{ep.method, ep.path, jsonBody(`{"` + ep.field + `":`), 400, "bad_request", "malformed"},
			badCase{ep.method, ep.path, jsonBody(`{"nmae":"x"}`), 400, "bad_request", `unknown field "nmae"`},
			badCase{ep.method, ep.path, jsonBody(`{"` + ep.field + `":42}`), 400, "bad_request", `"` + ep.field + `" has the wrong type`},
			badCase{ep.method, ep.path, jsonBody(`["name"]`), 400, "bad_request", "wrong type"},
			badCase{ep.method, ep.path, jsonBody(huge), 400, "bad_request", "16 KiB"},
			badCase{ep.method, ep.path, raw{"text/plain", `{"name":"x"}`}, 415, "bad_request", "Content-Type"},
		)
	}
	cases = append(cases,
		// Fields of the wrong type, or out of range.
		badCase{http.MethodPatch, roomPath, jsonBody(`{"max_participants":"ten"}`), 400, "bad_request", "max_participants"},
		badCase{http.MethodPatch, roomPath, jsonBody(`{"publishing":{"camera":"no"}}`), 400, "bad_request", "wrong type"},
		badCase{http.MethodPatch, roomPath, jsonBody(`{"publishing":{"video":true}}`), 400, "bad_request", `unknown field "video"`},
		badCase{http.MethodPatch, roomPath, jsonBody(`{"access":"secret"}`), 400, "invalid", "public, trusted or restricted"},
		badCase{http.MethodPatch, roomPath, jsonBody(`{"max_participants":-1}`), 400, "invalid", "max_participants"},
		badCase{http.MethodPatch, roomPath, jsonBody(`{"max_participants":100001}`), 400, "invalid", "max_participants"},
		badCase{http.MethodPatch, roomPath, jsonBody(`{"name":"` + strings.Repeat("é", 101) + `"}`), 400, "invalid", "100 characters"},
		badCase{http.MethodPatch, roomPath, jsonBody(`{"name":"bell\u0007"}`), 400, "invalid", "control characters"},
		badCase{http.MethodPatch, roomPath, nil, 400, "bad_request", "needs a JSON body"},
		badCase{http.MethodPost, "/api/v1/rooms", jsonBody(`{"access":"open"}`), 400, "invalid", "access level"},
		badCase{http.MethodPost, roomPath + "/members", jsonBody(`{"email":"` + me.Email + `","role":"king"}`), 400, "invalid", "member, administrator or owner"},
		badCase{http.MethodPost, roomPath + "/members", jsonBody(`{"email":"nobody@example.org","role":"member"}`), 404, "not_found", "signed in"},
		badCase{http.MethodPost, roomPath + "/members", jsonBody(`{"email":["x"],"role":"member"}`), 400, "bad_request", "wrong type"},
		badCase{http.MethodPut, roomPath + "/members/" + me.ID, jsonBody(`{"role":""}`), 400, "invalid", "role"},
		badCase{http.MethodPut, roomPath + "/members/usr_nobody", jsonBody(`{"role":"member"}`), 404, "not_found", "no such user"},
		badCase{http.MethodDelete, roomPath + "/members/usr_nobody", nil, 404, "not_found", "not a member"},
		badCase{http.MethodPost, "/api/v1/tokens", jsonBody(`{"name":"","scopes":["rooms:read"]}`), 400, "invalid", "name the token"},
		badCase{http.MethodPost, "/api/v1/tokens", jsonBody(`{"name":"x","scopes":[]}`), 400, "invalid", "at least one scope"},
		badCase{http.MethodPost, "/api/v1/tokens", jsonBody(`{"name":"x","scopes":["admin"]}`), 400, "invalid", "unknown scope"},
		badCase{http.MethodPost, "/api/v1/tokens", jsonBody(`{"name":"x","scopes":["rooms:read"],"expires_in_days":-1}`), 400, "invalid", "expires_in_days"},
		badCase{http.MethodPost, "/api/v1/tokens", jsonBody(`{"name":"x","scopes":["rooms:read"],"expires_in_days":3651}`), 400, "invalid", "expires_in_days"},
		badCase{http.MethodPost, "/api/v1/tokens", jsonBody(`{"name":"x","scopes":["rooms:read"],"expires_in_days":"7"}`), 400, "bad_request", "expires_in_days"},
		badCase{http.MethodDelete, "/api/v1/tokens/tok_nothing", nil, 404, "not_found", "no token"},
		badCase{http.MethodGet, "/api/v1/nothing", nil, 404, "not_found", "openapi.json"},
	)
	// Bad and unknown room codes, on every room endpoint.
	for _, sub := range []struct{ method, path string }{
		{http.MethodGet, ""}, {http.MethodPatch, ""}, {http.MethodDelete, ""},
		{http.MethodGet, "/members"}, {http.MethodPost, "/members"},
		{http.MethodPut, "/members/" + me.ID}, {http.MethodDelete, "/members/" + me.ID},
		{http.MethodPost, "/join"}, {http.MethodGet, "/meeting"}, {http.MethodDelete, "/meeting"},
	} {
		body := jsonBody(`{"role":"member"}`)
		if sub.path == "/join" {
			body = jsonBody(`{"name":"Alix"}`)
		}
		for _, bad := range []string{"not-a-code", "abc-defg-hi", url.PathEscape("<script>")} {
			cases = append(cases, badCase{sub.method, "/api/v1/rooms/" + bad + sub.path, body, 400, "bad_room", "not a room code"})
		}
		cases = append(cases, badCase{sub.method, "/api/v1/rooms/" + string(room.NewCode()) + sub.path, body, 404, "not_found", "no room"})
	}

	for _, c := range cases {
		r := srv.apiCall(t, browser(dwho), c.method, c.path, c.body)
		what := fmt.Sprintf("%s %.60s %.60v", c.method, c.path, c.body)
		if r.status >= 500 {
			t.Errorf("%s: %d %s", what, r.status, r.body)
			continue
		}
		if r.status != c.status {
			t.Errorf("%s: %d, want %d: %s", what, r.status, c.status, r.body)
			continue
		}
		e := r.problem(t)
		if e.Error != c.code || !strings.Contains(e.Message, c.says) {
			t.Errorf("%s: %+v, want %s saying %q", what, e, c.code, c.says)
		}
	}
	// A malformed Authorization header is refused, not ignored for the
	// browser's cookie.
	req, _ := http.NewRequest(http.MethodGet, srv.url+"/api/v1/rooms", nil)
	req.Header.Set("Authorization", "Basic ZHdobzpkd2hv")
	if res, err := dwho.http.Do(req); err != nil {
		t.Fatal(err)
	} else {
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("Authorization: Basic: %d", res.StatusCode)
		}
	}

	// Nothing changed.
	if now := srv.mustRoom(t, code); now.Name != rm.Name || now.Settings != rm.Settings {
		t.Fatalf("the room changed: %+v", now)
	}
	if now := srv.members(t, rm); !maps.Equal(now, members) {
		t.Fatalf("the members changed: %v", now)
	}
	if now, err := srv.store.APITokens(ctx, dwhoID); err != nil || len(now) != len(tokens) {
		t.Fatalf("tokens were made: %d %v", len(now), err)
	}
	if recent, err := srv.store.RecentRooms(ctx, dwhoID, 20); err != nil || len(recent) != 1 {
		t.Fatalf("rooms were made: %+v %v", recent, err)
	}
	stillThere(t, ctx, live)
}

// ---- API tokens ----

// TestAPITokensExpireAndAreRevoked: expires_in_days sets the expiry; a
// token past it, or revoked, is refused, and the expired one stays listed
// for its owner to delete.
func TestAPITokensExpireAndAreRevoked(t *testing.T) {
	srv := signInServer(t)
	ctx := testContext(t)
	dwho := srv.signedIn(t, "dwho")
	dwhoID := store.UserID(srv.me(t, dwho).ID)
	before := time.Now()
	r := srv.apiCall(t, browser(dwho), http.MethodPost, "/api/v1/tokens", map[string]any{"name": "Agenda", "scopes": []string{"rooms:read"}, "expires_in_days": 7})
	var tok struct {
		ID, Secret string
		ExpiresAt  time.Time `json:"expires_at"`
	}
	if r.status != http.StatusCreated {
		t.Fatalf("%d %s", r.status, r.body)
	}
	r.decode(t, &tok)
	if want := before.Add(7 * 24 * time.Hour); tok.ExpiresAt.Before(want.Add(-time.Second)) || tok.ExpiresAt.After(time.Now().Add(7*24*time.Hour+time.Second)) {
		t.Fatalf("expires at %v, want about %v", tok.ExpiresAt, want)
	}
	stored, err := srv.store.APITokens(ctx, dwhoID)
	if err != nil || len(stored) != 1 || !stored[0].ExpiresAt.Equal(tok.ExpiresAt) {
		t.Fatalf("stored %+v %v", stored, err)
	}
	if r := srv.apiCall(t, bearer(tok.Secret), http.MethodGet, "/api/v1/rooms", nil); r.status != http.StatusOK {
		t.Fatalf("a fresh token: %d", r.status)
	}

	// Seven days cannot be waited for: the same token, as it is seven
	// days on, is stored directly.
	expired, secret := srv.storedToken(t, dwhoID, time.Now().Add(-time.Minute), "rooms:read")
	r = srv.apiCall(t, bearer(secret), http.MethodGet, "/api/v1/rooms", nil)
	if r.status != http.StatusUnauthorized || r.problem(t).Error != "invalid_token" {
		t.Fatalf("an expired token: %d %s", r.status, r.body)
	}
	var list struct {
		Tokens []struct{ ID string }
	}
	srv.apiCall(t, browser(dwho), http.MethodGet, "/api/v1/tokens", nil).decode(t, &list)
	if !slices.ContainsFunc(list.Tokens, func(x struct{ ID string }) bool { return x.ID == string(expired.ID) }) {
		t.Fatal("the expired token is not listed")
	}
	if r := srv.apiCall(t, browser(dwho), http.MethodDelete, "/api/v1/tokens/"+tok.ID, nil); r.status != http.StatusNoContent {
		t.Fatalf("revoking: %d", r.status)
	}
	if r := srv.apiCall(t, bearer(tok.Secret), http.MethodGet, "/api/v1/rooms", nil); r.status != http.StatusUnauthorized {
		t.Fatalf("a revoked token: %d", r.status)
	}
	if r := srv.apiCall(t, browser(dwho), http.MethodDelete, "/api/v1/tokens/"+tok.ID, nil); r.status != http.StatusNotFound {
		t.Fatalf("revoking twice: %d", r.status)
	}
}

// ---- secrets and logs ----

// syncBuffer is a log destination that the server's goroutines share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSecretsNeverReachTheLogs: through sign-in, tokens made, used, forged
// and revoked, joins and refused joins, the server logs (at debug level)
// none of the secrets involved: session cookies, API token secrets, join
// tokens, the configured secrets.
func TestSecretsNeverReachTheLogs(t *testing.T) {
	const joinSecret = "the join token secret of this test server"
	var logs syncBuffer
	srv := startServerLogging(t, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})), withSignIn(t), func(c *config.Config, _ *Options) { c.Tokens.Secret = joinSecret })
	ctx := testContext(t)
	dwho, rtyler := srv.signedIn(t, "dwho"), srv.signedIn(t, "rtyler")
	secrets := map[string]string{
		"the OIDC client secret":  "visio-secret",
		"the cookie secret":       "a test secret of at least thirty-two bytes",
		"the join token secret":   joinSecret,
		"dwho's session cookie":   cookieOf(t, srv, dwho, identity.SessionCookie),
		"rtyler's session cookie": cookieOf(t, srv, rtyler, identity.SessionCookie),
	}
	code := room.Code(dwho.newRoom("trusted"))
	_, secret := srv.newToken(t, dwho, allScopes...)
	secrets["an API token"] = secret
	for _, req := range []struct{ method, path string }{
		{http.MethodGet, "/api/v1/rooms"}, {http.MethodGet, "/api/v1/rooms/" + string(code) + "/members"},
		{http.MethodPatch, "/api/v1/rooms/" + string(code)}, {http.MethodDelete, "/api/v1/tokens/tok_x"},
	} {
		srv.apiCall(t, bearer(secret), req.method, req.path, map[string]string{"name": "Salle"})
	}
	forged := "visio_" + rand.Text() + rand.Text()
	secrets["a forged API token"] = forged
	srv.apiCall(t, bearer(forged), http.MethodGet, "/api/v1/rooms", nil)
	revokedID, revoked := srv.newToken(t, dwho, "rooms:read")
	secrets["a revoked API token"] = revoked
	srv.apiCall(t, browser(dwho), http.MethodDelete, "/api/v1/tokens/"+revokedID, nil)
	srv.apiCall(t, bearer(revoked), http.MethodGet, "/api/v1/rooms", nil)

	// Joins: the owner's, a guest's who waits and is let in, a refused one.
	host := srv.joinWithToken(t, ctx, dwho, code, "Doctor")
	secrets["the owner's join token"] = host.token
	visitor := srv.guest(t, "Camille")
	g := srv.joinWithToken(t, ctx, visitor, code, "Camille")
	secrets["a guest's join token"] = g.token
	secrets["a guest's cookie"] = cookieOf(t, srv, visitor, identity.GuestCookie)
	waitState(t, ctx, host.c, "the host sees the guest", func(s client.State) bool { return len(s.Lobby) == 1 })
	if err := host.c.Admit(ctx, host.c.State().Lobby[0].ID); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, g.c, "the guest enters", func(s client.State) bool { return s.Self.ID != "" })
	other, err := client.RequestJoin(ctx, client.Options{URL: srv.url, Room: dwho.newRoom("public"), Name: "x", Cookies: rtyler.jar})
	if err != nil {
		t.Fatal(err)
	}
	secrets["a join token used for another room"] = other.Token
	sendExpectingError(t, ctx, g.c, mustEncode(t, &protocol.Join{Room: string(code), Name: "x", Token: other.Token}), protocol.CodeAlreadyJoined)
	stranger, err := client.Connect(ctx, client.Options{URL: srv.url, Name: "Mallory"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stranger.Kill)
	sendExpectingError(t, ctx, stranger, mustEncode(t, &protocol.Join{Room: string(code), Name: "x", Token: other.Token}), protocol.CodeBadToken)
	if err := host.c.Moderate(ctx, protocol.Moderate{Action: protocol.ActionEnd}); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, g.c, "the meeting ends", func(s client.State) bool { return s.Closed })
	// Signing out revokes the session.
	out := browser(rtyler)
	out.header = http.Header{"Origin": {srv.url}}
	if r := srv.apiCall(t, out, http.MethodPost, "/auth/logout", nil); r.status != http.StatusSeeOther {
		t.Fatalf("sign-out: %d %s", r.status, r.body)
	}
	var me meAnswer
	if srv.apiCall(t, who{header: http.Header{"Cookie": {identity.SessionCookie + "=" + secrets["rtyler's session cookie"]}}},
		http.MethodGet, "/api/v1/me", nil).decode(t, &me); me.SignedIn {
		t.Fatal("the session is still valid after signing out")
	}

	log := logs.String()
	for _, want := range []string{"API token created", "room created", "participant joined", "admitted from the lobby"} {
		if !strings.Contains(log, want) {
			t.Fatalf("the log lacks %q: it was not captured:\n%s", want, log)
		}
	}
	for what, s := range secrets {
		if s == "" {
			t.Fatalf("no %s to look for", what)
		}
		if strings.Contains(log, s) {
			t.Errorf("%s is in the log", what)
		}
		if parts := strings.Split(s, "."); len(parts) == 3 && strings.Contains(log, parts[2]) {
			t.Errorf("the signature of %s is in the log", what)
		}
	}
	if t.Failed() {
		t.Logf("log:\n%s", log)
	}
}

func cookieOf(t *testing.T, srv *testServer, p *person, name string) string {
	t.Helper()
	u, _ := url.Parse(srv.url)
	for _, c := range p.jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	t.Fatalf("%s has no %s cookie", p.name, name)
	return ""
}

func mustEncode(t *testing.T, m protocol.Message) string {
	t.Helper()
	b, err := protocol.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type joined struct {
	c     *client.Client
	token string
}

// joinWithToken joins as p does, keeping the join token to look for.
func (s *testServer) joinWithToken(t *testing.T, ctx context.Context, p *person, code room.Code, name string) joined {
	t.Helper()
	opts := client.Options{URL: s.url, Room: string(code), Name: name, Cookies: p.jar}
	grant, err := client.RequestJoin(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Connect(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Kill)
	if err := c.SendMessage(ctx, &protocol.Join{Room: string(code), Name: name, Token: grant.Token}); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, c, name+" joins", func(s client.State) bool { return s.Self.ID != "" || s.Waiting })
	return joined{c: c, token: grant.Token}
}

func TestARoomKeepsAnOwner(t *testing.T) {
	srv := signInServer(t)
	dwho, msmith := srv.signedIn(t, "dwho"), srv.signedIn(t, "msmith")
	dwhoID, msmithID := store.UserID(srv.me(t, dwho).ID), store.UserID(srv.me(t, msmith).ID)
	code := room.Code(dwho.newRoom("trusted"))
	base := "/api/v1/rooms/" + string(code) + "/members/"
	for _, try := range []struct {
		method string
		body   any
	}{{http.MethodPut, map[string]string{"role": "administrator"}}, {http.MethodDelete, nil}} {
		r := srv.apiCall(t, browser(dwho), try.method, base+string(dwhoID), try.body)
		if r.status != http.StatusConflict || r.problem(t).Error != "last_owner" {
			t.Fatalf("the last owner's %s of themselves: %d %s", try.method, r.status, r.body)
		}
	}
	// With a second owner, the first may step down.
	srv.give(t, dwho, code, msmithID, room.Owner)
	if r := srv.apiCall(t, browser(dwho), http.MethodDelete, base+string(dwhoID), nil); r.status != http.StatusNoContent {
		t.Fatalf("an owner stepping down beside another: %d %s", r.status, r.body)
	}
	if got := srv.members(t, srv.mustRoom(t, code)); !maps.Equal(got, map[store.UserID]room.Role{msmithID: room.Owner}) {
		t.Fatalf("members %v", got)
	}
}

// A host demoted through the REST API stops being one in the live meeting at
// once, and nobody gives themselves a role over the WebSocket.
func TestADemotionReachesTheLiveMeeting(t *testing.T) {
	srv := signInServer(t)
	ctx := testContext(t)
	dwho, rtyler := srv.signedIn(t, "dwho"), srv.signedIn(t, "rtyler")
	rtylerID := store.UserID(srv.me(t, rtyler).ID)
	code := room.Code(dwho.newRoom("public"))
	srv.give(t, dwho, code, rtylerID, room.Administrator)
	host := dwho.join(ctx, string(code))
	rose := rtyler.join(ctx, string(code))
	if rose.State().Self.Role != "administrator" {
		t.Fatalf("Rose joined as %q", rose.State().Self.Role)
	}

	srv.give(t, dwho, code, rtylerID, room.Member)
	waitState(t, ctx, rose, "Rose is told she is a member now", func(s client.State) bool { return s.Self.Role == "member" })
	waitState(t, ctx, host, "everyone sees it", func(s client.State) bool { return s.Others[rose.ID()].Role == "member" })
	for _, m := range []protocol.Message{
		&protocol.Moderate{Action: protocol.ActionMuteAll},
		&protocol.Moderate{Action: protocol.ActionRole, Participant: rose.ID(), Role: "administrator"},
	} {
		before := len(rose.State().Errors)
		if err := rose.SendMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
		waitState(t, ctx, rose, "a demoted host's "+m.MessageType()+" is refused", func(s client.State) bool {
			return len(s.Errors) > before && s.Errors[len(s.Errors)-1].Code == protocol.CodeForbidden
		})
	}
	// Nor does a host change their own role.
	if err := host.Moderate(ctx, protocol.Moderate{Action: protocol.ActionRole, Participant: host.ID(), Role: "member"}); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, host, "a host's change of their own role is refused", func(s client.State) bool {
		return len(s.Errors) == 1 && s.Errors[0].Code == protocol.CodeForbidden
	})
	if got := srv.members(t, srv.mustRoom(t, code))[rtylerID]; got != room.Member {
		t.Fatalf("Rose's stored role is %q", got)
	}
}
