// Package chatfiles keeps the files that participants share in a meeting's
// chat, for as long as the meeting lasts: a Store interface, small enough
// for an object-storage implementation, and Disk, which keeps them in a
// local directory.
package chatfiles

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Errors of a Store.
var (
	ErrTooLarge   = errors.New("the file is over the size limit")
	ErrNotFound   = errors.New("no such file")
	ErrBadMeeting = errors.New("not a meeting key")
)

// File is a stored file.
type File struct {
	ID      string // a random capability: "f_" and 128 bits or more, base32
	Meeting string // the key of the meeting it belongs to
	Name    string
	Type    string // content type
	Size    int64
}

// Store keeps the files of live meetings.
type Store interface {
	// Put stores what r yields, up to limit bytes, as a new file of the
	// meeting; a longer r leaves nothing stored and returns ErrTooLarge.
	Put(ctx context.Context, meeting, name, contentType string, r io.Reader, limit int64) (File, error)
	// Open returns a file and its content, or ErrNotFound.
	Open(ctx context.Context, id string) (File, io.ReadSeekCloser, error)
	// Delete removes a file; a missing file is not an error.
	Delete(ctx context.Context, id string) error
	// DeleteMeeting removes every file of a meeting.
	DeleteMeeting(ctx context.Context, meeting string) error
}

// NewID returns a new file id.
func NewID() string { return "f_" + strings.ToLower(rand.Text()) }

// validID reports whether id has the form of NewID's ids, so that it can
// name a file on disk.
func validID(id string) bool {
	rest, ok := strings.CutPrefix(id, "f_")
	return ok && len(rest) >= 26 && len(rest) <= 60 && !strings.ContainsFunc(rest, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	})
}

// ValidMeeting reports whether key may name a meeting: 1 to 100 lowercase
// letters, digits, '-' and '_', so that it can name a directory.
func ValidMeeting(key string) bool {
	return key != "" && len(key) <= 100 && !strings.ContainsFunc(key, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	})
}

// MaxNameRunes bounds a file's name.
const MaxNameRunes = 200

// CleanName makes a file name a client sent safe to show and to offer as a
// download's name: its last path element (either slash), without control
// or format characters, trimmed, at most MaxNameRunes characters with its
// extension kept; "file" when nothing is left.
func CleanName(name string) string {
	name = strings.ToValidUTF8(name, "")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r):
			return ' '
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError:
			return -1
		}
		return r
	}, name)
	name = strings.Trim(name, " .")
	if utf8.RuneCountInString(name) > MaxNameRunes {
		ext := path.Ext(name)
		if utf8.RuneCountInString(ext) > 20 {
			ext = ""
		}
		runes := []rune(strings.TrimSuffix(name, ext))
		name = strings.TrimRight(string(runes[:MaxNameRunes-utf8.RuneCountInString(ext)]), " .") + ext
	}
	if name == "" {
		return "file"
	}
	return name
}
