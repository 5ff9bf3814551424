package speechtest

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// speechFileRate is the rate Chromium's --use-file-for-fake-audio-capture
// expects.
const speechFileRate = 48000

// SpeechFile returns the path of a 48 kHz mono 16-bit WAV file of one
// speaker saying SpeechFileText, for a browser's fake microphone. It is
// made on first use and shared by every test: read it, never change it. It
// skips the test when espeak-ng or sox is missing, or fails it when
// VISIO_REQUIRE_TEST_SERVICES=1.
func SpeechFile(tb testing.TB) string {
	tb.Helper()
	requireTools(tb, espeak, sox)
	key := cacheKey(tb, []string{"speech file v2", speechFileVoice, strconv.Itoa(wordsPerMinute),
		strconv.Itoa(speechFileRate), SpeechFileText}, espeak, sox)
	path := filepath.Join(cacheDir(tb), "speech-"+key+".wav")
	if _, err := readWAV(path, speechFileRate); err == nil {
		return path
	}
	tmp, err := os.MkdirTemp(filepath.Dir(path), "speech-"+key+".tmp-")
	if err != nil {
		tb.Fatalf("test audio cache: %v", err)
	}
	defer os.RemoveAll(tmp)
	made := filepath.Join(tmp, "speech.wav")
	speak(tb, speechFileVoice, SpeechFileText, speechFileRate, made)
	publish(tb, made, path)
	return path
}
