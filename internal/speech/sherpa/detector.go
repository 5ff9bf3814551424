//go:build sherpa

package sherpa

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync"

	sherpa "github.com/k2-fsa/sherpa-onnx-go/sherpa_onnx"

	"github.com/visio-meet/visio/internal/speech"
	"github.com/visio-meet/visio/internal/speech/models"
)

// Detectors makes voice activity detectors, one per track, from a model
// checked once.
type Detectors struct {
	cfg   DetectorConfig
	files modelFiles
	vet   vetter

	mu      sync.Mutex
	checked os.FileInfo // the model file as it was when it passed
}

// NewDetectors checks the VAD model of cfg (manifest, then a load in a child
// process) and returns a factory of detectors, one per track.
func NewDetectors(ctx context.Context, cfg DetectorConfig) (*Detectors, error) {
	cfg = defaultDetectorConfig(cfg)
	f, err := findFiles(models.VAD, cfg.Model)
	if err != nil {
		return nil, err
	}
	ds := &Detectors{cfg: cfg, files: f, vet: newVetter(cfg.Prober, cfg.Logger)}
	if err := ds.check(ctx); err != nil {
		return nil, err
	}
	return ds, nil
}

// check vets the model and notes which file passed, so that New can tell
// when it was replaced afterwards.
func (ds *Detectors) check(ctx context.Context) error {
	if err := ds.vet.vet(ctx, ds.files, ds.cfg.Model); err != nil {
		return err
	}
	fi, err := os.Stat(ds.files.VAD)
	if err != nil {
		return fmt.Errorf("%w: the VAD model %s went away: %v", speech.ErrUnavailable, ds.files.VAD, err)
	}
	ds.mu.Lock()
	ds.checked = fi
	ds.mu.Unlock()
	return nil
}

// New loads a detector for one track. Each holds its own copy of the model
// (sherpa-onnx shares nothing between detectors), about 10 MB. Close frees
// it; one that is dropped without Close is freed by the garbage collector.
func (ds *Detectors) New() (*Detector, error) {
	fi, err := os.Stat(ds.files.VAD)
	ds.mu.Lock()
	checked := ds.checked
	ds.mu.Unlock()
	if err != nil || !os.SameFile(fi, checked) || fi.Size() != checked.Size() || !fi.ModTime().Equal(checked.ModTime()) {
		// Replaced since it was checked: check it again rather than
		// load something unchecked.
		if err := ds.check(context.Background()); err != nil {
			return nil, err
		}
	}
	cfg := vadConfig(ds.files.VAD, ds.cfg)
	vad := sherpa.NewVoiceActivityDetector(&cfg, vadBufferSeconds)
	if vad == nil {
		return nil, fmt.Errorf("%w: sherpa-onnx could not load the VAD model %s", speech.ErrUnavailable, ds.files.VAD)
	}
	d := &Detector{vad: vad, pending: make([]float32, 0, vadWindow)}
	d.cleanup = runtime.AddCleanup(d, func(v *sherpa.VoiceActivityDetector) { sherpa.DeleteVoiceActivityDetector(v) }, vad)
	return d, nil
}

// ForTrack returns a new detector for a track, or nil when none can be
// loaded (the reason is logged) so that the speech pipeline falls back to
// its own detector. It fits meeting and pipeline configurations that take a
// func() speech.VoiceDetector.
func (ds *Detectors) ForTrack() speech.VoiceDetector {
	d, err := ds.New()
	if err != nil {
		logger(ds.cfg.Logger).Warn("no Silero voice detector for this track: the energy detector is used", "err", err)
		return nil
	}
	return d
}

// Detector is a speech.VoiceDetector backed by Silero VAD. Silero looks at
// 32 ms windows, so 20 ms frames are buffered and each answer is that of the
// last complete window. It is used by one goroutine at a time.
type Detector struct {
	vad     *sherpa.VoiceActivityDetector
	pending []float32 // samples waiting for a whole window
	speech  bool
	cleanup runtime.Cleanup
}

// Speech takes the next samples of the track (FrameSamples at 16 kHz
// usually) and says whether the voice is on.
func (d *Detector) Speech(frame []int16) bool {
	if d.vad == nil {
		return false
	}
	for _, s := range frame {
		d.pending = append(d.pending, float32(s)/32768)
		if len(d.pending) < vadWindow {
			continue
		}
		d.vad.AcceptWaveform(d.pending)
		d.pending = d.pending[:0]
		d.speech = d.vad.IsSpeech()
		// The detector also queues the samples of each finished
		// segment; nothing here uses them, so they are dropped at
		// once to keep memory flat.
		if !d.vad.IsEmpty() {
			d.vad.Clear()
		}
	}
	return d.speech
}

// Reset forgets the track's past, for a new timeline.
func (d *Detector) Reset() {
	if d.vad == nil {
		return
	}
	d.vad.Reset()
	d.vad.Clear()
	d.pending = d.pending[:0]
	d.speech = false
}

// Close frees the detector's model. A closed detector hears nothing.
func (d *Detector) Close() {
	if d.vad == nil {
		return
	}
	d.cleanup.Stop()
	sherpa.DeleteVoiceActivityDetector(d.vad)
	d.vad = nil
}
