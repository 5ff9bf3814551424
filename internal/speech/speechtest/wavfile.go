package speechtest

import (
	"bufio"
	"fmt"
	"os"

	"github.com/visio-meet/visio/internal/speech/wav"
)

// maxWAVBytes bounds the files read back from the cache: a few minutes of
// audio, far more than any file made here.
const maxWAVBytes = 64 << 20

// readWAV reads a mono WAV file of the given sample rate.
func readWAV(path string, wantRate int) ([]int16, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	samples, rate, channels, err := wav.Decode(bufio.NewReader(f), maxWAVBytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if rate != wantRate || channels != 1 {
		return nil, fmt.Errorf("%s: %d channels at %d Hz, want mono at %d Hz", path, channels, rate, wantRate)
	}
	return samples, nil
}

// writeWAV writes a mono 16-bit WAV file.
func writeWAV(path string, samples []int16, rate int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	if err := wav.Encode(w, samples, rate); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}
