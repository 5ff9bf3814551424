package restapi

import (
	"bytes"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/visio-meet/visio/internal/httpapi"
	"github.com/visio-meet/visio/internal/store"
	"github.com/visio-meet/visio/internal/transcript"
)

type transcriptJSON struct {
	ID        string     `json:"id"`
	StartedAt time.Time  `json:"started_at"`
	EndedAt   *time.Time `json:"ended_at"` // null while the meeting is transcribed
	StartedBy string     `json:"started_by"`
	Language  string     `json:"language"`
	Segments  int        `json:"segments"`
}

var errNoTranscript = fail(http.StatusNotFound, "not_found", "this room has no such transcript: list them at /api/v1/rooms/{code}/transcripts")

// listTranscripts lists a room's transcripts, newest first, for its hosts.
func (a *API) listTranscripts(w http.ResponseWriter, r *http.Request) {
	_, rm, _, ae := a.hostOf(w, r, ScopeTranscriptsRead)
	if ae != nil {
		a.answer(w, 0, nil, ae)
		return
	}
	list, err := a.cfg.Store.Transcripts(r.Context(), rm.ID)
	if err != nil {
		a.answer(w, 0, nil, a.internal(r.Context(), err))
		return
	}
	out := make([]transcriptJSON, 0, len(list))
	for _, t := range list {
		j := transcriptJSON{ID: string(t.ID), StartedAt: t.StartedAt, StartedBy: t.StartedBy, Language: t.Language, Segments: t.SegmentCount}
		if !t.EndedAt.IsZero() {
			j.EndedAt = &t.EndedAt
		}
		out = append(out, j)
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"transcripts": out})
}

// getTranscript downloads a transcript in the format asked (md, vtt, srt
// or json; md by default), for the room's hosts.
func (a *API) getTranscript(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	format := strings.ToLower(r.URL.Query().Get("format"))
	if format == "" {
		format = transcript.Markdown
	}
	if !slices.Contains(transcript.Formats(), format) {
		a.answer(w, 0, nil, fail(http.StatusBadRequest, "bad_format", "format must be one of %s", strings.Join(transcript.Formats(), ", ")))
		return
	}
	t, ae := a.roomTranscript(w, r, ScopeTranscriptsRead)
	if ae != nil {
		a.answer(w, 0, nil, ae)
		return
	}
	doc, err := transcript.FromStore(t)
	if err != nil {
		a.answer(w, 0, nil, a.internal(ctx, err))
		return
	}
	var body bytes.Buffer
	if err := transcript.Render(&body, format, doc); err != nil {
		a.answer(w, 0, nil, a.internal(ctx, err))
		return
	}
	w.Header().Set("Content-Type", transcript.ContentType(format))
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": transcript.FileName(doc, format)}))
	w.Header().Set("Content-Length", strconv.Itoa(body.Len()))
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(body.Bytes())
}

// deleteTranscript deletes a transcript, for the room's hosts (a token
// needs rooms:write, as to delete the room).
func (a *API) deleteTranscript(w http.ResponseWriter, r *http.Request) {
	t, ae := a.roomTranscript(w, r, ScopeRoomsWrite)
	if ae == nil {
		if err := a.cfg.Store.DeleteTranscript(r.Context(), t.ID); err != nil {
			ae = a.storeError(r.Context(), err, errNoTranscript)
		}
	}
	if ae != nil {
		a.answer(w, 0, nil, ae)
		return
	}
	a.log.Info("transcript deleted", "room", t.RoomCode, "transcript", t.ID)
	w.WriteHeader(http.StatusNoContent)
}

// roomTranscript loads the {id} transcript of the {code} room, for a host
// (whose token has scope).
func (a *API) roomTranscript(w http.ResponseWriter, r *http.Request, scope string) (store.Transcript, *apiError) {
	_, rm, _, ae := a.hostOf(w, r, scope)
	if ae != nil {
		return store.Transcript{}, ae
	}
	t, err := a.cfg.Store.Transcript(r.Context(), store.TranscriptID(r.PathValue("id")))
	if err != nil {
		return store.Transcript{}, a.storeError(r.Context(), err, errNoTranscript)
	}
	if t.RoomID != rm.ID {
		return store.Transcript{}, errNoTranscript // another room's: say nothing of it
	}
	return t, nil
}
