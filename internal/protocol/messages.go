// Package protocol defines the signalling messages that a browser and the
// server exchange over one WebSocket, version 1 (docs/protocol.md): their JSON
// form, their limits, and the typed errors for messages that break them.
//
// It depends on nothing else in Visio, so that clients (the web app's types,
// the Go test client, the load generator) and the server agree by construction.
package protocol

// Version is the protocol version; the WebSocket subprotocol is Subprotocol.
const (
	Version     = 1
	Subprotocol = "visio.v1"
)

// Limits on what a client may send. They bound the memory a connection costs.
const (
	MaxMessageBytes   = 512 << 10 // an SDP answer for 150 participants is about 200 KiB
	MaxSDPBytes       = 480 << 10
	MaxNameRunes      = 64
	MaxTracks         = 8
	MaxMidBytes       = 32
	MaxCandidateBytes = 1024
	MaxViewTracks     = 1000
)

// Source says what a track carries.
type Source string

// The sources a participant may publish, at most one track of each.
const (
	SourceMicrophone  Source = "microphone"
	SourceCamera      Source = "camera"
	SourceScreen      Source = "screen"
	SourceScreenAudio Source = "screen_audio"
)

// Kind returns "audio" or "video", or "" for an unknown source.
func (s Source) Kind() string {
	switch s {
	case SourceMicrophone, SourceScreenAudio:
		return "audio"
	case SourceCamera, SourceScreen:
		return "video"
	}
	return ""
}

// Target names one of the two peer connections of a participant: the one that
// carries its own tracks to the server, and the one that brings it the others'.
type Target string

// The two peer connections.
const (
	TargetPublish   Target = "publish"
	TargetSubscribe Target = "subscribe"
)

// Message is any message of the protocol.
type Message interface {
	MessageType() string
}

// ---- client to server ----

// Join is the first message of a session.
type Join struct {
	Room string `json:"room"`
	Name string `json:"name"`
	// Token is the join token from the REST API (POST
	// /api/v1/rooms/{code}/join): it says who joins, under which name.
	Token string `json:"token,omitempty"`
	// Rejoin is the rejoin token of an earlier welcome in this meeting,
	// when it moved to another node: the participant comes back as the
	// same one, without waiting in the lobby again.
	Rejoin string `json:"rejoin,omitempty"`
}

// TrackDeclaration states one track the client publishes, by the mid of its
// transceiver on the publish connection.
type TrackDeclaration struct {
	Mid    string `json:"mid"`
	Source Source `json:"source"`
	Muted  bool   `json:"muted"`
}

// Publish declares the complete set of tracks the client publishes. With an
// SDP offer it also renegotiates the publish connection, and the server
// replies with PublishAnswer. A track left out of Tracks is unpublished.
type Publish struct {
	SDP    string             `json:"sdp,omitempty"`
	Tracks []TrackDeclaration `json:"tracks"`
}

// Answer answers the server's latest Offer on the subscribe connection.
type Answer struct {
	SDP string `json:"sdp"`
}

// ICECandidate mirrors the browser's RTCIceCandidateInit.
type ICECandidate struct {
	Candidate        string  `json:"candidate"`
	SDPMid           *string `json:"sdpMid,omitempty"`
	SDPMLineIndex    *uint16 `json:"sdpMLineIndex,omitempty"`
	UsernameFragment *string `json:"usernameFragment,omitempty"`
}

// Candidate carries one trickled ICE candidate, in either direction.
type Candidate struct {
	Target    Target       `json:"target"`
	Candidate ICECandidate `json:"candidate"`
}

// Mute tells others that a published track is muted or unmuted.
type Mute struct {
	Source Source `json:"source"`
	Muted  bool   `json:"muted"`
}

// ViewedTrack is a video track the client shows, and the size in device
// pixels of the tile that shows it.
type ViewedTrack struct {
	Participant string `json:"participant"`
	Source      Source `json:"source"`
	Width       int    `json:"width"`
	Height      int    `json:"height"`
}

// View lists every video track the client shows. The server sends each at
// the quality its tile needs, and pauses video tracks left out. Until a
// client sends View, it gets every track at the best quality.
type View struct {
	Tracks []ViewedTrack `json:"tracks"`
}

// Resume is sent instead of Join on a new connection, after the previous one
// dropped: the client comes back as the participant it was, within the
// server's grace period, and gets a new welcome.
type Resume struct {
	Participant string `json:"participant"`
	Token       string `json:"token"`
}

// Restart asks for an ICE restart of the subscribe connection (the client
// restarts its publish connection itself, with a new offer), after a
// network change.
type Restart struct{}

// Hand raises or lowers the participant's hand.
type Hand struct {
	Raised bool `json:"raised"`
}

// Leave ends the session on purpose.
type Leave struct{}

// MessageType implements Message.
func (Join) MessageType() string { return "join" }

// MessageType implements Message.
func (Publish) MessageType() string { return "publish" }

// MessageType implements Message.
func (Answer) MessageType() string { return "answer" }

// MessageType implements Message.
func (Candidate) MessageType() string { return "candidate" }

// MessageType implements Message.
func (Mute) MessageType() string { return "mute" }

// MessageType implements Message.
func (View) MessageType() string { return "view" }

// MessageType implements Message.
func (Resume) MessageType() string { return "resume" }

// MessageType implements Message.
func (Restart) MessageType() string { return "restart" }

// MessageType implements Message.
func (Hand) MessageType() string { return "hand" }

// MessageType implements Message.
func (Leave) MessageType() string { return "leave" }

