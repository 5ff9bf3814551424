//go:build pocketsphinx && cgo

package pocketsphinx

import (
	"sync"

	"github.com/visio-meet/visio/internal/speech"
)

// stream follows one speaker with a decoder of its own.
type stream struct {
	engine    *Engine
	dec       *decoder
	closeOnce sync.Once
}

// Write adds samples to the current utterance, starting one if needed, and
// returns the text heard so far in it.
func (s *stream) Write(samples []int16) (string, error) {
	if err := s.dec.process(samples); err != nil {
		return "", err
	}
	return s.dec.partial()
}

// End closes the utterance and returns its final text; the next Write
// starts the next utterance.
func (s *stream) End() (speech.Result, error) {
	return s.dec.end()
}

// Close gives the decoder back to the engine; later calls return errors.
func (s *stream) Close() {
	s.closeOnce.Do(func() {
		s.engine.put(s.dec)
		// The decoder may now serve someone else; this stream must not
		// reach it any more.
		s.dec = closedDecoder()
	})
}

// closedDecoder returns a decoder that answers errClosed to everything.
func closedDecoder() *decoder { return &decoder{} }
