//go:build sherpa

package sherpa

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/visio-meet/visio/internal/speech"
	"github.com/visio-meet/visio/internal/speech/models"
)

const frameTime = time.Second / 50

// conversation is two spoken sentences in faint noise, and where their
// voice is.
type conversation struct {
	samples []int16
	voice   [][2]time.Duration
}

func makeConversation(t testing.TB) conversation {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	gap := []time.Duration{time.Second, 1500 * time.Millisecond, time.Second}
	var c conversation
	for i, text := range []string{
		"Good morning everyone and welcome to the weekly meeting",
		"Let us now look at the budget for the next quarter",
	} {
		c.samples = append(c.samples, make([]int16, int(gap[i].Seconds()*speech.SampleRate))...)
		said := speak(t, text)
		start, end := voiced(said)
		at := len(c.samples)
		c.voice = append(c.voice, [2]time.Duration{sampleTime(at + start), sampleTime(at + end)})
		c.samples = append(c.samples, said...)
	}
	c.samples = append(c.samples, make([]int16, int(gap[2].Seconds()*speech.SampleRate))...)
	for i, n := range noise(r, len(c.samples), 30) { // about -60 dBFS
		c.samples[i] += n
	}
	return c
}

func sampleTime(i int) time.Duration { return time.Duration(i) * time.Second / speech.SampleRate }

func newTestDetectors(t *testing.T, model string) *Detectors {
	t.Helper()
	ds, err := NewDetectors(context.Background(), DetectorConfig{Model: model, Prober: ExecProber(asChild(t, "check"))})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestDetectorFindsTheVoicedRegionsOfSpeech(t *testing.T) {
	ds := newTestDetectors(t, sileroModel(t))
	d, err := ds.New()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	c := makeConversation(t)
	var heard []bool
	for _, f := range frames(c.samples) {
		heard = append(heard, d.Speech(f))
	}
	t.Logf("voice at %v; detected %s", c.voice, segments(heard))
	at := func(i int) time.Duration { return time.Duration(i) * frameTime }
	quietFrom := time.Duration(0)
	for _, v := range c.voice {
		start, end := v[0], v[1]
		// Silence before the voice is not speech.
		for i := range heard {
			if at(i) >= quietFrom && at(i+1) <= start-200*time.Millisecond && heard[i] {
				t.Errorf("silence at %v heard as speech", at(i))
				break
			}
		}
		onset := time.Duration(-1)
		for i := range heard {
			if heard[i] && at(i) >= start-500*time.Millisecond {
				onset = at(i)
				break
			}
		}
		if d := onset - start; onset < 0 || d < -200*time.Millisecond || d > 200*time.Millisecond {
			t.Errorf("speech starting at %v detected at %v", start, onset)
		}
		var in, on int
		for i := range heard {
			if at(i) >= start+300*time.Millisecond && at(i+1) <= end-100*time.Millisecond {
				in++
				if heard[i] {
					on++
				}
			}
		}
		if on*10 < in*8 {
			t.Errorf("speech %v-%v heard in %d of %d frames", start, end, on, in)
		}
		quietFrom = end + 600*time.Millisecond
	}
	for i := range heard {
		if at(i) >= quietFrom && heard[i] {
			t.Errorf("the final silence at %v heard as speech", at(i))
			break
		}
	}
}

// segments describes the runs of speech frames.
func segments(heard []bool) string {
	var b strings.Builder
	start := -1
	for i := 0; i <= len(heard); i++ {
		on := i < len(heard) && heard[i]
		if on && start < 0 {
			start = i
		}
		if !on && start >= 0 {
			fmt.Fprintf(&b, "[%v %v] ", time.Duration(start)*frameTime, time.Duration(i)*frameTime)
			start = -1
		}
	}
	return b.String()
}

func TestDetectorResetForgetsTheSpeechInProgress(t *testing.T) {
	ds := newTestDetectors(t, sileroModel(t))
	d, err := ds.New()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	said := speak(t, "Hello there, this sentence is long enough to be heard")
	speaking := false
	for _, f := range frames(said[:len(said)/2]) {
		speaking = d.Speech(f)
	}
	if !speaking {
		t.Fatal("no speech heard in the middle of a sentence")
	}
	d.Reset()
	if d.Speech(make([]int16, speech.FrameSamples)) {
		t.Fatal("after Reset, silence is still speech")
	}
	d.Close()
	if d.Speech(said[:speech.FrameSamples]) {
		t.Fatal("a closed detector heard speech")
	}
}

// identityONNX is a valid ONNX model that is not a VAD: y = Identity(x).
func identityONNX() []byte {
	varint := func(v uint64) []byte {
		var b []byte
		for v >= 0x80 {
			b = append(b, byte(v)|0x80)
			v >>= 7
		}
		return append(b, byte(v))
	}
	field := func(num int, data []byte) []byte { // length-delimited
		return append(append(varint(uint64(num)<<3|2), varint(uint64(len(data)))...), data...)
	}
	number := func(num int, v uint64) []byte { return append(varint(uint64(num)<<3), varint(v)...) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tensor := field(1, cat(number(1, 1), field(2, field(1, number(1, 1))))) // float[1]
	value := func(name string) []byte { return cat(field(1, []byte(name)), field(2, tensor)) }
	node := cat(field(1, []byte("x")), field(2, []byte("y")), field(4, []byte("Identity")))
	graph := cat(field(1, node), field(2, []byte("g")), field(11, value("x")), field(12, value("y")))
	return cat(number(1, 8), field(8, cat(field(1, nil), number(2, 13))), field(7, graph))
}

func TestProbeRefusesBrokenModelsAndTheServerLives(t *testing.T) {
	good, err := os.ReadFile(sileroModel(t))
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	random := make([]byte, 100000)
	for i := range random {
		random[i] = byte(r.UintN(256))
	}
	cases := map[string][]byte{
		"random bytes":            random,
		"a valid ONNX of a graph": identityONNX(),
		"a truncated Silero":      good[:len(good)/2],
	}
	exe := asChild(t, "check")
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "vad")
			os.Mkdir(dir, 0o755)
			os.WriteFile(filepath.Join(dir, "silero_vad_v5.onnx"), data, 0o644)
			_, err := NewDetectors(context.Background(), DetectorConfig{Model: dir, Prober: ExecProber(exe)})
			if !errors.Is(err, ErrModelRejected) || !strings.Contains(err.Error(), dir) {
				t.Fatalf("NewDetectors = %v, want the model in %s rejected", err, dir)
			}
			t.Logf("refused: %v", err)
			if _, err := os.Stat(filepath.Join(dir, probeCacheName)); err == nil {
				t.Fatal("a failed probe was remembered")
			}
		})
	}
	// This process is still here, and still loads good models.
	d, err := newTestDetectors(t, sileroModel(t)).New()
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
}

