package sherpa

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/visio-meet/visio/internal/speech"
	"github.com/visio-meet/visio/internal/speech/models"
)

// modelFiles are the files of a model that sherpa-onnx loads.
type modelFiles struct {
	Kind models.Kind
	Dir  string // the model's directory: its manifest and probe cache are there
	VAD  string
	// Speech-to-text: Whisper has no joiner, transducers have one.
	Encoder, Decoder, Joiner, Tokens string
}

// paths lists the files that are loaded.
func (f modelFiles) paths() []string {
	var out []string
	for _, p := range []string{f.VAD, f.Encoder, f.Decoder, f.Joiner, f.Tokens} {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (f modelFiles) whisper() bool { return f.Kind == models.Offline && f.Joiner == "" }

// findFiles finds the files of a model of the given kind at path: a model
// directory, or for a VAD also the .onnx file itself.
func findFiles(kind models.Kind, path string) (modelFiles, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return modelFiles{}, fmt.Errorf("%w: no %s model at %s: install one with `visio models pull NAME` (see `visio models known`)", speech.ErrUnavailable, kind, path)
	}
	if kind == models.VAD && !fi.IsDir() {
		return modelFiles{Kind: kind, Dir: filepath.Dir(path), VAD: path}, nil
	}
	if !fi.IsDir() {
		return modelFiles{}, fmt.Errorf("%w: %s is a file; a speech-to-text model is a directory of files", speech.ErrUnavailable, path)
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return modelFiles{}, fmt.Errorf("%w: read model directory: %v", speech.ErrUnavailable, err)
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() || e.Type()&os.ModeSymlink != 0 {
			names = append(names, e.Name())
		}
	}
	f := modelFiles{Kind: kind, Dir: path}
	pick := func(role, suffix string, required bool) (string, error) {
		name, err := pickFile(names, role, suffix)
		if err == nil && name == "" && required {
			if role == "" {
				err = fmt.Errorf("no *%s file", suffix)
			} else {
				err = fmt.Errorf("no %s file (*%s*%s)", role, role, suffix)
			}
		}
		if err != nil || name == "" {
			return "", err
		}
		return filepath.Join(path, name), nil
	}
	switch kind {
	case models.VAD:
		f.VAD, err = pick("", ".onnx", true)
	case models.Offline, models.Streaming:
		if f.Encoder, err = pick("encoder", ".onnx", true); err != nil {
			break
		}
		if f.Decoder, err = pick("decoder", ".onnx", true); err != nil {
			break
		}
		if f.Joiner, err = pick("joiner", ".onnx", kind == models.Streaming); err != nil {
			break
		}
		f.Tokens, err = pick("tokens", ".txt", true)
	default:
		err = fmt.Errorf("unknown model kind %q", kind)
	}
	if err != nil {
		return modelFiles{}, fmt.Errorf("%w: the %s model in %s is incomplete: %v; install it again with `visio models pull NAME`", speech.ErrUnavailable, kind, path, err)
	}
	return f, nil
}

// pickFile finds the one file whose name holds role and ends with suffix,
// preferring int8 variants: smaller and faster on a CPU, with little loss.
func pickFile(names []string, role, suffix string) (string, error) {
	var all, int8 []string
	for _, n := range names {
		if strings.HasSuffix(n, suffix) && strings.Contains(n, role) && !strings.HasPrefix(n, ".") {
			all = append(all, n)
			if strings.Contains(n, ".int8.") {
				int8 = append(int8, n)
			}
		}
	}
	cands := all
	if len(int8) > 0 {
		cands = int8
	}
	switch len(cands) {
	case 0:
		return "", nil
	case 1:
		return cands[0], nil
	}
	sort.Strings(cands)
	what := role
	if what == "" {
		what = suffix
	}
	return "", fmt.Errorf("several %s files (%s): keep one", what, strings.Join(cands, ", "))
}

// modelKind says what the model in dir is: as configured, else as its
// manifest says, else guessed from its files.
func modelKind(dir string, configured models.Kind) (models.Kind, error) {
	if configured != "" {
		return models.ParseKind(string(configured))
	}
	m, err := models.ReadManifest(dir)
	if err == nil {
		return m.Kind, nil
	}
	if !errors.Is(err, models.ErrNoManifest) {
		return "", err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("%w: no speech-to-text model in %s: install one with `visio models pull NAME` (see `visio models known`)", speech.ErrUnavailable, dir)
	}
	kind := models.Offline
	for _, e := range entries {
		name := e.Name()
		switch {
		case strings.Contains(name, "joiner") && strings.HasSuffix(name, ".onnx"):
			kind = models.Streaming
		case name == "silero_vad.onnx" || strings.HasPrefix(name, "silero_vad"):
			return models.VAD, nil
		}
	}
	return kind, nil
}

// isModelDir reports whether dir holds a model itself rather than model
// directories.
func isModelDir(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, models.ManifestName)); err == nil {
		return true
	}
	onnx, _ := filepath.Glob(filepath.Join(dir, "*.onnx"))
	return len(onnx) > 0
}

// chooseModel picks the only speech-to-text model in modelDir.
func chooseModel(modelDir string) (string, error) {
	entries, err := os.ReadDir(modelDir)
	if err != nil {
		return "", fmt.Errorf("%w: no model directory %s: install a model with `visio models pull NAME` (see `visio models known`)", speech.ErrUnavailable, modelDir)
	}
	var asr []string
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		kind, err := modelKind(filepath.Join(modelDir, e.Name()), "")
		if err == nil && kind != models.VAD {
			asr = append(asr, e.Name())
		}
	}
	switch len(asr) {
	case 0:
		return "", fmt.Errorf("%w: no speech-to-text model in %s: install one with `visio models pull whisper-base` (see `visio models known`)", speech.ErrUnavailable, modelDir)
	case 1:
		return asr[0], nil
	}
	return "", fmt.Errorf("%w: several speech-to-text models in %s (%s): configure which one to use", speech.ErrUnavailable, modelDir, strings.Join(asr, ", "))
}
