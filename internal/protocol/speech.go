package protocol

import (
	"fmt"
	"slices"
	"strings"
)

// The messages of live captions and transcripts.

// Languages captions and transcripts may be asked in (Visio's languages).
var speechLanguages = []string{"fr", "en", "de", "nl"}

// ---- client to server (hosts only) ----

// SpeechControl turns captions or transcription on or off, or changes the
// room's spoken language; fields left out do not change.
type SpeechControl struct {
	Captions   *bool   `json:"captions,omitempty"`
	Transcribe *bool   `json:"transcribe,omitempty"`
	Language   *string `json:"language,omitempty"`
}

// ---- server to client ----

// Speech tells everyone whether captions and transcription are on. It comes
// after the welcome and on every change. Every participant is told while a
// transcript is being made (consent).
type Speech struct {
	// Available is false when the server has no working speech engine;
	// Reason then says why and what an operator should configure.
	Available    bool   `json:"available"`
	Reason       string `json:"reason,omitempty"`
	Captions     bool   `json:"captions"`
	Transcribing bool   `json:"transcribing"`
	// TranscribingSince is when transcription started, in milliseconds
	// since 1970; absent when it is off.
	TranscribingSince int64  `json:"transcribing_since,omitempty"`
	Language          string `json:"language"`
	// Engine is the engine's name and health, sent to hosts only.
	Engine *SpeechEngine `json:"engine,omitempty"`
	// Transcript is the id of the latest transcript of this meeting, sent
	// to hosts once it can be downloaded.
	Transcript string `json:"transcript,omitempty"`
}

// SpeechEngine is the state of the server's speech engine, for hosts.
type SpeechEngine struct {
	Name   string `json:"name"`
	State  string `json:"state"` // ok, degraded, down
	Detail string `json:"detail,omitempty"`
}

// Caption is a piece of what someone said. The partial captions of one
// utterance share its number and are replaced in place; the final one
// replaces them for good.
type Caption struct {
	Participant string `json:"participant"`
	Name        string `json:"name"`
	Utterance   uint64 `json:"utterance"`
	Text        string `json:"text"`
	Final       bool   `json:"final"`
	StartMS     int64  `json:"start_ms"` // since transcription or captions started
	EndMS       int64  `json:"end_ms"`
	// Missed counts the speaker's utterances that were not captioned
	// because the speech engine fell behind.
	Missed int `json:"missed,omitempty"`
}

// MessageType implements Message.
func (SpeechControl) MessageType() string { return "speech_control" }

// MessageType implements Message.
func (Speech) MessageType() string { return "speech" }

// MessageType implements Message.
func (Caption) MessageType() string { return "caption" }

func (m *SpeechControl) validate() error {
	if m.Captions == nil && m.Transcribe == nil && m.Language == nil {
		return fmt.Errorf("speech_control changes nothing: give captions, transcribe or language")
	}
	if m.Language != nil && !SpeechLanguage(*m.Language) {
		return fmt.Errorf("language must be one of %s", strings.Join(speechLanguages, ", "))
	}
	return nil
}

// SpeechLanguage reports whether captions and transcripts may be asked in
// the language lang.
func SpeechLanguage(lang string) bool {
	return slices.Contains(speechLanguages, lang)
}