func TestVerifyRefusesAModelTamperedAfterPull(t *testing.T) {
	dir := pullSilero(t)
	ds := newTestDetectors(t, dir)
	if d, ok := ds.ForTrack().(*Detector); !ok || d == nil {
		t.Fatal("ForTrack gave no detector for a good model")
	} else {
		d.Close()
	}
	model := filepath.Join(dir, "silero_vad_v5.onnx")
	data, _ := os.ReadFile(model)
	data[len(data)/3] ^= 0x55
	// Replaced the way an editor or a copy would: a new file.
	tmp := model + ".new"
	os.WriteFile(tmp, data, 0o644)
	os.Rename(tmp, model)

	// The factory made before notices (ForTrack gives no detector, so
	// the pipeline uses its own), and so does a new one.
	if d := ds.ForTrack(); d != nil {
		t.Fatalf("ForTrack of a tampered model = %#v, want nil", d)
	}
	_, err := ds.New()
	var damaged *models.DamagedError
	if !errors.As(err, &damaged) || !strings.Contains(err.Error(), "run `visio models pull silero-vad-v5` again") {
		t.Fatalf("New after tampering = %v", err)
	}
	_, err = NewDetectors(context.Background(), DetectorConfig{Model: dir, Prober: ExecProber(asChild(t, "check"))})
	if !errors.As(err, &damaged) || !errors.Is(err, ErrModelRejected) {
		t.Fatalf("NewDetectors after tampering = %v", err)
	}
}

// rss returns the resident memory of this process in bytes.
func rss(t testing.TB) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			return kb << 10
		}
	}
	t.Skip("no VmRSS")
	return 0
}

func TestDetectorMemory(t *testing.T) {
	ds := newTestDetectors(t, sileroModel(t))
	silence := make([]int16, speech.FrameSamples)
	warm, _ := ds.New()
	warm.Speech(silence)
	before := rss(t)
	const n = 20
	var all []*Detector
	for range n {
		d, err := ds.New()
		if err != nil {
			t.Fatal(err)
		}
		for range 50 { // one second, so that inference buffers exist
			d.Speech(silence)
		}
		all = append(all, d)
	}
	per := (rss(t) - before) / n
	t.Logf("resident memory per detector: %.1f MiB", float64(per)/(1<<20))
	if per > 40<<20 {
		t.Errorf("each detector takes %d MiB", per>>20)
	}
	for _, d := range all {
		d.Close()
	}
	warm.Close()
}

func BenchmarkDetector(b *testing.B) {
	ds, err := NewDetectors(context.Background(), DetectorConfig{Model: sileroModel(b), Prober: ExecProber(asChild(b, "check"))})
	if err != nil {
		b.Fatal(err)
	}
	d, err := ds.New()
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	c := makeConversation(b)
	fs := frames(c.samples)
	b.ReportAllocs()
	cpu := cpuTime(b)
	for i := 0; b.Loop(); i++ {
		d.Speech(fs[i%len(fs)])
	}
	// Each frame is 20 ms of audio: the real-time factor of one track,
	// in wall time and in CPU time (which a busy machine disturbs less).
	audio := float64(b.N) * float64(frameTime)
	b.ReportMetric(float64(b.Elapsed())/audio, "rtf")
	b.ReportMetric(float64(cpuTime(b)-cpu)/audio, "cpu-rtf")
}

// cpuTime is the user and system time of this process so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
