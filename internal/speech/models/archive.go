package models

import (
	"archive/tar"
	"bufio"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// limits bound what an archive may expand to, against archives made to fill
// the disk.
type limits struct {
	unpacked int64 // bytes of the decompressed stream, skipped entries included
	entries  int   // tar headers
}

// defaultLimits allow the largest models in use (Whisper medium is ~2 GB).
var defaultLimits = limits{unpacked: 16 << 30, entries: 100000}

// errTooLarge is returned when an archive expands beyond its limits.
var errTooLarge = errors.New("the archive expands beyond the size Visio accepts for a model")

// format is how a downloaded file is stored.
type format int

const (
	single format = iota // the model file itself
	plainTar
	gzipTar
	bzip2Tar
)

// sniff tells archives from model files by their first bytes, not by the
// URL, which may have no extension at all.
func sniff(head []byte) format {
	switch {
	case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
		return gzipTar
	case len(head) >= 3 && string(head[:3]) == "BZh":
		return bzip2Tar
	case len(head) >= 262 && string(head[257:262]) == "ustar":
		return plainTar
	}
	return single
}

// extractSpec says which entries of an archive are kept and where.
type extractSpec struct {
	root string          // only entries under it are kept, relative to it; "" keeps all
	only map[string]bool // when not nil, only these paths (relative to root) are kept
	lim  limits
}

// extract unpacks a tar stream (compressed or not) into dest, which must
// exist and be empty. It returns the paths written, relative to dest. It
// never writes outside dest: entries with absolute paths or ".." are
// refused, and links and devices are skipped, so no later entry can be
// redirected through a link.
func extract(r io.Reader, dest string, spec extractSpec) ([]string, error) {
	br := bufio.NewReader(r)
	head, _ := br.Peek(512)
	var stream io.Reader
	switch sniff(head) {
	case gzipTar:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("read gzip archive: %w", err)
		}
		defer zr.Close()
		stream = zr
	case bzip2Tar:
		stream = bzip2.NewReader(br)
	case plainTar:
		stream = br
	default:
		return nil, errors.New("not a tar archive (plain, gzip or bzip2)")
	}
	counted := &boundedReader{r: stream, left: spec.lim.unpacked}
	tr := tar.NewReader(counted)
	var written []string
	for n := 0; ; n++ {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return written, fmt.Errorf("read archive: %w", err)
		}
		if n >= spec.lim.entries {
			return written, fmt.Errorf("%w (more than %d entries)", errTooLarge, spec.lim.entries)
		}
		rel, keep, err := placeEntry(hdr.Name, spec)
		if err != nil {
			return written, err
		}
		if !keep {
			continue
		}
		target := filepath.Join(dest, filepath.FromSlash(rel))
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return written, fmt.Errorf("extract %s: %w", rel, err)
			}
		case tar.TypeReg: // the reader turns the old TypeRegA into TypeReg
			if err := writeEntry(target, tr, hdr.Size); err != nil {
				return written, fmt.Errorf("extract %s: %w", rel, err)
			}
			written = append(written, rel)
		default:
			// Links, devices and FIFOs have no place in a model; a
			// required file that was a link shows up as missing.
		}
	}
	return written, nil
}

// placeEntry decides where an archive entry goes, relative to the model
// directory, and whether it is kept at all.
func placeEntry(name string, spec extractSpec) (rel string, keep bool, err error) {
	if name == "" || strings.HasPrefix(name, "/") || strings.ContainsAny(name, "\\\x00") {
		return "", false, fmt.Errorf("archive entry %q has an absolute or unusable path: this is not a model archive Visio accepts", name)
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", false, fmt.Errorf("archive entry %q leaves its directory: this is not a model archive Visio accepts", name)
		}
	}
	clean := path.Clean(name)
	if clean == "." {
		return "", false, nil
	}
	if spec.root != "" {
		if clean == spec.root {
			return "", false, nil
		}
		after, ok := strings.CutPrefix(clean, spec.root+"/")
		if !ok {
			return "", false, nil
		}
		clean = after
	}
	if spec.only != nil && !spec.only[clean] {
		return "", false, nil
	}
	return clean, true, nil
}

// writeEntry writes size bytes of r to target (all of r when size < 0).
func writeEntry(target string, r io.Reader, size int64) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if size < 0 {
		_, err = io.Copy(f, r)
	} else {
		_, err = io.CopyN(f, r, size)
	}
	if err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// boundedReader fails once more than left bytes were read.
type boundedReader struct {
	r    io.Reader
	left int64
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}

// unpack turns the downloaded file into the content of a model directory
// inside staging, and returns that directory.
func unpack(download *os.File, m Model, staging string, lim limits) (string, error) {
	if _, err := download.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("read download: %w", err)
	}
	head := make([]byte, 512)
	n, err := io.ReadFull(download, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read download: %w", err)
	}
	if _, err := download.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("read download: %w", err)
	}
	root := filepath.Join(staging, "model")
	if err := os.Mkdir(root, 0o755); err != nil {
		return "", fmt.Errorf("unpack %s: %w", m.Name, err)
	}
	if sniff(head[:n]) == single {
		name := singleName(m)
		if err := writeEntry(filepath.Join(root, name), download, -1); err != nil {
			return "", fmt.Errorf("install %s: %w", m.Name, err)
		}
		return root, nil
	}
	spec := extractSpec{root: m.Root, lim: lim}
	if m.Root != "" && len(m.Files) > 0 {
		spec.only = make(map[string]bool, len(m.Files))
		for _, f := range m.Files {
			spec.only[f] = true
		}
	}
	written, err := extract(download, root, spec)
	if err != nil {
		return "", fmt.Errorf("unpack %s: %w", m.Name, err)
	}
	if len(written) == 0 {
		where := "the archive"
		if m.Root != "" {
			where = "directory " + m.Root + " of the archive"
		}
		return "", fmt.Errorf("unpack %s: %s holds no model files: the archive is not laid out as expected", m.Name, where)
	}
	if m.Root == "" {
		root = soleDir(root)
	}
	return root, nil
}

// soleDir descends into dir's only entry while that entry is a directory:
// most model archives hold a single top-level directory.
func soleDir(dir string) string {
	for {
		entries, err := os.ReadDir(dir)
		if err != nil || len(entries) != 1 || !entries[0].IsDir() {
			return dir
		}
		dir = filepath.Join(dir, entries[0].Name())
	}
}

// singleName is the file name of a model downloaded as a single file.
func singleName(m Model) string {
	if len(m.Files) == 1 {
		return m.Files[0]
	}
	base := path.Base(strings.SplitN(m.Source, "?", 2)[0])
	if base == "" || base == "." || base == "/" || strings.HasPrefix(base, ".") || strings.ContainsAny(base, "\\\x00") {
		return "model.onnx"
	}
	return base
}
