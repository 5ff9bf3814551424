//go:build sherpa

package sherpa

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/visio-meet/visio/internal/speech"
	"github.com/visio-meet/visio/internal/speech/models"
)

// There is no speech-to-text model on this machine: these tests check that
// what is missing or wrong gives an error saying what to do, never a crash.

func TestEngineWithoutAModelSaysWhatToInstall(t *testing.T) {
	root := t.TempDir()
	exe := asChild(t, "check")
	os.Mkdir(filepath.Join(root, "half-whisper"), 0o755)
	os.WriteFile(filepath.Join(root, "half-whisper", "tiny-encoder.onnx"), []byte("x"), 0o644)
	cases := []struct {
		cfg  Config
		want string
	}{
		{Config{}, "no speech model directory"},
		{Config{ModelDir: filepath.Join(root, "none")}, "visio models pull"},
		{Config{ModelDir: root, Model: "whisper-base", Prober: ExecProber(exe)}, "visio models pull"},
		{Config{ModelDir: root, Model: "half-whisper", Prober: ExecProber(exe)}, "no decoder file"},
		{Config{ModelDir: root, Model: "../etc", Prober: ExecProber(exe)}, "not the name of a directory"},
	}
	for _, c := range cases {
		e, err := NewEngine(c.cfg)
		if e != nil || !errors.Is(err, speech.ErrUnavailable) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewEngine(%+v) = %v, %v; want an unavailable engine saying %q", c.cfg, e, err, c.want)
		}
	}
}

// fakeASR lays out the Silero VAD as if it were a speech-to-text model: a
// valid ONNX file of the wrong kind in every role.
func fakeASR(t *testing.T, root, name string, roles ...string) {
	t.Helper()
	vad, err := os.ReadFile(sileroModel(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, name)
	os.MkdirAll(dir, 0o755)
	for _, r := range roles {
		os.WriteFile(filepath.Join(dir, r+".onnx"), vad, 0o644)
	}
	os.WriteFile(filepath.Join(dir, "tokens.txt"), []byte("<blk> 0\na 1\n"), 0o644)
}

func TestEngineRefusesAModelOfTheWrongKind(t *testing.T) {
	root := t.TempDir()
	fakeASR(t, root, "whisper-lookalike", "tiny-encoder", "tiny-decoder")
	fakeASR(t, root, "zipformer-lookalike", "encoder", "decoder", "joiner")
	exe := asChild(t, "check")
	for _, name := range []string{"whisper-lookalike", "zipformer-lookalike"} {
		e, err := NewEngine(Config{ModelDir: root, Model: name, Prober: ExecProber(exe)})
		if e != nil || !errors.Is(err, ErrModelRejected) || !errors.Is(err, speech.ErrUnavailable) ||
			!strings.Contains(err.Error(), filepath.Join(root, name)) {
			t.Fatalf("NewEngine(%s) = %v, %v; want the model rejected", name, e, err)
		}
		t.Logf("refused: %v", err)
	}
	// Given as the model directory itself, it is refused the same way.
	_, err := NewEngine(Config{ModelDir: filepath.Join(root, "whisper-lookalike"), Prober: ExecProber(exe)})
	if !errors.Is(err, ErrModelRejected) {
		t.Fatalf("NewEngine of the model directory = %v", err)
	}
}

func TestEngineRefusesAVoiceDetectorAsSpeechToText(t *testing.T) {
	dir := pullSilero(t)
	_, err := NewEngine(Config{ModelDir: filepath.Dir(dir), Model: filepath.Base(dir), Prober: ExecProber(asChild(t, "check"))})
	if !errors.Is(err, speech.ErrUnavailable) || !strings.Contains(err.Error(), "voice activity detector") {
		t.Fatalf("NewEngine of a VAD = %v", err)
	}
	// Asked for anyway as Whisper, its files do not fit.
	_, err = NewEngine(Config{ModelDir: filepath.Dir(dir), Model: filepath.Base(dir), Kind: models.Offline, Prober: ExecProber(asChild(t, "check"))})
	if !errors.Is(err, speech.ErrUnavailable) || !strings.Contains(err.Error(), "no encoder file") {
		t.Fatalf("NewEngine of a VAD as Whisper = %v", err)
	}
}

func TestCheckOfAMissingModelIsAnError(t *testing.T) {
	for _, kind := range []string{"vad", "asr-offline", "asr-streaming"} {
		if err := Check(kind, filepath.Join(t.TempDir(), "nothing")); !errors.Is(err, speech.ErrUnavailable) {
			t.Errorf("Check(%s) of nothing = %v", kind, err)
		}
	}
	if err := Check("tts", t.TempDir()); err == nil {
		t.Error("Check accepted an unknown kind")
	}
	if err := Check("vad", sileroModel(t)); err != nil {
		t.Errorf("Check of the real VAD = %v", err)
	}
}
