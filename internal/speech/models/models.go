// Package models knows the speech models Visio can use, downloads them with
// their checksums checked, and verifies installed models before an engine
// loads them. A damaged or wrong model file can end the whole process inside
// the native speech library, so nothing is loaded unchecked.
//
// An installed model is a directory DIR/NAME holding the model's files and a
// manifest, visio-model.json, with the SHA-256 of every file kept.
package models

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// Kind says what a model does, and so which loader an engine uses.
type Kind string

// The kinds of model.
const (
	VAD       Kind = "vad"           // voice activity detection (Silero)
	Streaming Kind = "asr-streaming" // speech-to-text that follows audio as it comes (partials)
	Offline   Kind = "asr-offline"   // speech-to-text of whole utterances (Whisper)
)

// ParseKind checks a kind given by a person.
func ParseKind(s string) (Kind, error) {
	switch k := Kind(s); k {
	case VAD, Streaming, Offline:
		return k, nil
	}
	return "", fmt.Errorf("unknown model kind %q: use %s, %s or %s", s, VAD, Streaming, Offline)
}

// Model is a model that can be downloaded.
type Model struct {
	Name        string
	Kind        Kind
	Language    string // BCP 47 primary tag; "mul" for multilingual models; "" when it does not apply (VAD)
	Licence     string
	Description string
	Source      string // URL of the public archive or file
	SHA256      string // of the downloaded file, lower-case hex
	Size        int64  // of the downloaded file in bytes; 0 when unknown
	// Root is the directory inside the archive whose content becomes the
	// model directory ("" keeps the archive's layout, except that a single
	// top-level directory is removed).
	Root string
	// Files must be in the model directory once installed, relative to
	// it. When Root is set, only these are kept from the archive, so that
	// test audio and unused variants do not take disk space.
	Files []string
	// FileSHA256 holds the known SHA-256 of some Files, checked after
	// extraction as a second guard.
	FileSHA256 map[string]string
}

// ManifestName is the file, in each model directory, that lists the model's
// files and their SHA-256.
const ManifestName = "visio-model.json"

// Known returns the catalog of models Visio knows how to fetch. Each
// checksum comes from a public record; `visio models pull --url ... --sha256
// ...` fetches a model that is not listed here.
func Known() []Model {
	return []Model{
		{
			Name:        "silero-vad-v5",
			Kind:        VAD,
			Licence:     "MIT (Silero VAD model); the npm package @ricky0123/vad-web that carries it is ISC",
			Description: "Silero voice activity detector v5, 2.3 MB, any language",
			Source:      "https://registry.npmjs.org/@ricky0123/vad-web/-/vad-web-0.0.31.tgz",
			SHA256:      "d1a211cf1a2ed26297da52cc08de79e75d79838a274bfc6de546feb1f828c940",
			Size:        5471324,
			Root:        "package/dist",
			Files:       []string{"silero_vad_v5.onnx"},
			FileSHA256: map[string]string{
				"silero_vad_v5.onnx": "2623a2953f6ff3d2c1e61740c6cdb7168133479b267dfef114a4a3cc5bdd788f",
			},
		},
		{
			Name:        "whisper-tiny",
			Kind:        Offline,
			Language:    "mul",
			Licence:     "MIT (OpenAI Whisper), ONNX export by the sherpa-onnx project",
			Description: "Whisper tiny, multilingual (French included), int8, fast but rough",
			Source:      "https://github.com/k2-fsa/sherpa-onnx/releases/download/asr-models/sherpa-onnx-whisper-tiny.tar.bz2",
			SHA256:      "c46116994e539aa165266d96b325252728429c12535eb9d8b6a2b10f129e66b1",
			Size:        116204861,
			Root:        "sherpa-onnx-whisper-tiny",
			Files:       []string{"tiny-encoder.int8.onnx", "tiny-decoder.int8.onnx", "tiny-tokens.txt"},
		},
		{
			Name:        "whisper-base",
			Kind:        Offline,
			Language:    "mul",
			Licence:     "MIT (OpenAI Whisper), ONNX export by the sherpa-onnx project",
			Description: "Whisper base, multilingual (French included), int8",
			Source:      "https://github.com/k2-fsa/sherpa-onnx/releases/download/asr-models/sherpa-onnx-whisper-base.tar.bz2",
			SHA256:      "911b2083efd7c0dca2ac3b358b75222660dc09fb716d64fbfc417ba6c99ff3de",
			Size:        207557382,
			Root:        "sherpa-onnx-whisper-base",
			Files:       []string{"base-encoder.int8.onnx", "base-decoder.int8.onnx", "base-tokens.txt"},
		},
		{
			Name:     "zipformer-fr-kroko",
			Kind:     Streaming,
			Language: "fr",
			// Public records disagree on this model's licence; the
			// operator has to read the model card before using it.
			Licence:     "CC-BY-SA per Banafo's Kroko community models (unconfirmed: read the model card)",
			Description: "French streaming zipformer (Kroko, 2025-08-06), for live captions",
			Source:      "https://github.com/k2-fsa/sherpa-onnx/releases/download/asr-models/sherpa-onnx-streaming-zipformer-fr-kroko-2025-08-06.tar.bz2",
			SHA256:      "e6ffd3dc43725cd6c8137b05c739f15607d0df946b9b90eb141e10059efca024",
			Size:        57220361,
			Root:        "sherpa-onnx-streaming-zipformer-fr-kroko-2025-08-06",
			Files:       []string{"encoder.onnx", "decoder.onnx", "joiner.onnx", "tokens.txt"},
		},
	}
}

