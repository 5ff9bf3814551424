package chatfiles

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Disk keeps files in a directory, one subdirectory per meeting, each file
// under its id. What a file is (its name and type) is kept in memory only:
// files do not outlive the server's meetings, and a restarted server
// removes what a crashed one left (Sweep).
type Disk struct {
	dir string
	log *slog.Logger

	mu    sync.Mutex
	files map[string]File // by id
}

// tempPrefix starts the names of files being written.
const tempPrefix = ".upload-"

// NewDisk returns a store in dir, which is made when the first file comes.
func NewDisk(dir string, log *slog.Logger) *Disk {
	return &Disk{dir: dir, log: log.With("component", "chatfiles"), files: map[string]File{}}
}

// Dir returns the store's directory.
func (d *Disk) Dir() string { return d.dir }

// Put implements Store: the file is written under a temporary name, then
// renamed, so that a file is either whole or absent.
func (d *Disk) Put(ctx context.Context, meeting, name, contentType string, r io.Reader, limit int64) (File, error) {
	if !ValidMeeting(meeting) {
		return File{}, fmt.Errorf("store file: %w %q", ErrBadMeeting, meeting)
	}
	dir := filepath.Join(d.dir, meeting)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return File{}, fmt.Errorf("store file: %w", err)
	}
	tmp, err := os.CreateTemp(dir, tempPrefix+"*")
	if err != nil {
		return File{}, fmt.Errorf("store file: %w", err)
	}
	written, err := io.Copy(tmp, io.LimitReader(contextReader{ctx, r}, limit+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil && written > limit {
		err = ErrTooLarge
	}
	f := File{ID: NewID(), Meeting: meeting, Name: name, Type: contentType, Size: written}
	if err == nil {
		err = withoutPath(os.Rename(tmp.Name(), filepath.Join(dir, f.ID)))
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		if errors.Is(err, ErrTooLarge) {
			return File{}, err
		}
		return File{}, fmt.Errorf("store file: %w", err)
	}
	d.mu.Lock()
	d.files[f.ID] = f
	d.mu.Unlock()
	return f, nil
}

// withoutPath drops the path from an error about a stored file: the path
// holds the file's id, a capability that must not reach logs.
func withoutPath(err error) error {
	var pathErr *fs.PathError
	var linkErr *os.LinkError
	switch {
	case errors.As(err, &pathErr):
		return fmt.Errorf("%s: %w", pathErr.Op, pathErr.Err)
	case errors.As(err, &linkErr):
		return fmt.Errorf("%s: %w", linkErr.Op, linkErr.Err)
	}
	return err
}

// contextReader stops reading once ctx is done.
type contextReader struct {
	ctx context.Context
	r   io.Reader
}

func (c contextReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Open implements Store.
func (d *Disk) Open(_ context.Context, id string) (File, io.ReadSeekCloser, error) {
	d.mu.Lock()
	f, ok := d.files[id]
	d.mu.Unlock()
	if !ok {
		return File{}, nil, ErrNotFound
	}
	content, err := os.Open(filepath.Join(d.dir, f.Meeting, f.ID))
	if errors.Is(err, fs.ErrNotExist) {
		return File{}, nil, ErrNotFound
	} else if err != nil {
		return File{}, nil, fmt.Errorf("open file: %w", withoutPath(err))
	}
	return f, content, nil
}

// Delete implements Store.
func (d *Disk) Delete(_ context.Context, id string) error {
	d.mu.Lock()
	f, ok := d.files[id]
	delete(d.files, id)
	d.mu.Unlock()
	if !ok {
		return nil
	}
	if err := os.Remove(filepath.Join(d.dir, f.Meeting, f.ID)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete file: %w", withoutPath(err))
	}
	return nil
}

// DeleteMeeting implements Store.
func (d *Disk) DeleteMeeting(_ context.Context, meeting string) error {
	if !ValidMeeting(meeting) {
		return fmt.Errorf("delete files: %w %q", ErrBadMeeting, meeting)
	}
	d.mu.Lock()
	for id, f := range d.files {
		if f.Meeting == meeting {
			delete(d.files, id)
		}
	}
	d.mu.Unlock()
	if err := os.RemoveAll(filepath.Join(d.dir, meeting)); err != nil {
		return fmt.Errorf("delete files of meeting %s: %w", meeting, err)
	}
	return nil
}

// Sweep removes the files of meetings that are not live, such as those a
// crashed server left. It removes only what the store writes (meeting
// directories holding files and uploads), so that a files directory set by
// mistake to one that holds other things loses none of them.
func (d *Disk) Sweep(ctx context.Context, live func(meeting string) bool) (removed int, err error) {
	entries, err := os.ReadDir(d.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("sweep chat files: %w", err)
	}
	var errs []error
	for _, e := range entries {
		key := e.Name()
		if ctx.Err() != nil {
			return removed, ctx.Err()
		}
		if !e.IsDir() || !ValidMeeting(key) || live(key) {
			continue
		}
		ours, err := d.onlyOurs(filepath.Join(d.dir, key))
		if err != nil || !ours {
			if err == nil {
				d.log.Warn("a directory among the chat files holds other things: left alone", "dir", filepath.Join(d.dir, key))
			}
			errs = append(errs, err)
			continue
		}
		if err := d.DeleteMeeting(ctx, key); err != nil {
			errs = append(errs, err)
			continue
		}
		removed++
	}
	return removed, errors.Join(errs...)
}

// onlyOurs reports whether dir holds nothing but stored and partly written
// files.
func (d *Disk) onlyOurs(dir string) (bool, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, fmt.Errorf("sweep chat files: %w", err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || !validID(e.Name()) && !strings.HasPrefix(e.Name(), tempPrefix) {
			return false, nil
		}
	}
	return true, nil
}
