package meeting

import (
	"fmt"
	"strings"
	"testing"

	"github.com/visio-meet/visio/internal/protocol"
)

func TestChatHistoryKeepsTheLatestMessagesInOrder(t *testing.T) {
	var l chatLog
	for i := range historyMessages + 20 {
		msg := l.add(protocol.Chat{From: "p1", Name: "Alice", Text: fmt.Sprint("message ", i+1)}, "")
		if msg.ID != uint64(i+1) {
			t.Fatalf("message %d got id %d", i+1, msg.ID)
		}
	}
	if len(l.entries) != historyMessages {
		t.Fatalf("%d messages kept, want the last %d", len(l.entries), historyMessages)
	}
	for i, e := range l.entries {
		if want := uint64(21 + i); e.msg.ID != want || e.msg.Text != fmt.Sprint("message ", want) {
			t.Fatalf("entry %d is %+v, want message %d", i, e.msg, want)
		}
	}
	if l.find(20) != nil || l.find(21) == nil || l.find(520).msg.Text != "message 520" || l.find(521) != nil {
		t.Fatal("find does not find the kept messages, and only them")
	}
}

func TestChatHistoryIsBoundedInText(t *testing.T) {
	var l chatLog
	long := strings.Repeat("é", protocol.MaxChatRunes) // 8,000 bytes
	for range 300 {
		l.add(protocol.Chat{Text: long}, "")
	}
	if l.textBytes > historyTextBytes || l.textBytes != len(l.entries)*len(long) {
		t.Fatalf("%d bytes of text kept in %d messages, the bound is %d", l.textBytes, len(l.entries), historyTextBytes)
	}
	if want := historyTextBytes / len(long); len(l.entries) != want {
		t.Fatalf("%d messages kept, want %d", len(l.entries), want)
	}
	if last := l.entries[len(l.entries)-1].msg.ID; last != 300 {
		t.Fatalf("the latest message kept is %d", last)
	}
	fileID := l.erase(l.find(300))
	if fileID != "" || l.textBytes != (len(l.entries)-1)*len(long) || !l.find(300).msg.Deleted || l.find(300).msg.Text != "" {
		t.Fatalf("erasing a message: %+v, %d bytes", l.find(300).msg, l.textBytes)
	}
}

func TestChatClientIDsGoToTheSenderOnly(t *testing.T) {
	var l chatLog
	sent := l.add(protocol.Chat{From: "p1", Text: "hi", ClientID: "ignored"}, "c1")
	if sent.ClientID != "" {
		t.Fatal("the message for everyone carries the client id")
	}
	e := l.find(sent.ID)
	if got := e.forRecipient("p1"); got.ClientID != "c1" {
		t.Fatalf("the sender gets %q", got.ClientID)
	}
	if got := e.forRecipient("p2"); got.ClientID != "" {
		t.Fatalf("another participant gets %q", got.ClientID)
	}
}

func TestChatRemembersAParticipantsLatestClientIDs(t *testing.T) {
	c := newChatter()
	for i := range rememberedClientIDs + 10 {
		c.remember(fmt.Sprint("c", i), uint64(i+1))
	}
	if len(c.sent) != rememberedClientIDs || len(c.order) != rememberedClientIDs {
		t.Fatalf("%d client ids remembered, want %d", len(c.sent), rememberedClientIDs)
	}
	if _, ok := c.sent["c9"]; ok {
		t.Fatal("an old client id is still remembered")
	}
	if id := c.sent[fmt.Sprint("c", rememberedClientIDs+9)]; id != rememberedClientIDs+10 {
		t.Fatalf("the latest client id maps to message %d", id)
	}
}

func TestReactionsAreLimitedToFiveInFiveSeconds(t *testing.T) {
	c := newChatter()
	allowed := 0
	for range 20 {
		if c.reactions.Allow() {
			allowed++
		}
	}
	if allowed != reactionBurst {
		t.Fatalf("%d reactions in a burst of 20 allowed, want %d", allowed, reactionBurst)
	}
}
