package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"slices"
	"testing"
	"time"

	"github.com/visio-meet/visio/internal/client"
	"github.com/visio-meet/visio/internal/config"
	"github.com/visio-meet/visio/internal/identity/oidctest"
	"github.com/visio-meet/visio/internal/protocol"
)

// signInServer is a server whose users sign in through a real OpenID
// Connect provider (LemonLDAP::NG, with its demo users dwho, rtyler and
// msmith).
func signInServer(t *testing.T) *testServer {
	t.Helper()
	port := freeTCPPort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	op := oidctest.StartLemonLDAP(t, []string{base + "/auth/callback"}, base+"/")
	return startServer(t, func(c *config.Config, _ *Options) {
		c.HTTP.Addr = fmt.Sprintf("127.0.0.1:%d", port)
		c.Rooms.AllowUnregistered = false
		c.Auth.Issuer, c.Auth.ClientID, c.Auth.ClientSecret = op.Issuer, "visio", "visio-secret"
		c.Auth.RedirectURL = base + "/auth/callback"
		c.Auth.Secret = "a test secret of at least thirty-two bytes"
	})
}

// person is someone with a browser's cookie jar: signed in, or a guest.
type person struct {
	t    testing.TB
	srv  *testServer
	name string
	jar  http.CookieJar
	http *http.Client
}

func (s *testServer) guest(t testing.TB, name string) *person {
	jar, _ := cookiejar.New(nil)
	return &person{t: t, srv: s, name: name, jar: jar, http: &http.Client{Jar: jar, Timeout: 20 * time.Second}}
}

// signedIn signs user in at the provider (password = login).
func (s *testServer) signedIn(t *testing.T, user string) *person {
	p := s.guest(t, user)
	res, _ := oidctest.SignIn(t, p.http, s.url+"/auth/login?next=/", user, user)
	if res.Request.URL.String() != s.url+"/" {
		t.Fatalf("%s's sign-in ended at %s", user, res.Request.URL)
	}
	return p
}

// call makes an API request and decodes the JSON answer into out.
func (p *person) call(method, path string, body, out any) int {
	p.t.Helper()
	var rd bytes.Buffer
	if body != nil {
		_ = json.NewEncoder(&rd).Encode(body)
	}
	req, _ := http.NewRequest(method, p.srv.url+path, &rd)
	req.Header.Set("Content-Type", "application/json")
	res, err := p.http.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer res.Body.Close()
	if out != nil {
		_ = json.NewDecoder(res.Body).Decode(out)
	}
	return res.StatusCode
}

type roomAnswer struct {
	Code, Access, Role string
}

// newRoom creates a room with the given access level.
func (p *person) newRoom(access string) string {
	p.t.Helper()
	var r roomAnswer
	if status := p.call(http.MethodPost, "/api/v1/rooms", map[string]string{"access": access, "name": "Réunion de " + p.name}, &r); status != http.StatusCreated {
		p.t.Fatalf("%s cannot create a room: %d", p.name, status)
	}
	return r.Code
}

// join enters code's meeting (or its lobby) as this person.
func (p *person) join(ctx context.Context, code string, sources ...protocol.Source) *client.Client {
	p.t.Helper()
	return p.srv.joinWith(p.t, ctx, client.Options{Room: code, Name: p.name, Cookies: p.jar}, sources...)
}

func waitState(t testing.TB, ctx context.Context, c *client.Client, what string, cond func(client.State) bool) {
	t.Helper()
	if err := c.WaitFor(ctx, cond); err != nil {
		t.Fatalf("%s: %v (state: waiting=%v lobby=%v bye=%q errors=%v)", what, err, c.State().Waiting, c.State().Lobby, c.State().Bye, c.State().Errors)
	}
}

