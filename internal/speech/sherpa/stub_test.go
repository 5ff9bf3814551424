//go:build !sherpa

package sherpa

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/visio-meet/visio/internal/speech"
)

func TestWithoutSherpaEverythingSaysHowToBuildIt(t *testing.T) {
	_, e1 := NewEngine(Config{ModelDir: t.TempDir()})
	_, e2 := NewDetectors(context.Background(), DetectorConfig{Model: t.TempDir()})
	e3 := Check("vad", t.TempDir())
	var ds Detectors
	_, e4 := ds.New()
	for i, err := range []error{e1, e2, e3, e4} {
		if !errors.Is(err, speech.ErrUnavailable) || !strings.Contains(err.Error(), "-tags sherpa") {
			t.Errorf("constructor %d: %v", i, err)
		}
	}
}
