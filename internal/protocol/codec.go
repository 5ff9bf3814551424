package protocol

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrorCode classifies an error so that clients can react without parsing text.
type ErrorCode string

// Error codes. docs/protocol.md says what a client should do for each.
const (
	CodeBadJSON         ErrorCode = "bad_json"             // not a JSON object, or a field of the wrong type
	CodeUnknownType     ErrorCode = "unknown_type"         // no such message type
	CodeInvalid         ErrorCode = "invalid_message"      // a field breaks a rule (length, value)
	CodeTooLarge        ErrorCode = "too_large"            // over MaxMessageBytes
	CodeNotJoined       ErrorCode = "not_joined"           // anything but join before join
	CodeAlreadyJoined   ErrorCode = "already_joined"       // a second join
	CodeBadSDP          ErrorCode = "bad_sdp"              // the SDP could not be applied
	CodeBadCandidate    ErrorCode = "bad_candidate"        // the ICE candidate could not be applied
	CodeOutOfOrder      ErrorCode = "out_of_order"         // e.g. an answer when no offer is pending
	CodeBadRoom         ErrorCode = "bad_room"             // not a room code
	CodeRoomFull        ErrorCode = "room_full"            // the meeting reached its participant cap
	CodeRateLimited     ErrorCode = "rate_limited"         // too many messages; this one was dropped
	CodeBadProtocol     ErrorCode = "unsupported_protocol" // the client did not ask for Subprotocol
	CodeInternal        ErrorCode = "internal"             // a server fault; the session may go on
	CodeRoomUnavailable ErrorCode = "room_unavailable"     // the room cannot be hosted here now
	CodeResumeFailed    ErrorCode = "resume_failed"        // nobody to resume: join again
	CodeForbidden       ErrorCode = "forbidden"            // the participant's role does not allow it
	CodeNotFound        ErrorCode = "not_found"            // no such participant, or no such room
	CodeBanned          ErrorCode = "banned"               // a host banned this user or browser from the room
	CodeSignInRequired  ErrorCode = "sign_in_required"     // the action needs a signed-in user
	CodeBadToken        ErrorCode = "bad_token"            // the join token is missing, expired or forged: get a new one
	CodeUnavailable     ErrorCode = "unavailable"          // the server is not set up for this feature
)

// Error is the error message, sent in reply to a message that failed. Request
// names the type of that message when it is known.
type Error struct {
	Code    ErrorCode `json:"code"`
	Message string    `json:"message"`
	Request string    `json:"request,omitempty"`
}

