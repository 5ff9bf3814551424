package protocol

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The messages of the meeting's chat (with files) and of reactions.

// Limits of chat messages.
const (
	MaxChatRunes     = 4000
	MaxClientIDBytes = 64
	MaxFileIDBytes   = 64
)

// Reactions are the emoji a participant may send, in the order the app
// shows them.
var reactions = []string{"👍", "👏", "😂", "❤️", "🎉", "😮", "🤔", "🙏"}

// Reactions returns the emoji a participant may send.
func Reactions() []string { return append([]string(nil), reactions...) }

// ---- client to server ----

// ChatSend posts a message to everyone in the meeting. File, when set, is
// the id of a file the sender uploaded (POST /api/v1/rooms/{code}/files);
// Text may then be empty. ClientID is the client's own name for the
// message: the resulting Chat carries it back to the sender alone, and a
// message sent again with the same ClientID (after a reconnection) is not
// posted twice.
type ChatSend struct {
	Text     string `json:"text"`
	File     string `json:"file,omitempty"`
	ClientID string `json:"client_id,omitempty"`
}

// ChatDelete removes a message's text and file, for hosts.
type ChatDelete struct {
	ID uint64 `json:"id"`
}

// React shows an emoji briefly on the sender's tile, for everyone.
type React struct {
	Emoji string `json:"emoji"`
}

// ---- server to client ----

// ChatFile is a file shared in the chat. URL downloads it; it is known only
// to the meeting's participants, and stops working when the message is
// deleted or the meeting ends.
type ChatFile struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Size int64  `json:"size"`
	Type string `json:"type"` // the content type it is served with
	URL  string `json:"url"`
}

// Chat is one message, as everyone in the meeting gets it. IDs increase by
// one per meeting, in the order the server accepted the messages.
type Chat struct {
	ID   uint64 `json:"id"`
	From string `json:"from"` // the sender's participant id
	Name string `json:"name"`
	// At is when the server accepted it, in milliseconds since 1970.
	At      int64     `json:"at"`
	Text    string    `json:"text"`
	File    *ChatFile `json:"file,omitempty"`
	Deleted bool      `json:"deleted"`
	// ClientID is the sender's ChatSend.ClientID, sent to the sender alone.
	ClientID string `json:"client_id,omitempty"`
}

// ChatHistory follows every welcome (join and resume) with the meeting's
// latest messages, oldest first; the client keeps one of each id.
type ChatHistory struct {
	Messages []Chat `json:"messages"`
}

// ChatDeleted tells everyone that a host deleted a message.
type ChatDeleted struct {
	ID uint64 `json:"id"`
	By string `json:"by"` // the host's name
}

// Reaction is an emoji someone sent, to show on their tile.
type Reaction struct {
	Participant string `json:"participant"`
	Emoji       string `json:"emoji"`
}

// MessageType implements Message.
func (ChatSend) MessageType() string { return "chat_send" }

// MessageType implements Message.
func (ChatDelete) MessageType() string { return "chat_delete" }

// MessageType implements Message.
func (React) MessageType() string { return "react" }

// MessageType implements Message.
func (Chat) MessageType() string { return "chat" }

// MessageType implements Message.
func (ChatHistory) MessageType() string { return "chat_history" }

// MessageType implements Message.
func (ChatDeleted) MessageType() string { return "chat_deleted" }

// MessageType implements Message.
func (Reaction) MessageType() string { return "reaction" }

func (m *ChatSend) validate() error {
	text, err := CleanChatText(m.Text)
	if err != nil {
		return err
	}
	if text == "" && m.File == "" {
		return fmt.Errorf("the message is empty: write something or attach a file")
	}
	m.Text = text
	if m.File != "" && (len(m.File) > MaxFileIDBytes || strings.ContainsFunc(m.File, notIDRune)) {
		return fmt.Errorf("file must be the id of an uploaded file")
	}
	if len(m.ClientID) > MaxClientIDBytes || !utf8.ValidString(m.ClientID) || strings.ContainsFunc(m.ClientID, unicode.IsControl) {
		return fmt.Errorf("client_id must be at most %d bytes, without control characters", MaxClientIDBytes)
	}
	return nil
}

// notIDRune reports a character that no server-made id contains.
func notIDRune(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-')
}

// CleanChatText trims a message's text and checks it: at most MaxChatRunes
// characters of valid UTF-8, without control characters other than line
// feeds and tabs (a CR LF pair becomes a line feed). It may be empty.
func CleanChatText(text string) (string, error) {
	text = strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n"))
	switch {
	case !utf8.ValidString(text):
		return "", fmt.Errorf("the message is not valid UTF-8")
	case utf8.RuneCountInString(text) > MaxChatRunes:
		return "", fmt.Errorf("the message is longer than %d characters: split it, or share it as a file", MaxChatRunes)
	case strings.ContainsFunc(text, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }):
		return "", fmt.Errorf("the message contains control characters")
	}
	return text, nil
}

func (m *ChatDelete) validate() error {
	if m.ID == 0 {
		return fmt.Errorf("id must be the id of a chat message")
	}
	return nil
}

func (m *React) validate() error {
	if m.Emoji == "❤" {
		m.Emoji = "❤️" // the heart without its emoji presentation selector
	}
	if slices.Contains(reactions, m.Emoji) {
		return nil
	}
	return fmt.Errorf("emoji must be one of %s", strings.Join(reactions, " "))
}