// ---- server to client ----

// Track describes a published track to other participants.
type Track struct {
	Source Source `json:"source"`
	Muted  bool   `json:"muted"`
}

// Participant is what everyone in a meeting knows about someone in it.
type Participant struct {
	ID     string  `json:"id"`
	Name   string  `json:"name"`
	Tracks []Track `json:"tracks"`
	// Role is the participant's role in the room (owner, administrator,
	// member), or empty for someone without one.
	Role     string `json:"role,omitempty"`
	SignedIn bool   `json:"signed_in"`
	// HandRaisedAt is when they raised their hand, in milliseconds since
	// 1970 (hands are shown in that order); absent when it is down.
	HandRaisedAt int64 `json:"hand_raised_at,omitempty"`
}

// Welcome answers Join: who you are, and who is already there.
type Welcome struct {
	Protocol     int           `json:"protocol"`
	Room         string        `json:"room"`
	You          Participant   `json:"you"`
	Participants []Participant `json:"participants"`
	// ICEServers are the TURN servers (with credentials for this session)
	// to give both peer connections, as RTCConfiguration.iceServers.
	ICEServers []ICEServer `json:"ice_servers,omitempty"`
	// ResumeToken lets the client come back as the same participant after
	// its connection drops (see Resume).
	ResumeToken string `json:"resume_token"`
	// ResumeWithinMS is how long, in milliseconds, the server keeps the
	// participant's place after the connection drops.
	ResumeWithinMS int64 `json:"resume_within_ms"`
	// Resumed is set on the welcome that answers a resume.
	Resumed bool `json:"resumed,omitempty"`
	// StartMuted asks the app to turn the microphone off: the participant
	// joined a meeting already larger than the server's threshold.
	StartMuted bool `json:"start_muted,omitempty"`
	// QuietAbove is the meeting size above which the app plays no
	// notification sounds; 0: never play them.
	QuietAbove int `json:"quiet_above"`
	// RejoinToken lets the client come back as the same participant after
	// the meeting moved to another node of a cluster (see Join.Rejoin).
	RejoinToken string `json:"rejoin_token,omitempty"`
}

// ICEServer is an RTCIceServer.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// ParticipantJoined announces a newcomer.
type ParticipantJoined struct {
	Participant Participant `json:"participant"`
}

// ParticipantUpdated announces a change of someone's tracks or mute state.
type ParticipantUpdated struct {
	Participant Participant `json:"participant"`
}

// Reasons a participant left.
const (
	ReasonLeft             = "left"              // they chose to
	ReasonConnectionLost   = "connection_lost"   // their signalling connection dropped
	ReasonReplaced         = "replaced"          // the participant resumed on another connection
	ReasonConnectionFailed = "connection_failed" // their media connection failed
	ReasonServerShutdown   = "server_shutdown"
	ReasonMoved            = "moved"    // the node handed the meeting to another: rejoin it there
	ReasonTooSlow          = "too_slow" // they could not keep up with signalling messages
)

// ParticipantLeft announces a departure.
type ParticipantLeft struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// PublishAnswer answers a Publish that carried an SDP offer.
type PublishAnswer struct {
	SDP string `json:"sdp"`
}

// OfferedTrack tells which participant and source a transceiver of the
// subscribe connection carries.
type OfferedTrack struct {
	Mid         string `json:"mid"`
	Participant string `json:"participant"`
	Source      Source `json:"source"`
}

// Offer renegotiates the subscribe connection. Tracks lists every track the
// connection carries after this offer.
type Offer struct {
	SDP    string         `json:"sdp"`
	Tracks []OfferedTrack `json:"tracks"`
}

// Speakers reports who is speaking; Active is the dominant speaker.
type Speakers struct {
	Active   string   `json:"active"`
	Speaking []string `json:"speaking"`
}

// Quality rates a participant's connection.
type Quality string

// The ratings, from the loss, jitter and round trip the server measures.
const (
	QualityGood Quality = "good"
	QualityFair Quality = "fair"
	QualityPoor Quality = "poor"
)

// QualityReport gives the connection rating of every participant rated so
// far, by id; it is sent when one changes.
type QualityReport struct {
	Participants map[string]Quality `json:"participants"`
}

// Layers tells a publisher which simulcast encodings (by RTP stream id) of
// one of its tracks someone receives; it should pause the others.
type Layers struct {
	Mid    string   `json:"mid"`
	Active []string `json:"active"`
}

// Bye ends the session from the server side; the server then closes the socket.
type Bye struct {
	Reason string `json:"reason"`
}

// MessageType implements Message.
func (Welcome) MessageType() string { return "welcome" }

// MessageType implements Message.
func (ParticipantJoined) MessageType() string { return "participant_joined" }

// MessageType implements Message.
func (ParticipantUpdated) MessageType() string { return "participant_updated" }

// MessageType implements Message.
func (ParticipantLeft) MessageType() string { return "participant_left" }

// MessageType implements Message.
func (PublishAnswer) MessageType() string { return "publish_answer" }

// MessageType implements Message.
func (Offer) MessageType() string { return "offer" }

// MessageType implements Message.
func (Speakers) MessageType() string { return "speakers" }

// MessageType implements Message.
func (Layers) MessageType() string { return "layers" }

// MessageType implements Message.
func (QualityReport) MessageType() string { return "quality" }

// MessageType implements Message.
func (Bye) MessageType() string { return "bye" }

// MessageType implements Message.
func (*Error) MessageType() string { return "error" }
