package sherpa

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/visio-meet/visio/internal/speech"
	"github.com/visio-meet/visio/internal/speech/models"
)

func touch(t *testing.T, dir string, names ...string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFindFilesOfAWhisperModelPrefersInt8(t *testing.T) {
	dir := t.TempDir()
	touch(t, dir, "tiny-encoder.onnx", "tiny-encoder.int8.onnx", "tiny-decoder.onnx", "tiny-decoder.int8.onnx", "tiny-tokens.txt", "README.md")
	f, err := findFiles(models.Offline, dir)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(f.Encoder) != "tiny-encoder.int8.onnx" || filepath.Base(f.Decoder) != "tiny-decoder.int8.onnx" ||
		filepath.Base(f.Tokens) != "tiny-tokens.txt" || f.Joiner != "" || !f.whisper() {
		t.Fatalf("found %+v", f)
	}
}

func TestFindFilesOfAStreamingTransducer(t *testing.T) {
	dir := t.TempDir()
	touch(t, dir, "encoder.onnx", "decoder.onnx", "joiner.onnx", "tokens.txt", models.ManifestName)
	f, err := findFiles(models.Streaming, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.paths()) != 4 || f.whisper() {
		t.Fatalf("found %+v", f)
	}
	// The same files as an offline model are a transducer, not Whisper.
	if f, err := findFiles(models.Offline, dir); err != nil || f.whisper() {
		t.Fatalf("offline transducer: %+v, %v", f, err)
	}
}

func TestFindFilesSaysWhatIsMissing(t *testing.T) {
	cases := []struct {
		kind  models.Kind
		files []string
		want  string
	}{
		{models.Offline, []string{"tiny-encoder.onnx", "tiny-decoder.onnx"}, "no tokens file"},
		{models.Streaming, []string{"encoder.onnx", "decoder.onnx", "tokens.txt"}, "no joiner file"},
		{models.Offline, nil, "no encoder file"},
		{models.VAD, []string{"a.onnx", "b.onnx"}, "several .onnx files (a.onnx, b.onnx)"},
		{models.VAD, []string{"README"}, "no *.onnx file"},
	}
	for _, c := range cases {
		dir := t.TempDir()
		touch(t, dir, c.files...)
		_, err := findFiles(c.kind, dir)
		if !errors.Is(err, speech.ErrUnavailable) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "visio models pull") {
			t.Errorf("%s %v: error %v, want it to say %q and what to do", c.kind, c.files, err, c.want)
		}
	}
	if _, err := findFiles(models.VAD, filepath.Join(t.TempDir(), "nothing")); !errors.Is(err, speech.ErrUnavailable) {
		t.Errorf("a missing model gave %v", err)
	}
}

func TestFindFilesTakesAVADFileItself(t *testing.T) {
	dir := t.TempDir()
	touch(t, dir, "silero_vad_v5.onnx", "silero_vad_v6.onnx")
	f, err := findFiles(models.VAD, filepath.Join(dir, "silero_vad_v6.onnx"))
	if err != nil || f.VAD != filepath.Join(dir, "silero_vad_v6.onnx") || f.Dir != dir {
		t.Fatalf("found %+v, %v", f, err)
	}
}

func TestModelKindAndChoice(t *testing.T) {
	root := t.TempDir()
	touch(t, filepath.Join(root, "fr-live"), "encoder.onnx", "decoder.onnx", "joiner.onnx", "tokens.txt")
	touch(t, filepath.Join(root, "vad"), "silero_vad_v5.onnx")
	touch(t, filepath.Join(root, ".install-x"), "encoder.onnx")
	if k, err := modelKind(filepath.Join(root, "fr-live"), ""); err != nil || k != models.Streaming {
		t.Fatalf("kind of a transducer = %v, %v", k, err)
	}
	if k, err := modelKind(filepath.Join(root, "fr-live"), models.Offline); err != nil || k != models.Offline {
		t.Fatalf("configured kind = %v, %v", k, err)
	}
	if !isModelDir(filepath.Join(root, "fr-live")) || isModelDir(root) {
		t.Fatal("isModelDir does not tell a model from a directory of models")
	}
	if name, err := chooseModel(root); err != nil || name != "fr-live" {
		t.Fatalf("chose %q, %v", name, err)
	}
	touch(t, filepath.Join(root, "whisper"), "tiny-encoder.onnx", "tiny-decoder.onnx", "tiny-tokens.txt")
	if k, _ := modelKind(filepath.Join(root, "whisper"), ""); k != models.Offline {
		t.Fatalf("kind of a Whisper model = %v", k)
	}
	if _, err := chooseModel(root); !errors.Is(err, speech.ErrUnavailable) || !strings.Contains(err.Error(), "fr-live, whisper") {
		t.Fatalf("two models: %v", err)
	}
	if _, err := chooseModel(filepath.Join(root, "vad")); !errors.Is(err, speech.ErrUnavailable) {
		t.Fatalf("no model: %v", err)
	}
}

func TestDetectorDefaults(t *testing.T) {
	d := defaultDetectorConfig(DetectorConfig{Threshold: 7})
	if d.Threshold != 0.5 || d.MinSpeech != 64*time.Millisecond || d.MinSilence != 200*time.Millisecond {
		t.Fatalf("defaults %+v", d)
	}
	d = defaultDetectorConfig(DetectorConfig{Threshold: 0.3, MinSpeech: time.Second})
	if d.Threshold != 0.3 || d.MinSpeech != time.Second {
		t.Fatalf("kept %+v", d)
	}
}
