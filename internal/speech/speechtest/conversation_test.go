package speechtest

import (
	"bytes"
	"os"
	"testing"
)

// TestConversation checks what tests of engines rely on: turns alternate,
// each track holds its speaker's voice during their turns and silence while
// the other speaks, and the Opus files are real Ogg Opus.
func TestConversation(t *testing.T) {
	d := Conversation(t)
	if len(d.Turns) != len(script) {
		t.Fatalf("%d turns, want %d", len(d.Turns), len(script))
	}
	for i, turn := range d.Turns {
		if want := []string{SpeakerA, SpeakerB}[i%2]; turn.Speaker != want {
			t.Errorf("turn %d spoken by %s, want %s", i, turn.Speaker, want)
		}
		if i > 0 && turn.Start-d.Turns[i-1].End != turnGap {
			t.Errorf("turn %d starts %v after the previous one, want %v", i, turn.Start-d.Turns[i-1].End, turnGap)
		}
		if turn.End-turn.Start < 2e9 {
			t.Errorf("turn %d (%q) lasts only %v", i, turn.Text, turn.End-turn.Start)
		}
		if e := energy(d.TurnAudio(i)); e < 1e5 {
			t.Errorf("turn %d is silent in its speaker's track (mean square %.0f)", i, e)
		}
		other := SpeakerA
		if turn.Speaker == SpeakerA {
			other = SpeakerB
		}
		pcm := d.Tracks[other].PCM[sampleIndex(turn.Start):sampleIndex(turn.End)]
		if e := energy(pcm); e != 0 {
			t.Errorf("turn %d is heard in the other speaker's track (mean square %.0f)", i, e)
		}
	}
	if d.Turns[0].Start != leadIn {
		t.Errorf("first turn at %v, want %v", d.Turns[0].Start, leadIn)
	}
	for speaker, track := range d.Tracks {
		if sampleTime(len(track.PCM)) != d.Duration {
			t.Errorf("track %s lasts %v, dialogue %v", speaker, sampleTime(len(track.PCM)), d.Duration)
		}
		head, err := os.ReadFile(track.OggOpus)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(head, []byte("OggS")) || !bytes.Contains(head[:min(len(head), 200)], []byte("OpusHead")) {
			t.Errorf("%s is not an Ogg Opus file", track.OggOpus)
		}
	}
	// A second call uses the cache and gives the same audio.
	again := Conversation(t)
	if again.Duration != d.Duration || len(again.Tracks[SpeakerA].PCM) != len(d.Tracks[SpeakerA].PCM) {
		t.Errorf("cached conversation differs: %v vs %v", again.Duration, d.Duration)
	}
}

func energy(pcm []int16) float64 {
	if len(pcm) == 0 {
		return 0
	}
	var sum float64
	for _, s := range pcm {
		sum += float64(s) * float64(s)
	}
	return sum / float64(len(pcm))
}
