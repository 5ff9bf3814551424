// Package speechtest gives tests real speech to listen to: a scripted
// two-person meeting spoken by espeak-ng, one audio track per speaker on a
// common timeline (PCM and Ogg Opus), a short recording for a browser's fake
// microphone, and the word error rate to score what an engine heard.
//
// The audio is made once and cached under the user's cache directory, keyed
// by the script, the voices and the versions of the tools, so that repeated
// test runs do not pay for speech synthesis.
package speechtest

import "time"

// The speakers of the conversation, and the keys of Dialogue.Tracks.
const (
	SpeakerA = "A"
	SpeakerB = "B"
)

// line is one turn of the script before it is spoken.
type line struct {
	speaker string
	text    string
}

// script is the meeting, written for these tests: everyday vocabulary, turns
// of 8 to 14 words, and a number and a percentage so that the normalisation
// of WER is exercised on real engine output.
var script = []line{
	{SpeakerA, "Hello Sarah, can we go through the project plan this afternoon?"},
	{SpeakerB, "Sure, I have about thirty minutes before my next call."},
	{SpeakerA, "Great. The design team finished the first draft on Tuesday."},
	{SpeakerB, "I saw it yesterday and the layout looks much better now."},
	{SpeakerA, "We still need to test the mobile version with real users."},
	{SpeakerB, "I can book a room and invite 5 people for Thursday."},
	{SpeakerA, "Good idea. Please share the notes with everyone after the session."},
	{SpeakerB, "Will do. What about the budget for the extra work?"},
	{SpeakerA, "Sales grew by 12% so we can afford two more weeks."},
	{SpeakerB, "Perfect, then let us meet again on Friday morning to decide."},
}

// voices are espeak-ng's voices for each speaker: a male and a female voice,
// so that the two tracks also sound like two people.
var voices = map[string]string{
	SpeakerA: "en-us+m3",
	SpeakerB: "en-us+f3",
}

const (
	// wordsPerMinute is espeak-ng's speed, a little slower than its default
	// so that recognisers trained on people have a chance.
	wordsPerMinute = 150
	leadIn         = 500 * time.Millisecond
	turnGap        = 800 * time.Millisecond
	// tail keeps silence after the last turn, so that a voice detector sees
	// the end of it.
	tail = 500 * time.Millisecond
)