func TestAGuestKnocksOnATrustedRoomAndTheHostLetsThemIn(t *testing.T) {
	srv := signInServer(t)
	ctx := testContext(t)
	owner := srv.signedIn(t, "dwho")
	code := owner.newRoom("trusted")

	host := owner.join(ctx, code, mic, camera)
	if s := host.State(); s.Self.Name != "Doctor Who" || s.Self.Role != "owner" || !s.Self.SignedIn {
		t.Fatalf("the owner entered as %+v", s.Self)
	}

	// A guest waits; the host is told at once, with a knock.
	guest := srv.guest(t, "Camille (invitée)").join(ctx, code)
	waitState(t, ctx, guest, "the guest waits in the lobby", func(s client.State) bool { return s.Waiting })
	waitState(t, ctx, host, "the host sees the guest knock", func(s client.State) bool {
		return s.Knocks == 1 && len(s.Lobby) == 1 && s.Lobby[0].Name == "Camille (invitée)" && !s.Lobby[0].SignedIn
	})
	if _, ok := host.State().Others[guest.ID()]; ok {
		t.Fatal("a waiting guest is shown in the meeting")
	}
	// A waiting guest can do nothing in the meeting.
	if err := guest.SendMessage(ctx, &protocol.Publish{Tracks: []protocol.TrackDeclaration{}}); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, guest, "a waiting guest cannot publish", func(s client.State) bool {
		return len(s.Errors) == 1 && s.Errors[0].Code == protocol.CodeForbidden
	})

	if err := host.Admit(ctx, host.State().Lobby[0].ID); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, guest, "the admitted guest enters", func(s client.State) bool { return !s.Waiting && s.Self.ID != "" })
	if err := guest.Publish(ctx, mic); err != nil {
		t.Fatal(err)
	}
	receiving(t, ctx, guest, host, 20, mic, camera)
	receiving(t, ctx, host, guest, 20, mic)
	waitState(t, ctx, host, "the lobby empties", func(s client.State) bool { return len(s.Lobby) == 0 })
}

func TestADeniedGuestIsToldWhy(t *testing.T) {
	srv := signInServer(t)
	ctx := testContext(t)
	owner := srv.signedIn(t, "dwho")
	code := owner.newRoom("trusted")
	host := owner.join(ctx, code)
	guest := srv.guest(t, "Intrus").join(ctx, code)
	waitState(t, ctx, host, "the host sees the guest", func(s client.State) bool { return len(s.Lobby) == 1 })
	if err := host.Deny(ctx, host.State().Lobby[0].ID); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, guest, "the guest is sent away", func(s client.State) bool { return s.Bye == protocol.ReasonDenied })
}

func TestRestrictedRoomsLetOnlyMembersIn(t *testing.T) {
	srv := signInServer(t)
	ctx := testContext(t)
	owner := srv.signedIn(t, "dwho")
	code := owner.newRoom("restricted")
	host := owner.join(ctx, code)

	// Rose has signed in but is not a member: she waits.
	rose := srv.signedIn(t, "rtyler")
	waiting := rose.join(ctx, code)
	waitState(t, ctx, waiting, "a signed-in non-member waits", func(s client.State) bool { return s.Waiting })
	waitState(t, ctx, host, "the host sees her, signed in", func(s client.State) bool {
		return len(s.Lobby) == 1 && s.Lobby[0].Name == "Rose Tyler" && s.Lobby[0].SignedIn
	})
	waiting.Kill()
	waitState(t, ctx, host, "the lobby empties when she gives up", func(s client.State) bool { return len(s.Lobby) == 0 })

	// Made a member by e-mail, she enters straight away.
	if status := owner.call(http.MethodPost, "/api/v1/rooms/"+code+"/members", map[string]string{"email": "rtyler@badwolf.org", "role": "member"}, nil); status != http.StatusOK {
		t.Fatalf("adding a member: %d", status)
	}
	member := rose.join(ctx, code)
	if s := member.State(); s.Waiting || s.Self.Role != "member" {
		t.Fatalf("a member: %+v", s.Self)
	}
}

