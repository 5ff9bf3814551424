package transcript

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"
)

// The formats of Render.
const (
	Markdown = "md"
	WebVTT   = "vtt"
	SubRip   = "srt"
	JSON     = "json"
)

// Formats returns the formats Render writes, for menus and error messages.
func Formats() []string { return []string{Markdown, WebVTT, SubRip, JSON} }

// Render writes t in a format: "md", "vtt", "srt" or "json".
func Render(w io.Writer, format string, t Transcript) error {
	bw := bufio.NewWriter(w)
	var err error
	switch strings.ToLower(format) {
	case Markdown:
		writeMarkdown(bw, t)
	case WebVTT:
		writeVTT(bw, t)
	case SubRip:
		writeSRT(bw, t)
	case JSON:
		err = writeJSON(bw, t)
	default:
		return fmt.Errorf("transcript: unknown format %q: use one of %s", format, strings.Join(Formats(), ", "))
	}
	if err == nil {
		// bufio.Writer keeps the first write error: Flush reports it.
		err = bw.Flush()
	}
	if err != nil {
		return fmt.Errorf("transcript: write %s as %s: %w", t.ID, format, err)
	}
	return nil
}

// ContentType returns the media type of a format, for HTTP responses.
func ContentType(format string) string {
	switch strings.ToLower(format) {
	case Markdown:
		return "text/markdown; charset=utf-8"
	case WebVTT:
		return "text/vtt; charset=utf-8"
	case SubRip:
		// SubRip has no registered type; this is the one players know.
		return "application/x-subrip; charset=utf-8"
	case JSON:
		return "application/json"
	}
	return "application/octet-stream"
}

// FileName returns a name for the download of t in a format, such as
// visio-abc-defg-hij-2026-12-01.vtt.
func FileName(t Transcript, format string) string {
	room := fileSafe(t.Room)
	name := "visio"
	if room != "" {
		name += "-" + room
	}
	if !t.StartedAt.IsZero() {
		name += "-" + t.StartedAt.UTC().Format("2006-01-02")
	}
	ext := strings.ToLower(format)
	switch ext {
	case Markdown, WebVTT, SubRip, JSON:
	default:
		ext = "txt"
	}
	return name + "." + ext
}

// fileSafe keeps the lower-case letters, digits and hyphens of a room's
// code: a file name takes no slash, quote or space.
func fileSafe(room string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			return r
		case r >= 'A' && r <= 'Z':
			return r + ('a' - 'A')
		}
		return -1
	}, room)
}

// clock writes a time since the start of the meeting as hh:mm:ss, and with
// milliseconds after sep when sep is not 0.
func clock(d time.Duration, sep byte) string {
	d = max(d, 0)
	h, m, s := d/time.Hour, d/time.Minute%60, d/time.Second%60
	if sep == 0 {
		return fmt.Sprintf("%02d:%02d:%02d", h, m, s)
	}
	return fmt.Sprintf("%02d:%02d:%02d%c%03d", h, m, s, sep, d/time.Millisecond%1000)
}

// oneLine collapses the spaces and line breaks of s, which would end a
// paragraph or a cue early.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// minCue is how long a segment without duration stays on screen: players
// skip cues that end when they start.
const minCue = time.Second

// cueTimes returns when a segment's cue shows and hides.
func cueTimes(seg Segment) (start, end time.Duration) {
	start = max(seg.Start, 0)
	end = seg.End
	if end <= start {
		end = start + minCue
	}
	return start, end
}
