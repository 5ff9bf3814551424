//go:build pocketsphinx && cgo

package pocketsphinx

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/visio-meet/visio/internal/speech"
	"github.com/visio-meet/visio/internal/speech/speechtest"
)

func TestNewWithoutModel(t *testing.T) {
	_, err := New(Config{ModelDir: t.TempDir()})
	if !errors.Is(err, speech.ErrUnavailable) || !strings.Contains(err.Error(), "pocketsphinx-en-us") {
		t.Errorf("New on an empty directory = %v, want an error wrapping ErrUnavailable naming the package", err)
	}
}

// TestNewWithCorruptLanguageModel checks that a damaged file the library
// can detect gives an error naming it, not a crash.
func TestNewWithCorruptLanguageModel(t *testing.T) {
	newEngine(t, Config{}) // skips without the Debian model
	dir := t.TempDir()
	for _, name := range []string{"en-us", "cmudict-en-us.dict"} {
		if err := os.Symlink(filepath.Join(DefaultModelDir, name), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	garbage := bytes.Repeat([]byte("not a language model "), 1000)
	if err := os.WriteFile(filepath.Join(dir, "en-us.lm.bin"), garbage, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := New(Config{ModelDir: dir})
	if !errors.Is(err, speech.ErrUnavailable) {
		t.Fatalf("New = %v, want an error wrapping ErrUnavailable", err)
	}
	for _, want := range []string{"en-us.lm.bin", "pocketsphinx-en-us"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if strings.Contains(err.Error(), ".c\", line") {
		t.Errorf("error %q shows the library's source position", err)
	}
}

// TestBadAudio feeds what a broken microphone or a decoder error could
// give: nothing crashes, and an engine stays usable afterwards.
func TestBadAudio(t *testing.T) {
	e := newEngine(t, Config{})
	rng := rand.New(rand.NewPCG(1, 2))
	noise := make([]int16, 3*speech.SampleRate)
	for i := range noise {
		noise[i] = int16(rng.IntN(65536) - 32768)
	}
	clipped := make([]int16, speech.SampleRate)
	for i := range clipped {
		clipped[i] = 32767
		if i/40%2 == 0 {
			clipped[i] = -32768
		}
	}
	for name, samples := range map[string][]int16{
		"empty":    nil,
		"1 sample": {12345},
		"noise":    noise,
		"clipped":  clipped,
	} {
		r, err := e.Transcribe(t.Context(), speech.Audio{Samples: samples})
		if err != nil {
			t.Errorf("Transcribe(%s): %v", name, err)
		}
		if r.Language != "en" {
			t.Errorf("Transcribe(%s): language %q, want en", name, r.Language)
		}
		t.Logf("Transcribe(%s) = %q", name, r.Text)

		st, err := e.NewStream("en")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Write(samples); err != nil {
			t.Errorf("Write(%s): %v", name, err)
		}
		if _, err := st.End(); err != nil {
			t.Errorf("End after %s: %v", name, err)
		}
		st.Close()
	}
	if r, err := e.Transcribe(t.Context(), speech.Audio{Samples: nil}); err != nil || r.Text != "" {
		t.Errorf("empty audio = %q, %v; want no text", r.Text, err)
	}
}

func TestStreamEndWithoutAudio(t *testing.T) {
	e := newEngine(t, Config{})
	st, err := e.NewStream("")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for range 2 {
		r, err := st.End()
		if err != nil || r.Text != "" || r.Language != "en" {
			t.Errorf("End without audio = %+v, %v; want empty English text", r, err)
		}
	}
}

func TestOtherLanguageIsHeardAsEnglish(t *testing.T) {
	d := speechtest.Conversation(t)
	e := newEngine(t, Config{})
	r, err := e.Transcribe(t.Context(), speech.Audio{Samples: d.TurnAudio(0), Language: "fr"})
	if err != nil {
		t.Fatalf("asking for French: %v, want English text and no error", err)
	}
	if r.Language != "en" || r.Text == "" {
		t.Errorf("asking for French gave %+v, want English text", r)
	}
	st, err := e.NewStream("fr")
	if err != nil {
		t.Fatalf("NewStream(fr): %v", err)
	}
	st.Close()
	if h := e.Health(t.Context()); h.State != speech.Healthy || !strings.Contains(h.Detail, "English only") {
		t.Errorf("Health = %+v, want healthy, saying English only", h)
	}
}

// TestConcurrentTranscribe checks the pool: more callers than decoders all
// get the text one caller alone gets.
func TestConcurrentTranscribe(t *testing.T) {
	d := speechtest.Conversation(t)
	audio := speech.Audio{Samples: d.TurnAudio(3)}
	// Each decoder adapts to the audio it has heard, so every caller uses
	// a decoder that has heard nothing before, as the first one did.
	alone := newEngine(t, Config{Decoders: 1})
	want, err := alone.Transcribe(t.Context(), audio)
	if err != nil {
		t.Fatal(err)
	}
	e := newEngine(t, Config{Decoders: 2})
	var wg sync.WaitGroup
	got := make([]speech.Result, 2)
	errs := make([]error, 2)
	for i := range got {
		wg.Go(func() { got[i], errs[i] = e.Transcribe(t.Context(), audio) })
	}
	// A third caller waits for a decoder rather than failing.
	third, thirdErr := e.Transcribe(t.Context(), speech.Audio{Samples: d.TurnAudio(4)})
	wg.Wait()
	for i := range got {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
	}
	if thirdErr != nil || third.Text == "" {
		t.Errorf("third caller: %q, %v", third.Text, thirdErr)
	}
	// The two callers may have had the fresh decoder or the one the third
	// caller used; at least one had a fresh one.
	if got[0].Text != want.Text && got[1].Text != want.Text {
		t.Errorf("concurrent results %q and %q, alone %q", got[0].Text, got[1].Text, want.Text)
	}
}

func TestTranscribeWaitsForDecoderWithinContext(t *testing.T) {
	e := newEngine(t, Config{Decoders: 1})
	// Take the only slot, as a long transcription would.
	e.slots <- struct{}{}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := e.Transcribe(ctx, speech.Audio{Samples: make([]int16, speech.SampleRate)})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Transcribe with every decoder busy = %v, want the context's deadline", err)
	}
	<-e.slots

	cancelled, cancelNow := context.WithCancel(t.Context())
	cancelNow()
	if _, err := e.Transcribe(cancelled, speech.Audio{Samples: make([]int16, speech.SampleRate)}); !errors.Is(err, context.Canceled) {
		t.Errorf("Transcribe with a cancelled context = %v", err)
	}
}

func TestClose(t *testing.T) {
	d := speechtest.Conversation(t)
	e := newEngine(t, Config{})
	st, err := e.NewStream("en")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Write(d.TurnAudio(0)[:8000]); err != nil {
		t.Fatal(err)
	}

	// A transcription in progress when the engine closes ends with an
	// error or its text, never a crash.
	done := make(chan error)
	go func() {
		_, err := e.Transcribe(context.Background(), speech.Audio{Samples: d.TurnAudio(1)})
		done <- err
	}()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil && !errors.Is(err, errClosed) {
		t.Errorf("Transcribe during Close: %v", err)
	}

	if _, err := e.Transcribe(t.Context(), speech.Audio{Samples: d.TurnAudio(0)}); err == nil {
		t.Error("Transcribe after Close succeeded")
	}
	if _, err := e.NewStream("en"); err == nil {
		t.Error("NewStream after Close succeeded")
	}
	if _, err := st.Write(d.TurnAudio(0)[8000:16000]); err == nil {
		t.Error("Write on a stream of a closed engine succeeded")
	}
	if _, err := st.End(); err == nil {
		t.Error("End on a stream of a closed engine succeeded")
	}
	st.Close()
	st.Close()
	if h := e.Health(t.Context()); h.State != speech.Down {
		t.Errorf("Health after Close = %+v, want down", h)
	}
	if err := e.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestStreamAfterClose(t *testing.T) {
	e := newEngine(t, Config{})
	st, err := e.NewStream("en")
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if _, err := st.Write(make([]int16, 320)); !errors.Is(err, errClosed) {
		t.Errorf("Write after Close = %v, want errClosed", err)
	}
	// The closed stream's decoder went back to the engine and serves the
	// next stream.
	next, err := e.NewStream("en")
	if err != nil {
		t.Fatal(err)
	}
	defer next.Close()
	if _, err := next.Write(make([]int16, 320)); err != nil {
		t.Errorf("Write on the next stream: %v", err)
	}
}