func TestARemovedAndBannedUserCannotComeBack(t *testing.T) {
	srv := signInServer(t)
	ctx := testContext(t)
	owner := srv.signedIn(t, "dwho")
	code := owner.newRoom("public")
	host := owner.join(ctx, code)
	rose := srv.signedIn(t, "rtyler")
	// A join token asked for before the ban, used after it.
	early, err := client.RequestJoin(ctx, client.Options{URL: srv.url, Room: code, Name: "x", Cookies: rose.jar})
	if err != nil {
		t.Fatal(err)
	}
	inside := rose.join(ctx, code, mic)
	waitState(t, ctx, host, "the host sees Rose", func(s client.State) bool { return len(s.Others) == 1 })

	if err := host.Moderate(ctx, protocol.Moderate{Action: protocol.ActionRemove, Participant: inside.ID(), Ban: true}); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, inside, "Rose is removed and told she is banned", func(s client.State) bool { return s.Bye == protocol.ReasonBanned })
	waitState(t, ctx, host, "the host sees her leave", func(s client.State) bool { return len(s.Others) == 0 })

	var refusal struct{ Error, Message string }
	if status := rose.call(http.MethodPost, "/api/v1/rooms/"+code+"/join", map[string]string{}, &refusal); status != http.StatusForbidden || refusal.Error != "banned" {
		t.Fatalf("a banned user asking to join again: %d %+v", status, refusal)
	}
	c, err := client.Connect(ctx, client.Options{URL: srv.url, Name: "Rose"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Kill)
	if err := c.SendMessage(ctx, &protocol.Join{Room: code, Name: "Rose", Token: early.Token}); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, c, "a token from before the ban is refused", func(s client.State) bool {
		return slices.ContainsFunc(s.Errors, func(e protocol.Error) bool { return e.Code == protocol.CodeBanned })
	})
}

func TestMuteAllMutesEveryMicrophoneButTheHosts(t *testing.T) {
	srv := signInServer(t)
	ctx := testContext(t)
	owner := srv.signedIn(t, "dwho")
	code := owner.newRoom("public")
	host := owner.join(ctx, code, mic)
	a := srv.guest(t, "Alix").join(ctx, code, mic)
	b := srv.signedIn(t, "msmith").join(ctx, code, mic)
	receiving(t, ctx, host, a, 10, mic)
	receiving(t, ctx, host, b, 10, mic)

	if err := host.Moderate(ctx, protocol.Moderate{Action: protocol.ActionMuteAll}); err != nil {
		t.Fatal(err)
	}
	muted := func(p protocol.Participant) bool {
		return slices.ContainsFunc(p.Tracks, func(tr protocol.Track) bool { return tr.Source == mic && tr.Muted })
	}
	for _, c := range []*client.Client{a, b} {
		id := c.ID()
		waitState(t, ctx, host, "everyone sees the microphone muted", func(s client.State) bool { return muted(s.Others[id]) })
		waitState(t, ctx, c, "the participant is told who muted them", func(s client.State) bool {
			return len(s.Moderated) == 1 && s.Moderated[0].Action == protocol.ActionMute && s.Moderated[0].By == "Doctor Who"
		})
	}
	if muted(host.State().Self) {
		t.Fatal("the host's own microphone was muted")
	}
}

