package server

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/visio-meet/visio/internal/client"
	"github.com/visio-meet/visio/internal/config"
	"github.com/visio-meet/visio/internal/protocol"
	"github.com/visio-meet/visio/internal/room"
)

// withChatFiles keeps shared files in dir, with small limits.
func withChatFiles(dir string, maxFile, maxMeeting int64) func(*config.Config, *Options) {
	return func(c *config.Config, o *Options) {
		c.Chat.FilesDir, c.Chat.MaxFileBytes, c.Chat.MaxMeetingBytes = dir, maxFile, maxMeeting
		o.Meeting.ReconnectGrace = 10 * time.Second
	}
}

// texts returns the texts of the messages c has, in order.
func texts(c *client.Client) []string {
	var out []string
	for _, m := range c.State().Chat.Messages {
		out = append(out, m.Text)
	}
	return out
}

// say sends text from c and waits until everyone in others has it.
func say(t *testing.T, ctx context.Context, c *client.Client, text, clientID string, others ...*client.Client) protocol.Chat {
	t.Helper()
	if err := c.SendChat(ctx, protocol.ChatSend{Text: text, ClientID: clientID}); err != nil {
		t.Fatal(err)
	}
	var sent protocol.Chat
	for _, o := range append([]*client.Client{c}, others...) {
		waitState(t, ctx, o, fmt.Sprintf("%q reaches everyone", text), func(s client.State) bool {
			for _, m := range s.Chat.Messages {
				if m.Text == text {
					sent = m
					return true
				}
			}
			return false
		})
	}
	return sent
}

func TestChatReachesEveryoneInOrderAndNothingIsLostOnAReconnection(t *testing.T) {
	srv := startServer(t, withChatFiles(t.TempDir(), 1<<20, 4<<20))
	ctx := testContext(t)
	code := room.NewCode()
	alice := srv.join(t, ctx, code, "Alice")
	bob := srv.join(t, ctx, code, "Bob")

	before := time.Now().UnixMilli()
	say(t, ctx, alice, "Bonjour à tous 👋", "a1", bob)
	say(t, ctx, bob, "Salut Alice !\nJe suis là.", "b1", alice)
	say(t, ctx, alice, "On commence ?", "a2", bob)
	after := time.Now().UnixMilli()

	want := []string{"Bonjour à tous 👋", "Salut Alice !\nJe suis là.", "On commence ?"}
	for _, c := range []*client.Client{alice, bob} {
		msgs := c.State().Chat.Messages
		if got := texts(c); !slices.Equal(got, want) {
			t.Fatalf("%s has %q, want %q", c.State().Self.Name, got, want)
		}
		for i, m := range msgs {
			from, name := alice.ID(), "Alice"
			if i == 1 {
				from, name = bob.ID(), "Bob"
			}
			if m.ID != uint64(i+1) || m.From != from || m.Name != name || m.At < before || m.At > after || m.Deleted || m.File != nil {
				t.Fatalf("message %d as %s has it: %+v", i+1, c.State().Self.Name, m)
			}
			if mine := m.From == c.ID(); mine != (m.ClientID != "") {
				t.Fatalf("%s gets client id %q on message %d from %s: only the sender should", c.State().Self.Name, m.ClientID, m.ID, m.Name)
			}
		}
	}
	if got := alice.State().Chat.Messages[2].ClientID; got != "a2" {
		t.Fatalf("Alice's own message came back with client id %q, not a2", got)
	}

	// Carol comes late, and reads what was said.
	carol := srv.join(t, ctx, code, "Carol")
	waitState(t, ctx, carol, "Carol gets the history", func(s client.State) bool { return s.Chat.Histories == 1 })
	if got := texts(carol); !slices.Equal(got, want) {
		t.Fatalf("Carol's history: %q, want %q", got, want)
	}

	// Bob's network drops while Alice says two more things; his app comes
	// back and has them all, in order, once each.
	bob.DropSignalling()
	say(t, ctx, alice, "Bob ?", "a3", carol)
	say(t, ctx, alice, "Il a dû perdre le réseau.", "a4", carol)
	if err := bob.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	want = append(want, "Bob ?", "Il a dû perdre le réseau.")
	waitState(t, ctx, bob, "Bob has every message after resuming", func(s client.State) bool { return len(s.Chat.Messages) >= len(want) })
	if got := texts(bob); !slices.Equal(got, want) {
		t.Fatalf("Bob has %q after resuming, want %q", got, want)
	}
	for i, m := range bob.State().Chat.Messages {
		if m.ID != uint64(i+1) {
			t.Fatalf("Bob's message %d has id %d", i+1, m.ID)
		}
	}
	if h := bob.State().Chat.Histories; h != 2 {
		t.Fatalf("Bob got %d histories, want one per welcome (2)", h)
	}

	// Alice's app did not see its message confirmed and sends it again:
	// it is not posted twice, and she gets it back as it was.
	before5 := len(alice.State().Chat.Messages)
	if err := alice.SendChat(ctx, protocol.ChatSend{Text: "Il a dû perdre le réseau.", ClientID: "a4"}); err != nil {
		t.Fatal(err)
	}
	next := say(t, ctx, alice, "Reprenons.", "a5", bob, carol)
	if next.ID != 6 || len(alice.State().Chat.Messages) != before5+1 {
		t.Fatalf("the message sent again was posted again: the next one got id %d; Alice has %q", next.ID, texts(alice))
	}
	if got := texts(carol); len(got) != 6 || got[5] != "Reprenons." {
		t.Fatalf("Carol has %q", got)
	}
}

