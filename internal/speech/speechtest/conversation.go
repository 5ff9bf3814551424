package speechtest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// sampleRate is the rate of the conversation's PCM: speech.SampleRate,
// written here so that this package depends on nothing of Visio's.
const sampleRate = 16000

// Dialogue is the spoken conversation.
type Dialogue struct {
	Turns []Turn
	// Tracks holds each speaker's audio, keyed by SpeakerA and SpeakerB.
	Tracks map[string]Track
	// Duration is the length of every track.
	Duration time.Duration
}

// Turn is one speaker's sentence and where it lies on the common timeline.
type Turn struct {
	Speaker    string // SpeakerA or SpeakerB
	Text       string
	Start, End time.Duration
}

// Track is one speaker's audio: their turns at their times and silence
// while the other speaks.
type Track struct {
	PCM []int16 // 16 kHz mono
	// OggOpus is the path of the same audio as an Ogg Opus file (48 kHz,
	// 24 kb/s, 20 ms frames, as a browser sends). It is shared by every
	// test: read it, never change it.
	OggOpus string
}

// TurnAudio returns the samples of turn i, cut from its speaker's track. The
// slice shares the track's memory.
func (d *Dialogue) TurnAudio(i int) []int16 {
	t := d.Turns[i]
	return d.Tracks[t.Speaker].PCM[sampleIndex(t.Start):sampleIndex(t.End)]
}

func sampleIndex(d time.Duration) int {
	return int(d * sampleRate / time.Second)
}

func sampleTime(i int) time.Duration {
	return time.Duration(i) * time.Second / sampleRate
}

// manifest is what the cache keeps besides the audio.
type manifest struct {
	Turns    []Turn
	Duration time.Duration
}

// Conversation returns the scripted meeting, making its audio on first use
// with espeak-ng, sox and opusenc. It skips the test when these are missing,
// or fails it when VISIO_REQUIRE_TEST_SERVICES=1.
func Conversation(tb testing.TB) *Dialogue {
	tb.Helper()
	requireTools(tb, espeak, sox, opusenc)
	parts := []string{"conversation v2", strconv.Itoa(wordsPerMinute),
		leadIn.String(), turnGap.String(), tail.String()}
	for _, l := range script {
		parts = append(parts, l.speaker, voices[l.speaker], l.text)
	}
	dir := filepath.Join(cacheDir(tb), "conversation-"+cacheKey(tb, parts, espeak, sox, opusenc))
	d, err := loadDialogue(dir)
	if err == nil {
		return d
	}
	if _, statErr := os.Stat(dir); statErr == nil {
		tb.Logf("remaking test audio: cached copy unusable: %v", err)
		if err := os.RemoveAll(dir); err != nil {
			tb.Fatalf("test audio cache: %v", err)
		}
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), filepath.Base(dir)+".tmp-")
	if err != nil {
		tb.Fatalf("test audio cache: %v", err)
	}
	defer os.RemoveAll(tmp)
	// Other users of the machine may share the cache.
	if err := os.Chmod(tmp, 0o755); err != nil {
		tb.Fatal(err)
	}
	makeDialogue(tb, tmp)
	publish(tb, tmp, dir)
	d, err = loadDialogue(dir)
	if err != nil {
		tb.Fatalf("test audio just made: %v", err)
	}
	return d
}

// makeDialogue speaks the script into dir: one WAV per turn, then each
// speaker's track as WAV and Ogg Opus, then the manifest, last, since its
// presence marks the directory complete.
func makeDialogue(tb testing.TB, dir string) {
	tb.Helper()
	turnsDir := filepath.Join(dir, "turns")
	if err := os.Mkdir(turnsDir, 0o755); err != nil {
		tb.Fatal(err)
	}
	var m manifest
	var spoken [][]int16
	cursor := sampleIndex(leadIn)
	for i, l := range script {
		wav := filepath.Join(turnsDir, fmt.Sprintf("%02d-%s.wav", i+1, l.speaker))
		samples := speak(tb, voices[l.speaker], l.text, sampleRate, wav)
		spoken = append(spoken, samples)
		m.Turns = append(m.Turns, Turn{
			Speaker: l.speaker,
			Text:    l.text,
			Start:   sampleTime(cursor),
			End:     sampleTime(cursor + len(samples)),
		})
		cursor += len(samples) + sampleIndex(turnGap)
	}
	total := cursor - sampleIndex(turnGap) + sampleIndex(tail)
	m.Duration = sampleTime(total)

	for speaker := range voices {
		pcm := make([]int16, total)
		for i, t := range m.Turns {
			if t.Speaker == speaker {
				copy(pcm[sampleIndex(t.Start):], spoken[i])
			}
		}
		wav := filepath.Join(dir, speaker+".wav")
		if err := writeWAV(wav, pcm, sampleRate); err != nil {
			tb.Fatal(err)
		}
		// A fixed serial number makes the file the same on every run.
		run(tb, opusenc, "--quiet", "--speech", "--bitrate", "24", "--framesize", "20",
			"--serial", "1", wav, filepath.Join(dir, speaker+".opus"))
	}

	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), data, 0o644); err != nil {
		tb.Fatal(err)
	}
}

// speak has espeak-ng say text and sox convert it to a mono 16-bit WAV at
// rate, written to path; it returns the samples. sox's -R seeds its dither
// with a fixed number, so that every run makes the same audio.
func speak(tb testing.TB, voice, text string, rate int, path string) []int16 {
	tb.Helper()
	raw := path + ".espeak.wav"
	run(tb, espeak, "-v", voice, "-s", strconv.Itoa(wordsPerMinute), "-w", raw, text)
	run(tb, sox, "-V1", "-R", raw, "-r", strconv.Itoa(rate), "-c", "1", "-b", "16", "-e", "signed-integer", path)
	if err := os.Remove(raw); err != nil {
		tb.Fatal(err)
	}
	samples, err := readWAV(path, rate)
	if err != nil {
		tb.Fatal(err)
	}
	if len(samples) == 0 {
		tb.Fatalf("espeak-ng said nothing for %q with voice %s", text, voice)
	}
	return samples
}

// loadDialogue reads a conversation made by makeDialogue.
func loadDialogue(dir string) (*Dialogue, error) {
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, err
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	d := &Dialogue{Turns: m.Turns, Duration: m.Duration, Tracks: map[string]Track{}}
	for speaker := range voices {
		pcm, err := readWAV(filepath.Join(dir, speaker+".wav"), sampleRate)
		if err != nil {
			return nil, err
		}
		if sampleTime(len(pcm)) != m.Duration {
			return nil, fmt.Errorf("track %s lasts %v, manifest says %v", speaker, sampleTime(len(pcm)), m.Duration)
		}
		opus := filepath.Join(dir, speaker+".opus")
		if _, err := os.Stat(opus); err != nil {
			return nil, err
		}
		d.Tracks[speaker] = Track{PCM: pcm, OggOpus: opus}
	}
	for _, t := range m.Turns {
		if t.Start < 0 || t.End < t.Start || t.End > m.Duration {
			return nil, fmt.Errorf("turn %q at %v-%v lies outside the %v tracks", t.Text, t.Start, t.End, m.Duration)
		}
	}
	return d, nil
}
