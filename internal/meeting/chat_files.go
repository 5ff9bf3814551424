package meeting

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/visio-meet/visio/internal/chatfiles"
	"github.com/visio-meet/visio/internal/protocol"
)

// Files shared in a chat are uploaded over HTTP by a participant (who
// proves who they are with their resume token), then attached to one of
// their messages. They are kept as long as their meeting, unless a host
// deletes their message.

// ChatFiles is how meetings keep the files shared in their chat.
type ChatFiles struct {
	// Store keeps them; nil turns file sharing off.
	Store           chatfiles.Store
	MaxFileBytes    int64 // per file
	MaxMeetingBytes int64 // all the files of one meeting
}

// Errors of files.
var (
	ErrFilesOff         = errors.New("file sharing is off on this server")
	ErrFileTooLarge     = errors.New("the file is over the size limit")
	ErrMeetingFilesFull = errors.New("the meeting's files reached their limit")
	ErrNoFile           = errors.New("no such file in this meeting")
	ErrWrongToken       = errors.New("the token is not this participant's")
)

// sharedFiles are the files uploaded in a meeting. Guarded by the
// meeting's mu.
type sharedFiles struct {
	byID  map[string]*sharedFile
	bytes int64 // of the files stored and of the uploads going on
	used  bool  // an upload began: the store may hold something to remove
}

type sharedFile struct {
	file    chatfiles.File
	owner   ParticipantID
	message uint64 // the message that shares it; 0 while none does
}

func (f *sharedFiles) forget(id string) {
	if sf := f.byID[id]; sf != nil {
		f.bytes -= sf.file.Size
		delete(f.byID, id)
	}
}

// MaxFileBytes is the size limit of each shared file; 0 when file sharing
// is off.
func (r *Registry) MaxFileBytes() int64 {
	if r.cfg.Files.Store == nil {
		return 0
	}
	return r.cfg.Files.MaxFileBytes
}

// fileInfo is how messages describe a file.
func (m *Meeting) fileInfo(f chatfiles.File) protocol.ChatFile {
	return protocol.ChatFile{ID: f.ID, Name: f.Name, Size: f.Size, Type: f.Type,
		URL: "/api/v1/rooms/" + string(m.code) + "/files/" + f.ID}
}

// Authenticate checks that token is the resume token of participant id, in
// this meeting. It fails with ErrNoSuchPerson when nobody in the meeting
// has that id, and ErrWrongToken when the token is not theirs.
func (m *Meeting) Authenticate(id ParticipantID, token string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.findLocked(id)
	if p == nil || p.left {
		return ErrNoSuchPerson
	}
	if !p.ownsToken(token) {
		return ErrWrongToken
	}
	return nil
}

// Upload keeps a file that participant owner shares, for them to attach to
// a message. Each file has its size limit, and the meeting's files one
// together; an upload counts as large as it may grow while it goes on.
func (m *Meeting) Upload(ctx context.Context, owner ParticipantID, name, contentType string, content io.Reader) (protocol.ChatFile, error) {
	cfg := m.registry.cfg.Files
	if cfg.Store == nil {
		return protocol.ChatFile{}, ErrFilesOff
	}
	m.mu.Lock()
	p := m.findLocked(owner)
	if p == nil || m.ended {
		m.mu.Unlock()
		return protocol.ChatFile{}, ErrNoSuchPerson
	}
	limit := min(cfg.MaxFileBytes, cfg.MaxMeetingBytes-m.chat.files.bytes)
	if limit <= 0 {
		m.mu.Unlock()
		return protocol.ChatFile{}, ErrMeetingFilesFull
	}
	m.chat.files.bytes += limit
	m.chat.files.used = true
	m.mu.Unlock()

	f, err := cfg.Store.Put(ctx, m.key, name, contentType, content, limit)

	m.mu.Lock()
	m.chat.files.bytes -= limit
	switch {
	case errors.Is(err, chatfiles.ErrTooLarge) && limit < cfg.MaxFileBytes:
		err = ErrMeetingFilesFull
	case errors.Is(err, chatfiles.ErrTooLarge):
		err = ErrFileTooLarge
	case err != nil:
		err = fmt.Errorf("store the file: %w", err)
	case m.ended || p.left:
		// Gone meanwhile: the meeting's files may have been removed
		// already, before this one came.
		ended := m.ended
		m.mu.Unlock()
		ctx := context.WithoutCancel(ctx)
		if ended {
			err = cfg.Store.DeleteMeeting(ctx, m.key)
		} else {
			err = cfg.Store.Delete(ctx, f.ID)
		}
		if err != nil {
			m.registry.log.Error("a file uploaded as its meeting ended was not removed", "room", m.code, "err", err)
		}
		return protocol.ChatFile{}, ErrLeft
	default:
		if m.chat.files.byID == nil {
			m.chat.files.byID = map[string]*sharedFile{}
		}
		m.chat.files.byID[f.ID] = &sharedFile{file: f, owner: owner}
		m.chat.files.bytes += f.Size
		p.log.Info("file uploaded", "bytes", f.Size, "type", f.Type) // its id is a capability: never logged
	}
	m.mu.Unlock()
	if err != nil {
		return protocol.ChatFile{}, err
	}
	return m.fileInfo(f), nil
}

// OpenFile returns a file shared in the meeting and its content, or
// ErrNoFile when there is no such file, or no longer (deleted with its
// message, or the meeting ended).
func (m *Meeting) OpenFile(ctx context.Context, id string) (protocol.ChatFile, io.ReadSeekCloser, error) {
	store := m.registry.cfg.Files.Store
	m.mu.Lock()
	_, ok := m.chat.files.byID[id]
	ok = ok && !m.ended && store != nil
	m.mu.Unlock()
	if !ok {
		return protocol.ChatFile{}, nil, ErrNoFile
	}
	f, content, err := store.Open(ctx, id)
	if errors.Is(err, chatfiles.ErrNotFound) {
		return protocol.ChatFile{}, nil, ErrNoFile
	} else if err != nil {
		return protocol.ChatFile{}, nil, fmt.Errorf("open the file: %w", err)
	}
	return m.fileInfo(f), content, nil
}
