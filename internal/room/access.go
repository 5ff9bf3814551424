package room

import "fmt"

// Access says who may enter a room without waiting in its lobby.
type Access string

const (
	// Public rooms let in anyone who has the link, guests included.
	Public Access = "public"
	// Trusted rooms let in signed-in users; guests wait in the lobby.
	Trusted Access = "trusted"
	// Restricted rooms let in their members; everyone else waits.
	Restricted Access = "restricted"
)

// ParseAccess reads an access level.
func ParseAccess(s string) (Access, error) {
	switch a := Access(s); a {
	case Public, Trusted, Restricted:
		return a, nil
	}
	return "", fmt.Errorf("access level %q: expected public, trusted or restricted", s)
}

// Role is a user's standing in a room. Owners and administrators are its
// hosts: they admit people from the lobby and moderate the meeting.
type Role string

const (
	NoRole        Role = ""
	Member        Role = "member"
	Administrator Role = "administrator"
	Owner         Role = "owner"
)

// ParseRole reads a role given to a member.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case Member, Administrator, Owner:
		return r, nil
	}
	return "", fmt.Errorf("role %q: expected member, administrator or owner", s)
}

// IsHost tells whether the role moderates the room.
func (r Role) IsHost() bool { return r == Owner || r == Administrator }

// Publishing says what participants who are not hosts may send. Hosts may
// always send everything.
type Publishing struct {
	Microphone bool `json:"microphone"`
	Camera     bool `json:"camera"`
	Screen     bool `json:"screen"`
}

// Everything lets participants send all their sources.
var Everything = Publishing{Microphone: true, Camera: true, Screen: true}

// Settings are a room's rules, set by its hosts.
type Settings struct {
	Access Access
	// MaxParticipants caps the people in a meeting of the room; 0 leaves
	// the server's own cap.
	MaxParticipants int
	Publishing      Publishing
	// Language is the language spoken in the room, for its captions and
	// transcripts ("fr", "en", "de", "nl"); "" means the server's default.
	Language string
}

// Visitor is someone who asks to enter a room.
type Visitor struct {
	SignedIn bool
	Role     Role // in this room
	Banned   bool // removed from the room by a host, and banned
}

// Entry is what happens to a visitor.
type Entry int

const (
	Enter  Entry = iota // straight into the meeting
	Wait                // into the lobby, until a host admits or denies them
	Refuse              // not at all; Decision.Reason says why
)

// Reason explains a refusal.
type Reason string

const (
	ReasonBanned Reason = "banned" // a host removed them and banned them from coming back
	ReasonFull   Reason = "full"   // the meeting has as many participants as the room allows
)

// Decision is the answer to a visitor.
type Decision struct {
	Entry  Entry
	Reason Reason // for Refuse
}

// Admit decides whether v enters a meeting of the room that has present
// participants already, under the server's cap serverMax. Hosts enter a
// full room: a meeting must not be left without its hosts.
func (s Settings) Admit(v Visitor, present, serverMax int) Decision {
	if v.Banned {
		return Decision{Entry: Refuse, Reason: ReasonBanned}
	}
	if v.Role.IsHost() {
		return Decision{Entry: Enter}
	}
	if present >= s.Cap(serverMax) {
		return Decision{Entry: Refuse, Reason: ReasonFull}
	}
	switch {
	case s.Access == Public,
		s.Access == Trusted && v.SignedIn,
		s.Access == Restricted && v.Role != NoRole:
		return Decision{Entry: Enter}
	}
	return Decision{Entry: Wait}
}

// Cap is the most participants a meeting of the room holds.
func (s Settings) Cap(serverMax int) int {
	if s.MaxParticipants > 0 && s.MaxParticipants < serverMax {
		return s.MaxParticipants
	}
	return serverMax
}
