package protocol

import "fmt"

// The messages of rooms with a lobby and hosts: who waits, who lets them in,
// and what hosts do to a meeting.

// ---- client to server (hosts only) ----

// Admit lets a waiting participant in; Deny sends them away.
type Admit struct {
	Participant string `json:"participant"`
}

// Deny refuses a waiting participant.
type Deny struct {
	Participant string `json:"participant"`
}

// AdmitAll lets everyone waiting in.
type AdmitAll struct{}

// Moderation actions.
const (
	ActionMute    = "mute"       // a participant's source (microphone by default)
	ActionMuteAll = "mute_all"   // every microphone but the hosts'
	ActionStop    = "stop"       // a participant's camera or screen share
	ActionRemove  = "remove"     // out of the meeting; Ban keeps them out of the room
	ActionRole    = "role"       // make a signed-in participant an administrator, or a member again
	ActionPin     = "pin"        // show a participant large for everyone; no participant unpins
	ActionHand    = "lower_hand" // lower a participant's raised hand; no participant lowers every hand
	ActionEnd     = "end"        // end the meeting for all
)

// Moderate is a host's action on the meeting or one participant in it.
type Moderate struct {
	Action      string `json:"action"`
	Participant string `json:"participant,omitempty"`
	Source      Source `json:"source,omitempty"`
	Ban         bool   `json:"ban,omitempty"`
	Role        string `json:"role,omitempty"`
}

// Publishing says what participants who are not hosts may send.
type Publishing struct {
	Microphone bool `json:"microphone"`
	Camera     bool `json:"camera"`
	Screen     bool `json:"screen"`
}

// RoomSettings changes a room's rules; fields left out do not change.
type RoomSettings struct {
	Access          *string     `json:"access,omitempty"`
	MaxParticipants *int        `json:"max_participants,omitempty"`
	Publishing      *Publishing `json:"publishing,omitempty"`
}

// ---- server to client ----

// Waiting answers a Join that must wait for a host.
type Waiting struct {
	Room string `json:"room"`
}

// Visitor is someone waiting in the lobby.
type Visitor struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	SignedIn bool   `json:"signed_in"`
}

// Lobby tells hosts who waits, in order of arrival. Knock is set when
// someone has just arrived (the app rings).
type Lobby struct {
	Waiting []Visitor `json:"waiting"`
	Knock   bool      `json:"knock,omitempty"`
}

// Moderated tells a participant what a host did to them: their microphone
// muted, their camera or screen share stopped.
type Moderated struct {
	Action string `json:"action"`
	Source Source `json:"source,omitempty"`
	By     string `json:"by"` // the host's name
}

// Room tells everyone the room's rules and who is pinned.
type Room struct {
	Access          string     `json:"access"`
	MaxParticipants int        `json:"max_participants"`
	Publishing      Publishing `json:"publishing"`
	Pinned          string     `json:"pinned,omitempty"`
}

// Reasons a session ends, for rooms with hosts.
const (
	ReasonDenied  = "denied"  // a host did not let them in
	ReasonRemoved = "removed" // a host removed them
	ReasonBanned  = "banned"  // a host removed them and banned them from the room
	ReasonEnded   = "ended"   // a host ended the meeting for all
)

// MessageType implements Message.
func (Admit) MessageType() string { return "admit" }

// MessageType implements Message.
func (Deny) MessageType() string { return "deny" }

// MessageType implements Message.
func (AdmitAll) MessageType() string { return "admit_all" }

// MessageType implements Message.
func (Moderate) MessageType() string { return "moderate" }

// MessageType implements Message.
func (RoomSettings) MessageType() string { return "room_settings" }

// MessageType implements Message.
func (Waiting) MessageType() string { return "waiting" }

// MessageType implements Message.
func (Lobby) MessageType() string { return "lobby" }

// MessageType implements Message.
func (Moderated) MessageType() string { return "moderated" }

// MessageType implements Message.
func (Room) MessageType() string { return "room" }

func validParticipant(id string) error {
	if id == "" || len(id) > 64 {
		return fmt.Errorf("participant must be a participant id")
	}
	return nil
}

func (m *Admit) validate() error { return validParticipant(m.Participant) }

func (m *Deny) validate() error { return validParticipant(m.Participant) }

func (m *Moderate) validate() error {
	switch m.Action {
	case ActionMuteAll, ActionEnd:
		return nil
	case ActionPin, ActionHand:
		if m.Participant == "" {
			return nil // unpin, or every hand
		}
	case ActionMute:
		if m.Source == "" {
			m.Source = SourceMicrophone
		}
		if m.Source.Kind() != "audio" {
			return fmt.Errorf("mute takes an audio source (microphone or screen_audio)")
		}
	case ActionStop:
		if m.Source.Kind() != "video" {
			return fmt.Errorf("stop takes a video source (camera or screen)")
		}
	case ActionRole:
		if m.Role != "administrator" && m.Role != "member" {
			return fmt.Errorf(`role must be "administrator" or "member"`)
		}
	case ActionRemove:
	default:
		return fmt.Errorf("action %.20q is not one of mute, mute_all, stop, remove, role, pin, lower_hand, end", m.Action)
	}
	return validParticipant(m.Participant)
}

func (m *RoomSettings) validate() error {
	if m.Access != nil {
		switch *m.Access {
		case "public", "trusted", "restricted":
		default:
			return fmt.Errorf("access must be public, trusted or restricted")
		}
	}
	if m.MaxParticipants != nil && (*m.MaxParticipants < 0 || *m.MaxParticipants > 100000) {
		return fmt.Errorf("max_participants must be 0 (the server's cap) to 100000")
	}
	return nil
}
