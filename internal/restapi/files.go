package restapi

import (
	"bufio"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/visio-meet/visio/internal/chatfiles"
	"github.com/visio-meet/visio/internal/meeting"
	"github.com/visio-meet/visio/internal/room"
)

// Files shared in a meeting's chat. A participant uploads one, proving who
// they are with the participant id and resume token of their welcome, and
// then attaches it to a chat message. Anyone with a file's URL may download
// it while its meeting lasts: its id is a random 128-bit capability that only
// the meeting's participants are told, which lets the browser download it
// with a plain link, without a token in the URL.

// ParticipantHeader carries the participant id of an upload.
const ParticipantHeader = "X-Visio-Participant"

// uploadOverhead is what a multipart body may hold besides the file: part
// headers, boundaries, and small other fields.
const uploadOverhead = 64 << 10

var errNoFile = fail(http.StatusNotFound, "not_found",
	"there is no such file: it was deleted with its message, or its meeting ended")

// uploadFile keeps a file a participant shares in their meeting's chat.
func (a *API) uploadFile(w http.ResponseWriter, r *http.Request) {
	m, ae := a.liveMeeting(r)
	if ae != nil {
		a.answer(w, 0, nil, ae)
		return
	}
	id := meeting.ParticipantID(r.Header.Get(ParticipantHeader))
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if id == "" || !ok || token == "" {
		a.answer(w, 0, nil, fail(http.StatusUnauthorized, "invalid_token",
			"send the participant id and resume token of your welcome: %s: ID and Authorization: Bearer TOKEN", ParticipantHeader))
		return
	}
	err := m.Authenticate(id, token)
	switch {
	case errors.Is(err, meeting.ErrWrongToken):
		a.answer(w, 0, nil, fail(http.StatusUnauthorized, "invalid_token", "this is not the resume token of that participant: use the one of your latest welcome"))
		return
	case err != nil:
		a.answer(w, 0, nil, fail(http.StatusForbidden, "forbidden", "you are not in this room's meeting: join it to share files"))
		return
	}
	limit := a.cfg.Meetings.MaxFileBytes()
	if limit == 0 {
		a.answer(w, 0, nil, fail(http.StatusServiceUnavailable, "unavailable", "file sharing is off on this server: an operator can turn it on with chat.max_file_bytes"))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit+uploadOverhead)
	name, contentType, content, ae := readUpload(r)
	if ae != nil {
		a.answer(w, 0, nil, ae)
		return
	}
	f, err := m.Upload(r.Context(), id, name, contentType, content)
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(err, meeting.ErrFileTooLarge), errors.As(err, &tooBig):
		ae = fail(http.StatusRequestEntityTooLarge, "too_large", "files are limited to %s: share a link to it instead", sizeText(limit))
	case errors.Is(err, meeting.ErrMeetingFilesFull):
		ae = fail(http.StatusRequestEntityTooLarge, "too_large", "this meeting holds as many files as it may: a host can make room by deleting messages with files")
	case errors.Is(err, meeting.ErrNoSuchPerson), errors.Is(err, meeting.ErrLeft):
		ae = fail(http.StatusForbidden, "forbidden", "you are no longer in this room's meeting: join it to share files")
	case errors.Is(err, meeting.ErrFilesOff):
		ae = fail(http.StatusServiceUnavailable, "unavailable", "file sharing is off on this server: an operator can turn it on with chat.max_file_bytes")
	case err != nil:
		ae = a.internal(r.Context(), err)
	}
	a.answer(w, http.StatusCreated, f, ae)
}

