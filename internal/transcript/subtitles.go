package transcript

import (
	"bufio"
	"fmt"
	"strings"
)

// vttEscaper escapes what WebVTT cue text and voice names cannot hold as
// is: tags, entities and, through '>', the "-->" of cue timings.
var vttEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// writeVTT writes a WebVTT file, one cue per segment with the speaker as
// its voice, which players show or style.
func writeVTT(w *bufio.Writer, t Transcript) {
	w.WriteString("WEBVTT\n\n")
	// Only letters, digits and hyphens of the room's code: a NOTE cannot
	// hold "-->".
	fmt.Fprintf(w, "NOTE\nVisio %s %s\n\n", fileSafe(t.Room), t.StartedAt.UTC().Format("2006-01-02 15:04 UTC"))
	n := 0
	for _, seg := range t.Spoken() {
		text := vttEscaper.Replace(oneLine(seg.Text))
		if text == "" {
			continue
		}
		n++
		start, end := cueTimes(seg)
		fmt.Fprintf(w, "%d\n%s --> %s\n", n, clock(start, '.'), clock(end, '.'))
		if name := vttEscaper.Replace(oneLine(seg.Speaker)); name != "" {
			fmt.Fprintf(w, "<v %s>%s</v>\n\n", name, text)
		} else {
			fmt.Fprintf(w, "%s\n\n", text)
		}
	}
}

// srtArrow replaces "-->" in SubRip text, which has no escapes and would
// read it as a timing line.
var srtArrow = strings.NewReplacer("-->", "→")

// writeSRT writes a SubRip file, one numbered cue per segment, its text
// after the speaker's name.
func writeSRT(w *bufio.Writer, t Transcript) {
	n := 0
	for _, seg := range t.Spoken() {
		text := srtArrow.Replace(oneLine(seg.Text))
		if text == "" {
			continue
		}
		if name := srtArrow.Replace(oneLine(seg.Speaker)); name != "" {
			text = name + ": " + text
		}
		n++
		start, end := cueTimes(seg)
		fmt.Fprintf(w, "%d\n%s --> %s\n%s\n\n", n, clock(start, ','), clock(end, ','), text)
	}
}
