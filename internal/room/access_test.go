package room

import "testing"

func TestWhoEntersWhichRoom(t *testing.T) {
	guest := Visitor{}
	signedIn := Visitor{SignedIn: true}
	member := Visitor{SignedIn: true, Role: Member}
	admin := Visitor{SignedIn: true, Role: Administrator}
	owner := Visitor{SignedIn: true, Role: Owner}
	banned := Visitor{SignedIn: true, Role: Member, Banned: true}
	want := map[Access]map[string]Entry{
		Public:     {"guest": Enter, "signed-in": Enter, "member": Enter, "administrator": Enter, "owner": Enter, "banned": Refuse},
		Trusted:    {"guest": Wait, "signed-in": Enter, "member": Enter, "administrator": Enter, "owner": Enter, "banned": Refuse},
		Restricted: {"guest": Wait, "signed-in": Wait, "member": Enter, "administrator": Enter, "owner": Enter, "banned": Refuse},
	}
	visitors := map[string]Visitor{"guest": guest, "signed-in": signedIn, "member": member, "administrator": admin, "owner": owner, "banned": banned}
	for access, byName := range want {
		for name, entry := range byName {
			s := Settings{Access: access, Publishing: Everything}
			if got := s.Admit(visitors[name], 0, 100); got.Entry != entry {
				t.Errorf("%s room, %s: got %v, want %v", access, name, got.Entry, entry)
			}
		}
	}
	if d := (Settings{Access: Public}).Admit(banned, 0, 100); d.Reason != ReasonBanned {
		t.Errorf("a banned visitor is refused for %q", d.Reason)
	}
}

func TestAFullRoomRefusesAllButItsHosts(t *testing.T) {
	s := Settings{Access: Public, MaxParticipants: 3}
	if d := s.Admit(Visitor{SignedIn: true}, 3, 100); d.Entry != Refuse || d.Reason != ReasonFull {
		t.Fatalf("fourth participant: %+v", d)
	}
	if d := s.Admit(Visitor{SignedIn: true}, 2, 100); d.Entry != Enter {
		t.Fatalf("third participant: %+v", d)
	}
	if d := s.Admit(Visitor{SignedIn: true, Role: Owner}, 3, 100); d.Entry != Enter {
		t.Fatalf("the owner of a full room: %+v", d)
	}
	// The server's cap wins over a larger room cap.
	if got := (Settings{MaxParticipants: 500}).Cap(200); got != 200 {
		t.Fatalf("cap %d", got)
	}
	if got := (Settings{}).Cap(200); got != 200 {
		t.Fatalf("no room cap: %d", got)
	}
}

func TestParsing(t *testing.T) {
	for _, s := range []string{"public", "trusted", "restricted"} {
		if a, err := ParseAccess(s); err != nil || string(a) != s {
			t.Errorf("ParseAccess(%q) = %q, %v", s, a, err)
		}
	}
	if _, err := ParseAccess("secret"); err == nil {
		t.Error("unknown access level accepted")
	}
	if _, err := ParseRole(""); err == nil {
		t.Error("an empty role is not a member's role")
	}
	if r, _ := ParseRole("administrator"); !r.IsHost() || Member.IsHost() {
		t.Error("hosts are owners and administrators")
	}
}
