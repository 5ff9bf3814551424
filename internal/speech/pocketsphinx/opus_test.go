//go:build pocketsphinx && cgo

package pocketsphinx

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"github.com/pion/opus"
	"github.com/pion/opus/pkg/oggreader"

	"github.com/visio-meet/visio/internal/speech"
	"github.com/visio-meet/visio/internal/speech/speechtest"
)

// decodeOggOpus decodes an Ogg Opus file to 16 kHz mono, as the pipeline
// decodes a participant's RTP packets, dropping the encoder's pre-skip so
// that the samples line up with the original timeline.
func decodeOggOpus(t *testing.T, path string) []int16 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ogg, header, err := oggreader.NewWith(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	dec, err := opus.NewDecoderWithOutput(speech.SampleRate, 1)
	if err != nil {
		t.Fatal(err)
	}
	var pcm []int16
	buf := make([]int16, 5760)
	for {
		packet, _, err := ogg.ParseNextPacket()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if bytes.HasPrefix(packet, []byte("OpusTags")) {
			continue
		}
		n, err := dec.DecodeToInt16(packet, buf)
		if err != nil {
			t.Fatalf("%s: decoding a packet: %v", path, err)
		}
		pcm = append(pcm, buf[:n]...)
	}
	// Pre-skip is counted at 48 kHz.
	skip := int(header.PreSkip) * speech.SampleRate / 48000
	if skip > len(pcm) {
		t.Fatalf("%s: %d samples, fewer than the pre-skip", path, len(pcm))
	}
	return pcm[skip:]
}

func TestTranscribeOpusConversation(t *testing.T) {
	skipIfShort(t)
	d := speechtest.Conversation(t)
	e := newEngine(t, Config{})
	tracks := map[string][]int16{}
	for speaker, track := range d.Tracks {
		pcm := decodeOggOpus(t, track.OggOpus)
		if diff := time.Duration(len(pcm)-len(track.PCM)) * time.Second / speech.SampleRate; diff < -30*time.Millisecond || diff > 30*time.Millisecond {
			t.Errorf("track %s: decoded Opus lasts %v longer than the PCM", speaker, diff)
		}
		tracks[speaker] = pcm
	}
	heard := make([]string, len(d.Turns))
	before := cpuTime(t)
	for i, turn := range d.Turns {
		pcm := tracks[turn.Speaker]
		from := int(turn.Start * speech.SampleRate / time.Second)
		to := min(int(turn.End*speech.SampleRate/time.Second), len(pcm))
		r, err := e.Transcribe(t.Context(), speech.Audio{Samples: pcm[from:to]})
		if err != nil {
			t.Fatal(err)
		}
		heard[i] = r.Text
	}
	checkHeard(t, "Opus", d, heard, cpuTime(t)-before)
}
