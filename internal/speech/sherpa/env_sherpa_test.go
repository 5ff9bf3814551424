//go:build sherpa

package sherpa

import (
	"encoding/binary"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/visio-meet/visio/internal/speech"
	"github.com/visio-meet/visio/internal/speech/models"
)

// need skips a test that lacks something of the machine, or fails it where
// the environment promises everything (CI sets VISIO_REQUIRE_TEST_SERVICES).
func need(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("VISIO_REQUIRE_TEST_SERVICES") == "1" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

func cacheDir(t testing.TB) string {
	t.Helper()
	dir, err := os.UserCacheDir()
	if err != nil {
		need(t, "no cache directory: %v", err)
	}
	return filepath.Join(dir, "visio")
}

// sileroModel is the Silero VAD v5 fetched by scripts/silero-vad.sh.
func sileroModel(t testing.TB) string {
	t.Helper()
	path := filepath.Join(cacheDir(t), "models", "silero-vad-v5", "silero_vad_v5.onnx")
	m, _ := models.Lookup("silero-vad-v5")
	h, err := models.HashFile(path)
	if err != nil || h.SHA256 != m.FileSHA256["silero_vad_v5.onnx"] {
		need(t, "the Silero VAD model is not at %s: run scripts/silero-vad.sh (%v)", path, err)
	}
	return path
}

// pullSilero installs the Silero VAD as `visio models pull silero-vad-v5`
// does, from the npm tarball that scripts/silero-vad.sh keeps, and returns
// the model directory.
func pullSilero(t *testing.T) string {
	t.Helper()
	tarball := filepath.Join(cacheDir(t), "npm", "ricky0123-vad-web-0.0.31.tgz")
	if _, err := os.Stat(tarball); err != nil {
		need(t, "the npm package of the Silero VAD is not at %s: run scripts/silero-vad.sh", tarball)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, tarball)
	}))
	defer srv.Close()
	m, _ := models.Lookup("silero-vad-v5")
	m.Source = srv.URL + "/vad-web-0.0.31.tgz"
	dir := t.TempDir()
	if err := models.Pull(t.Context(), m, dir, nil); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, m.Name)
}

// speak says text with espeak-ng and returns it at 16 kHz, mono.
func speak(t testing.TB, text string) []int16 {
	t.Helper()
	for _, tool := range []string{"espeak-ng", "sox"} {
		if _, err := exec.LookPath(tool); err != nil {
			need(t, "%s is not installed (apt-get install espeak-ng sox)", tool)
		}
	}
	dir := t.TempDir()
	wav, raw := filepath.Join(dir, "speech.wav"), filepath.Join(dir, "speech.raw")
	if out, err := exec.Command("espeak-ng", "-v", "en-us", "-s", "150", "-w", wav, text).CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng: %v\n%s", err, out)
	}
	if out, err := exec.Command("sox", wav, "-r", "16000", "-c", "1", "-b", "16", "-e", "signed-integer", "-t", "raw", raw).CombinedOutput(); err != nil {
		t.Fatalf("sox: %v\n%s", err, out)
	}
	data, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	samples := make([]int16, len(data)/2)
	for i := range samples {
		samples[i] = int16(binary.LittleEndian.Uint16(data[2*i:]))
	}
	return samples
}

// voiced returns where the voice of an utterance starts and ends: espeak
// leaves some silence around it.
func voiced(samples []int16) (start, end int) {
	const loud = 1000 // about -30 dBFS
	start, end = -1, -1
	for i, s := range samples {
		if s > loud || s < -loud {
			if start < 0 {
				start = i
			}
			end = i
		}
	}
	return start, end
}

// noise is faint white noise, so that silence is not digital zero.
func noise(r *rand.Rand, n int, amplitude float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(r.NormFloat64() * amplitude)
	}
	return out
}

func frames(samples []int16) [][]int16 {
	var out [][]int16
	for i := 0; i+speech.FrameSamples <= len(samples); i += speech.FrameSamples {
		out = append(out, samples[i:i+speech.FrameSamples])
	}
	return out
}