// Guests, signed-in non-members and members may not act as hosts: every
// host action gets forbidden, and the meeting does not change.
func TestOnlyHostsModerate(t *testing.T) {
	srv := signInServer(t)
	ctx := testContext(t)
	owner := srv.signedIn(t, "dwho")
	code := owner.newRoom("public")
	host := owner.join(ctx, code, mic)
	guest := srv.guest(t, "Alix").join(ctx, code, mic)
	nonMember := srv.signedIn(t, "msmith").join(ctx, code, mic)
	rose := srv.signedIn(t, "rtyler")
	if status := owner.call(http.MethodPost, "/api/v1/rooms/"+code+"/members", map[string]string{"email": "rtyler@badwolf.org", "role": "member"}, nil); status != http.StatusOK {
		t.Fatalf("adding a member: %d", status)
	}
	member := rose.join(ctx, code, mic)
	for _, c := range []*client.Client{guest, nonMember, member} {
		for _, m := range []protocol.Message{
			&protocol.Moderate{Action: protocol.ActionMuteAll},
			&protocol.Moderate{Action: protocol.ActionRemove, Participant: host.ID()},
			&protocol.Moderate{Action: protocol.ActionEnd},
			&protocol.AdmitAll{},
			&protocol.Admit{Participant: "pnobody"},
			&protocol.Deny{Participant: "pnobody"},
			&protocol.Moderate{Action: protocol.ActionMute, Participant: host.ID(), Source: mic},
			&protocol.Moderate{Action: protocol.ActionStop, Participant: host.ID(), Source: camera},
			&protocol.Moderate{Action: protocol.ActionPin, Participant: host.ID()},
			&protocol.Moderate{Action: protocol.ActionRole, Participant: host.ID(), Role: "member"},
			&protocol.Moderate{Action: protocol.ActionHand},
			&protocol.RoomSettings{},
		} {
			before := len(c.State().Errors)
			if err := c.SendMessage(ctx, m); err != nil {
				t.Fatal(err)
			}
			waitState(t, ctx, c, fmt.Sprintf("%s is refused", m.MessageType()), func(s client.State) bool {
				return len(s.Errors) > before && s.Errors[len(s.Errors)-1].Code == protocol.CodeForbidden
			})
		}
	}
	if len(host.State().Others) != 3 || host.State().Bye != "" {
		t.Fatal("a refused action changed the meeting")
	}
}

func TestHandsAreShownInOrderAndHostsLowerThem(t *testing.T) {
	srv := signInServer(t)
	ctx := testContext(t)
	owner := srv.signedIn(t, "dwho")
	code := owner.newRoom("public")
	host := owner.join(ctx, code)
	alix := srv.guest(t, "Alix").join(ctx, code)
	bea := srv.guest(t, "Béa").join(ctx, code)
	raisedAt := func(s client.State, c *client.Client) int64 { return s.Others[c.ID()].HandRaisedAt }

	for _, c := range []*client.Client{bea, alix} { // Béa first
		if err := c.RaiseHand(ctx, true); err != nil {
			t.Fatal(err)
		}
		waitState(t, ctx, host, "the host sees the hand", func(s client.State) bool { return raisedAt(s, c) != 0 })
	}
	if s := host.State(); raisedAt(s, bea) > raisedAt(s, alix) {
		t.Fatalf("Béa raised her hand first, yet her time is later: %d > %d", raisedAt(s, bea), raisedAt(s, alix))
	}
	// Raising it again keeps one's place.
	first := raisedAt(host.State(), bea)
	if err := bea.RaiseHand(ctx, true); err != nil {
		t.Fatal(err)
	}
	// A participant lowers only their own; a host lowers anyone's.
	if err := alix.Moderate(ctx, protocol.Moderate{Action: protocol.ActionHand, Participant: bea.ID()}); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, alix, "a participant may not lower another's hand", func(s client.State) bool {
		return len(s.Errors) == 1 && s.Errors[0].Code == protocol.CodeForbidden
	})
	if got := raisedAt(host.State(), bea); got != first {
		t.Fatalf("Béa's hand moved: %d, was %d", got, first)
	}
	if err := host.Moderate(ctx, protocol.Moderate{Action: protocol.ActionHand, Participant: bea.ID()}); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, host, "Béa's hand is lowered", func(s client.State) bool { return raisedAt(s, bea) == 0 && raisedAt(s, alix) != 0 })
	waitState(t, ctx, bea, "Béa is told who lowered it", func(s client.State) bool {
		return len(s.Moderated) == 1 && s.Moderated[0].Action == protocol.ActionHand && s.Moderated[0].By == "Doctor Who"
	})
	// Lowering every hand.
	if err := host.Moderate(ctx, protocol.Moderate{Action: protocol.ActionHand}); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, host, "every hand is down", func(s client.State) bool { return raisedAt(s, alix) == 0 })
}