// handled waits until the server has handled every message c sent so far,
// and c has received what the server sent it meanwhile: messages are
// handled, and answered, in order.
func handled(t *testing.T, ctx context.Context, c *client.Client) {
	t.Helper()
	n := len(c.State().Errors)
	if err := c.SendRaw(ctx, []byte(`{"type":"sync"}`)); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, c, "the server answers", func(s client.State) bool {
		return slices.ContainsFunc(s.Errors[n:], func(e protocol.Error) bool {
			return e.Code == protocol.CodeUnknownType && strings.Contains(e.Message, "sync")
		})
	})
}

func TestChatHostsDeleteMessagesAndTheLobbyHearsNothing(t *testing.T) {
	srv := startServer(t, withChatFiles(t.TempDir(), 1<<20, 4<<20))
	ctx := testContext(t)
	owner := srv.guest(t, "Alice")
	code := owner.newRoom("trusted") // guests wait for a host
	alice := owner.join(ctx, code)
	knocking := srv.guest(t, "Bob").join(ctx, code)
	waitState(t, ctx, alice, "Alice sees Bob waiting", func(s client.State) bool { return len(s.Lobby) == 1 })

	say(t, ctx, alice, "Bienvenue", "")
	refused(t, ctx, knocking, &protocol.ChatSend{Text: "je peux entrer ?"}, protocol.CodeForbidden)
	refused(t, ctx, knocking, &protocol.React{Emoji: "🙏"}, protocol.CodeForbidden)
	if err := alice.Admit(ctx, alice.State().Lobby[0].ID); err != nil {
		t.Fatal(err)
	}
	bob := knocking
	waitState(t, ctx, bob, "Bob is let in with the history", func(s client.State) bool { return s.Chat.Histories == 1 && len(s.Chat.Messages) == 1 })
	if st := bob.State(); st.Chat.Messages[0].Text != "Bienvenue" {
		t.Fatalf("Bob's history: %+v", st.Chat.Messages)
	}

	f, err := bob.UploadFile(ctx, "spam.txt", strings.NewReader("achetez maintenant"))
	if err != nil {
		t.Fatal(err)
	}
	if err := bob.SendChat(ctx, protocol.ChatSend{Text: "Promo !", File: f.ID}); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, alice, "Alice gets Bob's message", func(s client.State) bool { return len(s.Chat.Messages) == 2 })
	spam := alice.State().Chat.Messages[1]

	// Bob is no host.
	refused(t, ctx, bob, &protocol.ChatDelete{ID: 1}, protocol.CodeForbidden)
	refused(t, ctx, alice, &protocol.ChatDelete{ID: 99}, protocol.CodeNotFound)

	if err := alice.DeleteChat(ctx, spam.ID); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*client.Client{alice, bob} {
		waitState(t, ctx, c, "everyone is told the message was deleted", func(s client.State) bool {
			return slices.Contains(s.Chat.Deleted, protocol.ChatDeleted{ID: spam.ID, By: "Alice"})
		})
	}
	if res, _ := fetch(t, srv, f.URL); res.StatusCode != http.StatusNotFound {
		t.Fatalf("the file of a deleted message: %d", res.StatusCode)
	}
	late := srv.guest(t, "Carol").join(ctx, code)
	waitState(t, ctx, alice, "Alice sees Carol waiting", func(s client.State) bool { return len(s.Lobby) == 1 })
	if err := alice.Admit(ctx, alice.State().Lobby[0].ID); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, late, "Carol gets the history", func(s client.State) bool { return s.Chat.Histories == 1 })
	history := late.State().Chat.Messages
	if len(history) != 2 || history[0].Text != "Bienvenue" || !history[1].Deleted || history[1].Text != "" || history[1].File != nil {
		t.Fatalf("the history after a deletion: %+v", history)
	}
	// Deleting it again changes nothing.
	if err := alice.DeleteChat(ctx, spam.ID); err != nil {
		t.Fatal(err)
	}
	stillThere(t, ctx, alice)
	if n := len(alice.State().Chat.Deleted); n != 1 {
		t.Fatalf("a second deletion was told again: %d", n)
	}
}

