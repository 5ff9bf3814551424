package speechapi

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// opusFile encodes samples with opusenc, as a client recording in a
// browser or with ffmpeg would send them.
func opusFile(t *testing.T, wavData []byte, args ...string) []byte {
	t.Helper()
	opusenc, err := exec.LookPath("opusenc")
	if err != nil {
		if os.Getenv("VISIO_REQUIRE_TEST_SERVICES") == "1" {
			t.Fatal("opusenc is not installed and VISIO_REQUIRE_TEST_SERVICES=1: apt-get install opus-tools")
		}
		t.Skip("opusenc is not installed (apt-get install opus-tools); skipping the Ogg Opus tests")
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.wav"), filepath.Join(dir, "out.opus")
	if err := os.WriteFile(in, wavData, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(opusenc, append(append([]string{"--quiet"}, args...), in, out)...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("opusenc: %v: %s", err, msg)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestOggOpus(t *testing.T) {
	mono48 := wavFile(t, tone(440, 48000, 2*time.Second), 48000)
	stereo := tone(440, 48000, 2*time.Second)
	interleaved := make([]int16, 2*len(stereo))
	for i, v := range stereo {
		interleaved[2*i], interleaved[2*i+1] = v, v
	}
	tests := []struct {
		name string
		file func(t *testing.T) []byte
		want string
	}{
		{"speech 24 kb/s", func(t *testing.T) []byte { return opusFile(t, mono48, "--speech", "--bitrate", "24") }, "2000 ms at 440 Hz\n"},
		{"music 64 kb/s", func(t *testing.T) []byte { return opusFile(t, mono48, "--music", "--bitrate", "64") }, "2000 ms at 440 Hz\n"},
		{"stereo", func(t *testing.T) []byte { return opusFile(t, stereoWAV(t, interleaved, 48000)) }, "2000 ms at 440 Hz\n"},
		{"16 kHz input", func(t *testing.T) []byte {
			return opusFile(t, wavFile(t, tone(440, 16000, 2*time.Second), 16000))
		}, "2000 ms at 440 Hz\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			engine := &toneEngine{}
			body, ct := form(t, part{"file", "a.opus", string(tt.file(t))}, part{"response_format", "", "text"})
			w := post(New(Config{Engine: engine}), body, ct)
			if w.Code != http.StatusOK || w.Body.String() != tt.want {
				t.Errorf("status %d, body %q; want %q", w.Code, w.Body.String(), tt.want)
			}
		})
	}
}

func TestOggOpusDamaged(t *testing.T) {
	file := opusFile(t, wavFile(t, tone(440, 48000, 6*time.Second), 48000))

	// Cut short, as an upload that stopped: the first part is still heard.
	body, ct := form(t, part{"file", "a.opus", string(file[:len(file)/2])}, part{"response_format", "", "text"})
	w := post(New(Config{Engine: &toneEngine{}}), body, ct)
	if w.Code != http.StatusOK || !strings.HasSuffix(w.Body.String(), "ms at 440 Hz\n") || strings.HasPrefix(w.Body.String(), "6000 ms") {
		t.Errorf("half a file: status %d, body %q; want part of the tone", w.Code, w.Body.String())
	}

	// A changed byte fails the page checksum.
	broken := []byte(string(file))
	broken[len(broken)/2] ^= 0xFF
	body, ct = form(t, part{"file", "a.opus", string(broken)})
	w = post(New(Config{Engine: &toneEngine{}}), body, ct)
	if w.Code != http.StatusBadRequest || openAIError(t, w).Error.Code != "invalid_audio" {
		t.Errorf("damaged page: status %d, body %s; want 400 invalid_audio", w.Code, w.Body.String())
	}

	// Longer than the server takes: refused while decoding.
	body, ct = form(t, part{"file", "a.opus", string(file)})
	w = post(New(Config{Engine: &toneEngine{}, MaxDuration: 5 * time.Second}), body, ct)
	if w.Code != http.StatusRequestEntityTooLarge || openAIError(t, w).Error.Code != "audio_too_long" {
		t.Errorf("too long: status %d, body %s; want 413 audio_too_long", w.Code, w.Body.String())
	}
}