// readUpload finds the part named file of a multipart form, and sniffs its
// content type (what the browser says is not to be trusted): the name is
// cleaned, and content is the part, to read until its end.
func readUpload(r *http.Request) (name, contentType string, content io.Reader, ae *apiError) {
	form, err := r.MultipartReader()
	if err != nil {
		return "", "", nil, fail(http.StatusBadRequest, "bad_request", "send the file as multipart/form-data, in a part named file")
	}
	for {
		part, err := form.NextPart()
		var tooBig *http.MaxBytesError
		switch {
		case errors.Is(err, io.EOF):
			return "", "", nil, fail(http.StatusBadRequest, "bad_request", "the form has no part named file: send the file in one")
		case errors.As(err, &tooBig):
			return "", "", nil, fail(http.StatusRequestEntityTooLarge, "too_large", "the form is larger than the largest file: send the file alone")
		case err != nil:
			return "", "", nil, fail(http.StatusBadRequest, "bad_request", "the multipart form is malformed: send the file in a part named file")
		}
		if part.FormName() != "file" {
			continue // the next part skips what is left of this one
		}
		body := bufio.NewReaderSize(part, 512)
		head, _ := body.Peek(512) // a shorter file, or an error that reading it will meet again
		return chatfiles.CleanName(part.FileName()), servedType(http.DetectContentType(head)), body, nil
	}
}

// servedType is the type a file with the sniffed type is served as: images,
// PDF and plain text as themselves, anything else as bytes to save, so that
// no shared file runs as a page or script in Visio's origin.
func servedType(sniffed string) string {
	mediaType, params, err := mime.ParseMediaType(sniffed)
	if err != nil {
		return "application/octet-stream"
	}
	switch mediaType {
	case "image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf":
		return mediaType
	case "text/plain":
		switch charset := strings.ToLower(params["charset"]); charset {
		case "utf-8", "utf-16be", "utf-16le":
			return "text/plain; charset=" + charset
		}
		return "text/plain"
	}
	return "application/octet-stream"
}

// downloadFile serves a file shared in the room's live meeting, to save.
func (a *API) downloadFile(w http.ResponseWriter, r *http.Request) {
	m, ae := a.liveMeeting(r)
	if ae != nil {
		if ae.status == http.StatusNotFound {
			ae = errNoFile
		}
		a.answer(w, 0, nil, ae)
		return
	}
	f, content, err := m.OpenFile(r.Context(), r.PathValue("id"))
	if errors.Is(err, meeting.ErrNoFile) {
		a.answer(w, 0, nil, errNoFile)
		return
	} else if err != nil {
		a.answer(w, 0, nil, a.internal(r.Context(), err))
		return
	}
	defer content.Close()
	h := w.Header()
	h.Set("Content-Type", servedType(f.Type))
	disposition := mime.FormatMediaType("attachment", map[string]string{"filename": f.Name})
	if disposition == "" {
		disposition = "attachment"
	}
	h.Set("Content-Disposition", disposition)
	h.Set("X-Content-Type-Options", "nosniff")
	// Opened directly rather than saved, it still runs nothing.
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Cache-Control", "private, no-store")
	http.ServeContent(w, r, "", time.Time{}, content)
}

// liveMeeting returns the live meeting of the request's {code}.
func (a *API) liveMeeting(r *http.Request) (*meeting.Meeting, *apiError) {
	code, err := room.ParseCode(r.PathValue("code"))
	if err != nil {
		return nil, fail(http.StatusBadRequest, "bad_room", "%.64q is not a room code like abc-defg-hij", r.PathValue("code"))
	}
	m := a.cfg.Meetings.Meeting(code)
	if m == nil {
		return nil, fail(http.StatusNotFound, "not_found", "no meeting is going on in this room: join it first")
	}
	return m, nil
}

// sizeText writes a size for people: 20 MiB.
func sizeText(n int64) string {
	units := []string{"bytes", "KiB", "MiB", "GiB", "TiB"}
	x, i := float64(n), 0
	for x >= 1024 && i < len(units)-1 {
		x /= 1024
		i++
	}
	return strings.TrimSuffix(strconv.FormatFloat(x, 'f', 1, 64), ".0") + " " + units[i]
}