func (e *Error) Error() string {
	if e.Request != "" {
		return fmt.Sprintf("%s (%s): %s", e.Code, e.Request, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf builds an Error.
func Errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Encode returns the JSON form of m: an object whose "type" member comes first.
func Encode(m Message) ([]byte, error) {
	body, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", m.MessageType(), err)
	}
	if len(body) < 2 || body[0] != '{' {
		return nil, fmt.Errorf("encode %s: not a JSON object", m.MessageType())
	}
	var b bytes.Buffer
	b.Grow(len(body) + len(m.MessageType()) + 12)
	b.WriteString(`{"type":`)
	typ, _ := json.Marshal(m.MessageType())
	b.Write(typ)
	if len(body) > 2 {
		b.WriteByte(',')
	}
	b.Write(body[1:])
	return b.Bytes(), nil
}

type validator interface {
	validate() error
}

var clientMessages = map[string]func() Message{
	"join":      func() Message { return &Join{} },
	"publish":   func() Message { return &Publish{} },
	"answer":    func() Message { return &Answer{} },
	"candidate": func() Message { return &Candidate{} },
	"mute":      func() Message { return &Mute{} },
	"view":      func() Message { return &View{} },
	"resume":    func() Message { return &Resume{} },
	"restart":   func() Message { return &Restart{} },
	"leave":     func() Message { return &Leave{} },
	"hand":      func() Message { return &Hand{} },
	// hosts
	"admit":          func() Message { return &Admit{} },
	"deny":           func() Message { return &Deny{} },
	"admit_all":      func() Message { return &AdmitAll{} },
	"moderate":       func() Message { return &Moderate{} },
	"room_settings":  func() Message { return &RoomSettings{} },
	"speech_control": func() Message { return &SpeechControl{} },
	// chat and reactions
	"chat_send":   func() Message { return &ChatSend{} },
	"chat_delete": func() Message { return &ChatDelete{} },
	"react":       func() Message { return &React{} },
}

var serverMessages = map[string]func() Message{
	"welcome":             func() Message { return &Welcome{} },
	"participant_joined":  func() Message { return &ParticipantJoined{} },
	"participant_updated": func() Message { return &ParticipantUpdated{} },
	"participant_left":    func() Message { return &ParticipantLeft{} },
	"publish_answer":      func() Message { return &PublishAnswer{} },
	"offer":               func() Message { return &Offer{} },
	"candidate":           func() Message { return &Candidate{} },
	"speakers":            func() Message { return &Speakers{} },
	"layers":              func() Message { return &Layers{} },
	"quality":             func() Message { return &QualityReport{} },
	"bye":                 func() Message { return &Bye{} },
	"error":               func() Message { return &Error{} },
	"waiting":             func() Message { return &Waiting{} },
	"lobby":               func() Message { return &Lobby{} },
	"moderated":           func() Message { return &Moderated{} },
	"room":                func() Message { return &Room{} },
	"speech":              func() Message { return &Speech{} },
	"caption":             func() Message { return &Caption{} },
	"chat":                func() Message { return &Chat{} },
	"chat_history":        func() Message { return &ChatHistory{} },
	"chat_deleted":        func() Message { return &ChatDeleted{} },
	"reaction":            func() Message { return &Reaction{} },
}

// DecodeClient parses and validates a message sent by a client. The result is
// a pointer to one of the client message types. A failure is always an *Error.
func DecodeClient(data []byte) (Message, error) {
	return decode(data, clientMessages)
}

// DecodeServer parses a message sent by the server, for clients.
func DecodeServer(data []byte) (Message, error) {
	return decode(data, serverMessages)
}

func decode(data []byte, registry map[string]func() Message) (Message, error) {
	if len(data) > MaxMessageBytes {
		return nil, Errorf(CodeTooLarge, "message of %d bytes is over the %d-byte limit", len(data), MaxMessageBytes)
	}
	var head struct {
		Type *string `json:"type"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, Errorf(CodeBadJSON, "not a JSON object: %s", jsonProblem(err))
	}
	if head.Type == nil {
		return nil, Errorf(CodeBadJSON, `the message has no "type" member`)
	}
	newMessage, ok := registry[*head.Type]
	if !ok {
		return nil, &Error{Code: CodeUnknownType, Message: fmt.Sprintf("unknown message type %.40q", *head.Type)}
	}
	m := newMessage()
	if err := json.Unmarshal(data, m); err != nil {
		return nil, &Error{Code: CodeBadJSON, Message: jsonProblem(err), Request: *head.Type}
	}
	if v, ok := m.(validator); ok {
		if err := v.validate(); err != nil {
			return nil, &Error{Code: CodeInvalid, Message: err.Error(), Request: *head.Type}
		}
	}
	return m, nil
}

// jsonProblem describes a decoding error without echoing the client's input.
func jsonProblem(err error) string {
	switch e := err.(type) {
	case *json.SyntaxError:
		return fmt.Sprintf("JSON syntax error at byte %d", e.Offset)
	case *json.UnmarshalTypeError:
		if e.Field != "" {
			return fmt.Sprintf("field %q must be of JSON type %s, not %s", e.Field, e.Type.Kind(), e.Value)
		}
		return fmt.Sprintf("expected a JSON object, not %s", e.Value)
	}
	return "malformed JSON"
}

// ---- validation ----

// CleanName trims a display name and checks it: 1 to MaxNameRunes printable
// characters.
func CleanName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", fmt.Errorf("the display name is empty")
	case !utf8.ValidString(name):
		return "", fmt.Errorf("the display name is not valid UTF-8")
	case utf8.RuneCountInString(name) > MaxNameRunes:
		return "", fmt.Errorf("the display name is longer than %d characters", MaxNameRunes)
	case strings.ContainsFunc(name, func(r rune) bool { return !unicode.IsPrint(r) && r != ' ' }):
		return "", fmt.Errorf("the display name contains control characters")
	}
	return name, nil
}

func (m *Join) validate() error {
	if m.Room == "" || len(m.Room) > 2048 {
		return fmt.Errorf("room must be a room code or link")
	}
	if len(m.Token) > 4096 {
		return fmt.Errorf("token is longer than 4096 bytes")
	}
	name, err := CleanName(m.Name)
	if err != nil {
		return err
	}
	m.Name = name
	return nil
}

func validSource(s Source) bool { return s.Kind() != "" }

func (m *Publish) validate() error {
	if len(m.SDP) > MaxSDPBytes {
		return fmt.Errorf("sdp is longer than %d bytes", MaxSDPBytes)
	}
	if m.Tracks == nil {
		return fmt.Errorf(`tracks is required (use [] to publish nothing)`)
	}
	if len(m.Tracks) > MaxTracks {
		return fmt.Errorf("at most %d tracks may be published", MaxTracks)
	}
	mids, sources := map[string]bool{}, map[Source]bool{}
	for _, t := range m.Tracks {
		switch {
		case t.Mid == "" || len(t.Mid) > MaxMidBytes:
			return fmt.Errorf("track mid must be 1 to %d bytes", MaxMidBytes)
		case !validSource(t.Source):
			return fmt.Errorf("track source %.20q is not one of microphone, camera, screen, screen_audio", t.Source)
		case mids[t.Mid]:
			return fmt.Errorf("mid %q is declared twice", t.Mid)
		case sources[t.Source]:
			return fmt.Errorf("source %q is declared twice", t.Source)
		}
		mids[t.Mid], sources[t.Source] = true, true
	}
	return nil
}

func (m *Answer) validate() error {
	if m.SDP == "" || len(m.SDP) > MaxSDPBytes {
		return fmt.Errorf("sdp must be 1 to %d bytes", MaxSDPBytes)
	}
	return nil
}

func (m *Candidate) validate() error {
	if m.Target != TargetPublish && m.Target != TargetSubscribe {
		return fmt.Errorf(`target must be "publish" or "subscribe"`)
	}
	if len(m.Candidate.Candidate) > MaxCandidateBytes {
		return fmt.Errorf("candidate is longer than %d bytes", MaxCandidateBytes)
	}
	if m.Candidate.SDPMid != nil && len(*m.Candidate.SDPMid) > MaxMidBytes {
		return fmt.Errorf("sdpMid is longer than %d bytes", MaxMidBytes)
	}
	if m.Candidate.UsernameFragment != nil && len(*m.Candidate.UsernameFragment) > 256 {
		return fmt.Errorf("usernameFragment is longer than 256 bytes")
	}
	return nil
}

func (m *View) validate() error {
	if m.Tracks == nil {
		return fmt.Errorf(`tracks is required (use [] to show no video)`)
	}
	if len(m.Tracks) > MaxViewTracks {
		return fmt.Errorf("at most %d tracks may be viewed", MaxViewTracks)
	}
	for _, t := range m.Tracks {
		switch {
		case t.Participant == "" || len(t.Participant) > 64:
			return fmt.Errorf("participant must be a participant id")
		case t.Source.Kind() != "video":
			return fmt.Errorf("source %.20q is not a video source (camera or screen)", t.Source)
		case t.Width < 0 || t.Height < 0 || t.Width > 16384 || t.Height > 16384:
			return fmt.Errorf("width and height must be 0 to 16384 pixels")
		}
	}
	return nil
}

func (m *Resume) validate() error {
	if m.Participant == "" || len(m.Participant) > 64 || m.Token == "" || len(m.Token) > 128 {
		return fmt.Errorf("participant and token must be those of the welcome")
	}
	return nil
}

func (m *Mute) validate() error {
	if !validSource(m.Source) {
		return fmt.Errorf("source %.20q is not one of microphone, camera, screen, screen_audio", m.Source)
	}
	return nil
}
