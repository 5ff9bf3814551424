package models

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// maxDownload bounds a download whose size is not known in advance.
const maxDownload = 16 << 30

// Pull downloads model m into dir/m.Name: into a temporary file in dir
// first, with progress written to progress (nil: none), then checks its
// SHA-256, unpacks it if it is an archive, writes the manifest and renames
// the result into place, so that dir/m.Name is either the old model or the
// complete new one. A model already installed and intact is not downloaded
// again.
func Pull(ctx context.Context, m Model, dir string, progress io.Writer) error {
	p := puller{client: http.DefaultClient, now: time.Now, lim: defaultLimits}
	return p.pull(ctx, m, dir, progress)
}

type puller struct {
	client *http.Client
	now    func() time.Time
	lim    limits
}

func (p puller) pull(ctx context.Context, m Model, dir string, out io.Writer) error {
	if err := m.validate(); err != nil {
		return err
	}
	if out == nil {
		out = io.Discard
	}
	final := filepath.Join(dir, m.Name)
	if man, err := Verify(final); err == nil && man.SHA256 == m.SHA256 {
		fmt.Fprintf(out, "%s is already installed in %s and intact\n", m.Name, final)
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create the model directory: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".download-"+m.Name+"-*")
	if err != nil {
		return fmt.Errorf("create the model directory: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if err := p.download(ctx, m, tmp, out); err != nil {
		return err
	}
	staging, err := os.MkdirTemp(dir, ".install-"+m.Name+"-*")
	if err != nil {
		return fmt.Errorf("install %s: %w", m.Name, err)
	}
	defer os.RemoveAll(staging)
	root, err := unpack(tmp, m, staging, p.lim)
	if err != nil {
		return err
	}
	man, err := describe(m, root)
	if err != nil {
		return err
	}
	if err := writeManifest(root, man); err != nil {
		return err
	}
	if err := replaceDir(root, final); err != nil {
		return fmt.Errorf("install %s: %w", m.Name, err)
	}
	fmt.Fprintf(out, "%s: installed in %s\n", m.Name, final)
	return nil
}

// download fetches m.Source into f and checks its size and SHA-256.
func (p puller) download(ctx context.Context, m Model, f *os.File, out io.Writer) error {
	where := redact(m.Source)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.Source, nil)
	if err != nil {
		return fmt.Errorf("download %s: bad source %s: %w", m.Name, where, err)
	}
	req.Header.Set("User-Agent", "visio-models")
	resp, err := p.client.Do(req)
	if err != nil {
		// The error of the client names the URL with its query: keep
		// only the cause.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return fmt.Errorf("download %s from %s: %w; check the network, then run the pull again", m.Name, where, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("download %s from %s: the server answered %s; check the address (or `visio models known` for the catalog)", m.Name, where, resp.Status)
	}
	total := m.Size
	if total > 0 && resp.ContentLength >= 0 && resp.ContentLength != total {
		return fmt.Errorf("download %s from %s: the server offers %d bytes but %d were expected: the file changed upstream or the address is wrong", m.Name, where, resp.ContentLength, total)
	}
	if total <= 0 && resp.ContentLength > 0 {
		total = resp.ContentLength
	}
	limit := int64(maxDownload)
	if m.Size > 0 {
		limit = m.Size
	}
	hash := sha256.New()
	prog := newProgress(out, m.Name, total, p.now)
	n, err := io.Copy(io.MultiWriter(f, hash, prog), io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return fmt.Errorf("download %s: interrupted after %d bytes (%w); run the pull again", m.Name, n, err)
	}
	if n > limit {
		return fmt.Errorf("download %s: the file is larger than the %d bytes expected; check the address", m.Name, limit)
	}
	if m.Size > 0 && n < m.Size {
		return fmt.Errorf("download %s: interrupted after %d of %d bytes; run the pull again", m.Name, n, m.Size)
	}
	prog.finish()
	if got := hex.EncodeToString(hash.Sum(nil)); got != m.SHA256 {
		return fmt.Errorf("download %s: its SHA-256 is %s but %s was expected, so it was deleted: the download was damaged, or the file at %s is not the one expected; run the pull again, and if it fails the same way check the address and the checksum", m.Name, got, m.SHA256, where)
	}
	fmt.Fprintf(out, "%s: SHA-256 checked\n", m.Name)
	return nil
}

// describe makes the manifest of the model unpacked in root, after checking
// that the files it needs are there and are the ones expected.
func describe(m Model, root string) (Manifest, error) {
	files, err := hashFiles(root)
	if err != nil {
		return Manifest{}, err
	}
	man := Manifest{Name: m.Name, Kind: m.Kind, Language: m.Language, Licence: m.Licence,
		Source: m.Source, SHA256: m.SHA256, Files: files}
	for _, f := range m.Files {
		if man.Hash(f) == "" {
			return Manifest{}, fmt.Errorf("install %s: the download has no %s: it is not laid out as expected; check the source", m.Name, f)
		}
	}
	for f, want := range m.FileSHA256 {
		if got := man.Hash(f); got != want {
			return Manifest{}, fmt.Errorf("install %s: %s inside the download has SHA-256 %s but %s was expected; check the source", m.Name, f, got, want)
		}
	}
	if len(files) == 0 {
		return Manifest{}, fmt.Errorf("install %s: the download holds no files", m.Name)
	}
	return man, nil
}

// replaceDir moves the directory src to dst, replacing what dst was. A
// directory cannot be renamed over another, so the old one is moved aside
// first and put back if the move fails.
func replaceDir(src, dst string) error {
	var aside string
	if _, err := os.Lstat(dst); err == nil {
		tmp, err := os.MkdirTemp(filepath.Dir(dst), ".replaced-"+filepath.Base(dst)+"-*")
		if err != nil {
			return err
		}
		aside = filepath.Join(tmp, "old")
		if err := os.Rename(dst, aside); err != nil {
			os.Remove(tmp)
			return err
		}
		defer os.RemoveAll(tmp)
	}
	if err := os.Rename(src, dst); err != nil {
		if aside != "" {
			if rerr := os.Rename(aside, dst); rerr != nil {
				return fmt.Errorf("%w (and the previous model could not be put back: %v)", err, rerr)
			}
		}
		return err
	}
	return nil
}