func TestReactionsReachEveryoneAndAFloodIsLimited(t *testing.T) {
	srv := startServer(t)
	ctx := testContext(t)
	code := room.NewCode()
	alice := srv.join(t, ctx, code, "Alice")
	bob := srv.join(t, ctx, code, "Bob")

	if err := alice.React(ctx, "👍"); err != nil {
		t.Fatal(err)
	}
	want := protocol.Reaction{Participant: alice.ID(), Emoji: "👍"}
	for _, c := range []*client.Client{alice, bob} {
		waitState(t, ctx, c, "the reaction reaches everyone", func(s client.State) bool { return slices.Contains(s.Chat.Reactions, want) })
	}
	sendExpectingError(t, ctx, bob, `{"type":"react","emoji":"💩"}`, protocol.CodeInvalid)
	sendExpectingError(t, ctx, bob, `{"type":"react"}`, protocol.CodeInvalid)

	for range 20 {
		if err := bob.React(ctx, "🎉"); err != nil {
			t.Fatal(err)
		}
	}
	handled(t, ctx, bob)   // Bob's reactions are handled,
	handled(t, ctx, alice) // and what they sent Alice has reached her.
	fromBob := 0
	for _, r := range alice.State().Chat.Reactions {
		if r.Participant == bob.ID() {
			fromBob++
		}
	}
	limited := 0
	for _, e := range bob.State().Errors {
		if e.Code == protocol.CodeRateLimited && e.Request == "react" {
			limited++
		}
	}
	if fromBob < 5 || fromBob > 7 || limited != 20-fromBob {
		t.Fatalf("of 20 reactions, Alice saw %d and Bob was told %d were dropped; want about 5 shown", fromBob, limited)
	}
}

func TestBadChatInputGetsClearErrorsAndTheMeetingGoesOn(t *testing.T) {
	srv := startServer(t)
	ctx := testContext(t)
	code := room.NewCode()
	alice := srv.join(t, ctx, code, "Alice")
	bob := srv.join(t, ctx, code, "Bob")

	stranger, err := client.Connect(ctx, client.Options{URL: srv.url, Name: "Stranger"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stranger.Kill)
	sendExpectingError(t, ctx, stranger, `{"type":"chat_send","text":"hello"}`, protocol.CodeNotJoined)

	for _, c := range []struct {
		raw  string
		code protocol.ErrorCode
		says string
	}{
		{`{"type":"chat_send","text":"` + strings.Repeat("a", protocol.MaxChatRunes+1) + `"}`, protocol.CodeInvalid, "4000"},
		{`{"type":"chat_send","text":"bip\u0007"}`, protocol.CodeInvalid, "control"},
		{`{"type":"chat_send","text":"  \n "}`, protocol.CodeInvalid, "empty"},
		{`{"type":"chat_send","text":7}`, protocol.CodeBadJSON, "text"},
		{`{"type":"chat_send","text":"x","file":"f_` + strings.Repeat("a", 26) + `"}`, protocol.CodeInvalid, "upload"},
		{`{"type":"chat_edit","id":1,"text":"x"}`, protocol.CodeUnknownType, "chat_edit"},
		{`{"type":"chat_delete","id":"1"}`, protocol.CodeBadJSON, "id"},
	} {
		sendExpectingError(t, ctx, bob, c.raw, c.code)
		if got := bob.State().Errors; !strings.Contains(got[len(got)-1].Message, c.says) {
			t.Errorf("%.50s: the error %q does not say what is wrong (%s)", c.raw, got[len(got)-1].Message, c.says)
		}
	}
	stillThere(t, ctx, bob)
	if n := len(alice.State().Chat.Messages); n != 0 {
		t.Fatalf("refused messages reached Alice: %d", n)
	}
	say(t, ctx, bob, "Pardon, ça marche maintenant.", "", alice)

	// A flood of messages is cut down, with errors saying so.
	for i := range 40 {
		if err := bob.SendChat(ctx, protocol.ChatSend{Text: fmt.Sprint("flood ", i)}); err != nil {
			t.Fatal(err)
		}
	}
	handled(t, ctx, bob)
	limited := slices.ContainsFunc(bob.State().Errors, func(e protocol.Error) bool {
		return e.Code == protocol.CodeRateLimited && e.Request == "chat_send"
	})
	if n := len(bob.State().Chat.Messages); !limited || n >= 41 {
		t.Fatalf("a flood of 40 messages was not limited: %d posted, rate_limited %v", n, limited)
	}
}
