//go:build !pocketsphinx || !cgo

package pocketsphinx

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/visio-meet/visio/internal/speech"
)

func TestNewSaysHowToBuildWithPocketsphinx(t *testing.T) {
	e, err := New(Config{})
	if e != nil || !errors.Is(err, speech.ErrUnavailable) {
		t.Fatalf("New = %v, %v; want nil and an error wrapping speech.ErrUnavailable", e, err)
	}
	for _, want := range []string{"libpocketsphinx-dev", "pocketsphinx-en-us", "make build", "-tags pocketsphinx"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	var stub *Engine
	if h := stub.Health(context.Background()); h.State != speech.Down {
		t.Errorf("Health = %+v, want down", h)
	}
}
