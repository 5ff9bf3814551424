//go:build pocketsphinx && cgo

package pocketsphinx

/*
#cgo pkg-config: pocketsphinx sphinxbase
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <pocketsphinx.h>
#include <sphinxbase/err.h>

// The library logs a great deal, process-wide, through a callback and
// straight to a file. The file is turned off and the callback replaced, once,
// by one that keeps only the first error of the calling thread, so that a
// failed ps_init can say why without any log output.
static __thread char visio_ps_error[512];

static void visio_ps_log(void *user_data, err_lvl_t level, const char *fmt, ...) {
	(void)user_data;
	if (level < ERR_ERROR || visio_ps_error[0] != '\0') {
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(visio_ps_error, sizeof visio_ps_error, fmt, ap);
	va_end(ap);
}

static pthread_once_t visio_ps_log_once = PTHREAD_ONCE_INIT;

static void visio_ps_silence(void) {
	err_set_logfp(NULL);
	err_set_callback(visio_ps_log, NULL);
}

// visio_ps_new makes a decoder; cmd_ln_init is variadic, which cgo cannot
// call. On failure, the library's first error is copied into errbuf within
// this one call, while still on the thread that logged it.
static ps_decoder_t *visio_ps_new(const char *hmm, const char *lm, const char *dict,
                                  char *errbuf, size_t errlen) {
	pthread_once(&visio_ps_log_once, visio_ps_silence);
	visio_ps_error[0] = '\0';
	cmd_ln_t *config = cmd_ln_init(NULL, ps_args(), TRUE,
		"-hmm", hmm, "-lm", lm, "-dict", dict, "-samprate", "16000", NULL);
	ps_decoder_t *ps = NULL;
	if (config != NULL) {
		ps = ps_init(config);
		// ps_init keeps its own reference.
		cmd_ln_free_r(config);
	}
	if (ps == NULL) {
		snprintf(errbuf, errlen, "%s", visio_ps_error[0] != '\0' ? visio_ps_error : "no reason given");
	}
	return ps;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/visio-meet/visio/internal/speech"
)

// errClosed is returned by every use of a decoder, stream or engine after
// Close.
var errClosed = errors.New("pocketsphinx: engine or stream is closed; make a new one")

// frameDuration is the length of the library's frames (its default -frate
// of 100 per second), the unit of word times.
const frameDuration = 10 * time.Millisecond

// decoder is one pocketsphinx decoder. Its mutex lets Close free it while
// another goroutine uses it: each C call holds the lock, and after the free
// every method returns errClosed.
type decoder struct {
	mu          sync.Mutex
	ps          *C.ps_decoder_t // nil once freed
	inUtterance bool
}

// newDecoder loads the model into a new decoder; this takes about half a
// second and 90 MB.
func newDecoder(m model) (*decoder, error) {
	hmm, lm, dict := C.CString(m.acoustic), C.CString(m.languageModel), C.CString(m.dictionary)
	defer C.free(unsafe.Pointer(hmm))
	defer C.free(unsafe.Pointer(lm))
	defer C.free(unsafe.Pointer(dict))
	var reason [512]C.char
	ps := C.visio_ps_new(hmm, lm, dict, &reason[0], C.size_t(len(reason)))
	if ps == nil {
		return nil, fmt.Errorf("pocketsphinx: could not load the model in %s: %s: "+
			"reinstall the Debian package pocketsphinx-en-us, or check ModelDir",
			m.dir, libraryMessage(C.GoString(&reason[0])))
	}
	return &decoder{ps: ps}, nil
}

// libraryMessage drops the level and source position the library puts
// before its messages (`ERROR: "file.c", line 456: `), which mean nothing
// to an operator.
func libraryMessage(msg string) string {
	msg = strings.TrimSpace(msg)
	if !strings.HasPrefix(msg, "ERROR: ") {
		return msg
	}
	if i := strings.Index(msg, ", line "); i >= 0 {
		if j := strings.Index(msg[i:], ": "); j >= 0 {
			return msg[i+j+2:]
		}
	}
	return msg
}

// process adds samples to the utterance, starting it if needed.
func (d *decoder) process(samples []int16) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ps == nil {
		return errClosed
	}
	if !d.inUtterance {
		if C.ps_start_utt(d.ps) < 0 {
			return errors.New("pocketsphinx: could not start an utterance")
		}
		d.inUtterance = true
	}
	if len(samples) == 0 {
		return nil
	}
	// Go memory passed only for the call, and holding no Go pointers.
	n := C.ps_process_raw(d.ps, (*C.int16)(unsafe.Pointer(&samples[0])), C.size_t(len(samples)), 0, 0)
	if n < 0 {
		return errors.New("pocketsphinx: could not decode audio")
	}
	return nil
}

// partial returns the best text so far in the utterance.
func (d *decoder) partial() (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ps == nil {
		return "", errClosed
	}
	if !d.inUtterance {
		return "", nil
	}
	return d.hypothesis(), nil
}

// hypothesis returns the library's best text; d.mu is held.
func (d *decoder) hypothesis() string {
	var score C.int32
	hyp := C.ps_get_hyp(d.ps, &score)
	if hyp == nil {
		return ""
	}
	return strings.TrimSpace(C.GoString(hyp))
}

// end closes the utterance and returns its text and words. Without an
// utterance it returns an empty result.
func (d *decoder) end() (speech.Result, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ps == nil {
		return speech.Result{}, errClosed
	}
	r := speech.Result{Language: "en"}
	if !d.inUtterance {
		return r, nil
	}
	d.inUtterance = false
	if C.ps_end_utt(d.ps) < 0 {
		return r, errors.New("pocketsphinx: could not end the utterance")
	}
	r.Text = d.hypothesis()
	r.Pieces = d.words()
	return r, nil
}

// words returns the words of the final hypothesis with their times; d.mu is
// held.
func (d *decoder) words() []speech.Piece {
	var pieces []speech.Piece
	// This version numbers frames from the decoder's first utterance, not
	// from the current one; the first segment, the sentence start "<s>",
	// marks where the current one begins.
	base, first := C.int(0), true
	// The iterator frees itself when it reaches the end.
	for seg := C.ps_seg_iter(d.ps); seg != nil; seg = C.ps_seg_next(seg) {
		var sf, ef C.int
		C.ps_seg_frames(seg, &sf, &ef)
		if first {
			base, first = sf, false
		}
		word := C.GoString(C.ps_seg_word(seg))
		// Silence, sentence marks and noise ("<sil>", "</s>", "[NOISE]")
		// are not words.
		if word == "" || word[0] == '<' || word[0] == '[' {
			continue
		}
		// Alternative pronunciations are numbered: "thursday(2)".
		if i := strings.IndexByte(word, '('); i > 0 {
			word = word[:i]
		}
		pieces = append(pieces, speech.Piece{
			Start: time.Duration(sf-base) * frameDuration,
			End:   time.Duration(ef+1-base) * frameDuration,
			Text:  word,
		})
	}
	return pieces
}

// reset drops an unfinished utterance, so that the decoder can be reused.
func (d *decoder) reset() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ps != nil && d.inUtterance {
		C.ps_end_utt(d.ps)
		d.inUtterance = false
	}
}

// free releases the decoder's memory; it may be called more than once.
func (d *decoder) free() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ps != nil {
		C.ps_free(d.ps)
		d.ps = nil
	}
}
