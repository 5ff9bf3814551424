//go:build !sherpa

package sherpa

import (
	"context"
	"fmt"

	"github.com/visio-meet/visio/internal/speech"
)

// errNotBuilt is what the constructors of this build return.
var errNotBuilt = fmt.Errorf("%w: this visio was built without sherpa-onnx; build it with `go build -tags sherpa ./cmd/visio` (needs cgo and gcc) or `make build`", speech.ErrUnavailable)

// NewEngine returns an error wrapping speech.ErrUnavailable: this build has
// no sherpa-onnx.
func NewEngine(Config) (speech.Engine, error) { return nil, errNotBuilt }

// NewDetectors returns an error wrapping speech.ErrUnavailable: this build
// has no sherpa-onnx.
func NewDetectors(context.Context, DetectorConfig) (*Detectors, error) { return nil, errNotBuilt }

// Check returns an error wrapping speech.ErrUnavailable: this build has no
// sherpa-onnx.
func Check(kind, path string) error { return errNotBuilt }

// Detectors makes voice activity detectors; this build has none.
type Detectors struct{}

// New returns an error wrapping speech.ErrUnavailable.
func (*Detectors) New() (*Detector, error) { return nil, errNotBuilt }

// ForTrack returns nil: the pipeline's own detector is used.
func (*Detectors) ForTrack() speech.VoiceDetector { return nil }

// Detector is a voice activity detector; this build's hears nothing.
type Detector struct{}

// Speech reports no speech.
func (*Detector) Speech([]int16) bool { return false }

// Reset does nothing.
func (*Detector) Reset() {}

// Close does nothing.
func (*Detector) Close() {}
