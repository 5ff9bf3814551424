package speechapi

import (
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/visio-meet/visio/internal/httpapi"
)

// verboseSegment is a segment of verbose_json, with the fields OpenAI's
// clients read; the decoder statistics Whisper adds are not made up.
type verboseSegment struct {
	ID    int     `json:"id"`
	Start float64 `json:"start"`
	End   float64 `json:"end"`
	Text  string  `json:"text"`
}

type verboseResponse struct {
	Task     string           `json:"task"`
	Language string           `json:"language,omitempty"`
	Duration float64          `json:"duration"`
	Text     string           `json:"text"`
	Segments []verboseSegment `json:"segments"`
}

func seconds(d time.Duration) float64 {
	return math.Round(d.Seconds()*1000) / 1000
}

func writeResult(w http.ResponseWriter, format string, t transcript) {
	w.Header().Set("Cache-Control", "no-store")
	switch format {
	case "text":
		writeText(w, "text/plain; charset=utf-8", t.text+"\n")
	case "srt":
		writeText(w, "application/x-subrip; charset=utf-8", subtitles(t, false))
	case "vtt":
		writeText(w, "text/vtt; charset=utf-8", subtitles(t, true))
	case "verbose_json":
		v := verboseResponse{Task: "transcribe", Language: t.language, Duration: seconds(t.duration),
			Text: t.text, Segments: make([]verboseSegment, len(t.segments))}
		for i, s := range t.segments {
			v.Segments[i] = verboseSegment{ID: i, Start: seconds(s.Start), End: seconds(s.End), Text: s.Text}
		}
		httpapi.WriteJSON(w, http.StatusOK, v)
	default:
		httpapi.WriteJSON(w, http.StatusOK, map[string]string{"text": t.text})
	}
}

func writeText(w http.ResponseWriter, contentType, body string) {
	w.Header().Set("Content-Type", contentType)
	_, _ = w.Write([]byte(body))
}

// subtitles writes the segments as SubRip or, with vtt, WebVTT cues.
func subtitles(t transcript, vtt bool) string {
	var b strings.Builder
	if vtt {
		b.WriteString("WEBVTT\n\n")
	}
	for i, s := range t.segments {
		if !vtt {
			fmt.Fprintf(&b, "%d\n", i+1)
		}
		fmt.Fprintf(&b, "%s --> %s\n%s\n\n", timestamp(s.Start, vtt), timestamp(s.End, vtt), cueText(s.Text, vtt))
	}
	return b.String()
}

// timestamp is hh:mm:ss,mmm for SubRip and hh:mm:ss.mmm for WebVTT.
func timestamp(d time.Duration, vtt bool) string {
	ms := d.Milliseconds()
	sep := ","
	if vtt {
		sep = "."
	}
	return fmt.Sprintf("%02d:%02d:%02d%s%03d", ms/3600000, ms/60000%60, ms/1000%60, sep, ms%1000)
}

// cueText keeps a cue's text on one line, as a blank line would end the
// cue, and escapes what WebVTT reads as markup.
func cueText(s string, vtt bool) string {
	s = strings.Join(strings.Fields(s), " ")
	if vtt {
		s = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
	} else {
		s = strings.ReplaceAll(s, "-->", "->")
	}
	return s
}

// errorBody is OpenAI's shape of an error.
type errorBody struct {
	Error struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    string  `json:"code"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, e *apiError) {
	var body errorBody
	body.Error.Message, body.Error.Type, body.Error.Code = e.message, e.typ, e.code
	if body.Error.Type == "" {
		body.Error.Type = "invalid_request_error"
	}
	if e.param != "" {
		body.Error.Param = &e.param
	}
	httpapi.WriteJSON(w, e.status, body)
}
