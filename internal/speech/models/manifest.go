package models

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Manifest describes an installed model: what it is and the checksum of each
// of its files.
type Manifest struct {
	Name     string `json:"name"`
	Kind     Kind   `json:"kind"`
	Language string `json:"language,omitempty"`
	Licence  string `json:"licence,omitempty"`
	// Source and SHA256 name the download, so that `visio models pull
	// NAME` can fetch a model again even when it is not in the catalog.
	Source string     `json:"source,omitempty"`
	SHA256 string     `json:"sha256,omitempty"`
	Files  []FileHash `json:"files"`
}

// FileHash is one file of a model, relative to the model directory.
type FileHash struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Hash returns the recorded SHA-256 of a file of the model, "" when the
// manifest does not list it.
func (m Manifest) Hash(path string) string {
	for _, f := range m.Files {
		if f.Path == path {
			return f.SHA256
		}
	}
	return ""
}

// ErrNoManifest is returned by Verify for a directory without a manifest: a
// model put there by hand, which can only be checked by loading it.
var ErrNoManifest = errors.New("no " + ManifestName)

// DamagedError reports a model file that is missing or no longer the one
// installed.
type DamagedError struct {
	Model, Dir, File string
	Problem          string // "is missing", "has changed (...)"
}

func (e *DamagedError) Error() string {
	return fmt.Sprintf("model %s in %s: %s %s; run `visio models pull %s` again", e.Model, e.Dir, e.File, e.Problem, e.Model)
}

// maxManifest bounds what is read of a manifest: it lists a few files.
const maxManifest = 1 << 20

// ReadManifest reads the manifest of the model in dir without checking the
// files.
func ReadManifest(dir string) (Manifest, error) {
	f, err := os.Open(filepath.Join(dir, ManifestName))
	if errors.Is(err, fs.ErrNotExist) {
		return Manifest{}, fmt.Errorf("model directory %s: %w", dir, ErrNoManifest)
	}
	if err != nil {
		return Manifest{}, fmt.Errorf("read model manifest: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxManifest+1))
	if err != nil {
		return Manifest{}, fmt.Errorf("read model manifest: %w", err)
	}
	var m Manifest
	if len(data) > maxManifest {
		err = errors.New("too large")
	} else {
		err = json.Unmarshal(data, &m)
	}
	if err == nil {
		err = m.check()
	}
	if err != nil {
		return Manifest{}, fmt.Errorf("the manifest %s is damaged (%v): run `visio models pull %s` again", filepath.Join(dir, ManifestName), err, filepath.Base(dir))
	}
	return m, nil
}

// check refuses manifests that name files outside their directory: Verify
// must only ever read the model's own files.
func (m Manifest) check() error {
	if !validName(m.Name) {
		return fmt.Errorf("bad model name %q", m.Name)
	}
	if _, err := ParseKind(string(m.Kind)); err != nil {
		return err
	}
	if len(m.Files) == 0 {
		return errors.New("no files listed")
	}
	for _, f := range m.Files {
		if err := checkRelPath(f.Path); err != nil {
			return fmt.Errorf("file %q: %w", f.Path, err)
		}
		if !validSHA256(f.SHA256) {
			return fmt.Errorf("file %q: bad SHA-256", f.Path)
		}
	}
	return nil
}

// Verify re-hashes every file of the model in dir against its manifest.
// A missing or changed file is a *DamagedError.
func Verify(dir string) (Manifest, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return Manifest{}, err
	}
	for _, want := range m.Files {
		name := filepath.Join(dir, filepath.FromSlash(want.Path))
		got, err := hashFile(name)
		if errors.Is(err, fs.ErrNotExist) {
			return m, &DamagedError{Model: m.Name, Dir: dir, File: want.Path, Problem: "is missing"}
		}
		if err != nil {
			return m, fmt.Errorf("model %s: check %s: %w", m.Name, want.Path, err)
		}
		if got.SHA256 != want.SHA256 || got.Size != want.Size {
			return m, &DamagedError{Model: m.Name, Dir: dir, File: want.Path,
				Problem: fmt.Sprintf("has changed (SHA-256 %s… instead of %s…)", got.SHA256[:12], want.SHA256[:12])}
		}
	}
	return m, nil
}

// Status is the state of an installed model.
type Status string

// The states of an installed model.
const (
	StatusOK      Status = "ok"      // every file matches the manifest
	StatusCorrupt Status = "corrupt" // a file is missing or changed, or the manifest is damaged
	StatusUnknown Status = "unknown" // no manifest: put there by hand
)

// Installed is a model directory found by List.
type Installed struct {
	Name     string
	Dir      string
	Status   Status
	Manifest Manifest // zero when Status is StatusUnknown
	Problem  error    // why it is not ok
}

// List returns the models installed in dir, by name. A missing dir holds no
// models.
func List(dir string) ([]Installed, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list models: %w", err)
	}
	var out []Installed
	for _, e := range entries {
		// Dot entries are downloads and installs in progress.
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		in := Installed{Name: e.Name(), Dir: filepath.Join(dir, e.Name())}
		m, err := Verify(in.Dir)
		in.Manifest = m
		switch {
		case err == nil:
			in.Status = StatusOK
		case errors.Is(err, ErrNoManifest):
			in.Status = StatusUnknown
			in.Problem = err
		default:
			in.Status = StatusCorrupt
			in.Problem = err
		}
		out = append(out, in)
	}
	return out, nil
}

// hashFiles hashes every regular file under dir, except the manifest and
// other dot files that Visio writes there.
func hashFiles(dir string) ([]FileHash, error) {
	var out []FileHash
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == ManifestName || strings.HasPrefix(rel, ".visio-") {
			return nil
		}
		h, err := hashFile(p)
		if err != nil {
			return err
		}
		h.Path = rel
		out = append(out, h)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("hash model files: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// HashFile returns the size and SHA-256 of a file.
func HashFile(name string) (FileHash, error) {
	h, err := hashFile(name)
	if err != nil {
		return FileHash{}, fmt.Errorf("hash %s: %w", name, err)
	}
	h.Path = filepath.Base(name)
	return h, nil
}

func hashFile(name string) (FileHash, error) {
	f, err := os.Open(name)
	if err != nil {
		return FileHash{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return FileHash{}, err
	}
	return FileHash{Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

func writeManifest(dir string, m Manifest) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("write model manifest: %w", err)
	}
	f, err := os.Create(filepath.Join(dir, ManifestName))
	if err != nil {
		return fmt.Errorf("write model manifest: %w", err)
	}
	if _, err := f.Write(append(data, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("write model manifest: %w", err)
	}
	// The manifest is what marks an install complete: it must be on disk
	// before the directory is renamed into place.
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write model manifest: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write model manifest: %w", err)
	}
	return nil
}