// Lookup finds a model of the catalog by name.
func Lookup(name string) (Model, bool) {
	for _, m := range Known() {
		if m.Name == name {
			return m, true
		}
	}
	return Model{}, false
}

// DefaultDir is where models go when nothing else is configured: the user's
// cache directory (models can be fetched again).
func DefaultDir() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no model directory: set one explicitly (%w)", err)
	}
	return filepath.Join(cache, "visio", "models"), nil
}

// validName accepts the names of model directories: lower-case letters,
// digits, '.', '_' and '-', not starting with '.', so that a name can never
// leave the model directory nor hide as a dot file.
func validName(name string) bool {
	if name == "" || len(name) > 64 || name[0] == '.' || name[0] == '-' {
		return false
	}
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
		default:
			return false
		}
	}
	return true
}

func validSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}

// validate checks a model before anything is downloaded, so that a mistake
// in a command line is reported at once.
func (m Model) validate() error {
	if !validName(m.Name) {
		return fmt.Errorf("model name %q is not usable: use lower-case letters, digits, '.', '_' and '-'", m.Name)
	}
	if _, err := ParseKind(string(m.Kind)); err != nil {
		return fmt.Errorf("model %s: %w", m.Name, err)
	}
	if !validSHA256(m.SHA256) {
		return fmt.Errorf("model %s: the SHA-256 %q is not 64 lower-case hexadecimal digits", m.Name, m.SHA256)
	}
	u, err := url.Parse(m.Source)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("model %s: the source %q is not an http(s) URL", m.Name, redact(m.Source))
	}
	for _, f := range m.Files {
		if err := checkRelPath(f); err != nil {
			return fmt.Errorf("model %s: file %q: %w", m.Name, f, err)
		}
	}
	if m.Root != "" {
		if err := checkRelPath(m.Root); err != nil {
			return fmt.Errorf("model %s: root %q: %w", m.Name, m.Root, err)
		}
	}
	return nil
}

// checkRelPath accepts slash-separated paths that stay inside the directory
// they are relative to.
func checkRelPath(p string) error {
	if p == "" || strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\\\x00") {
		return fmt.Errorf("not a relative path")
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return fmt.Errorf("leaves its directory")
		}
	}
	return nil
}

// redact keeps a URL's scheme, host and path: a query string or user
// information may hold a token, which must not reach logs or errors.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(an unreadable URL)"
	}
	u.User = nil
	if u.RawQuery != "" {
		u.RawQuery = "…"
	}
	u.Fragment = ""
	return u.String()
}
