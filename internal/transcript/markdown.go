package transcript

import (
	"bufio"
	"cmp"
	"fmt"
	"strings"
)

// mdSpecial are the characters that would make Markdown of a name or of
// spoken text: emphasis, links and images, HTML, headings, tables, code,
// strikethrough and entities.
const mdSpecial = "\\`*_[]<>#|~&"

// mdEscape makes s plain text on one Markdown line.
func mdEscape(s string) string {
	var b strings.Builder
	for _, r := range oneLine(s) {
		if strings.ContainsRune(mdSpecial, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// turn is what one person said without being interrupted: consecutive
// segments of one speaker.
type turn struct {
	speaker string
	start   string
	texts   []string
}

func turns(t Transcript, unknown string) []turn {
	var (
		list []turn
		last string
	)
	for _, seg := range t.Spoken() {
		text := oneLine(seg.Text)
		if text == "" {
			continue
		}
		key := speakerKey(seg)
		if len(list) > 0 && key == last {
			list[len(list)-1].texts = append(list[len(list)-1].texts, text)
			continue
		}
		last = key
		speaker := oneLine(seg.Speaker)
		if speaker == "" {
			speaker = unknown
		}
		list = append(list, turn{speaker: speaker, start: clock(seg.Start, 0), texts: []string{text}})
	}
	return list
}

func writeMarkdown(w *bufio.Writer, t Transcript) {
	l := localeFor(t.Language)
	start := t.StartedAt.UTC()
	fmt.Fprintf(w, "# %s\n\n", mdEscape(fmt.Sprintf(l.title, t.Room, l.date(start))))

	var facts []string
	if t.StartedBy != "" {
		facts = append(facts, fmt.Sprintf(l.startedBy, mdEscape(t.StartedBy)))
	}
	if t.EndedAt.IsZero() {
		facts = append(facts, fmt.Sprintf(l.running, start.Format("15:04")))
	} else {
		facts = append(facts, fmt.Sprintf(l.timeRange, start.Format("15:04"), t.EndedAt.UTC().Format("15:04")))
	}
	if t.Language != "" {
		facts = append(facts, fmt.Sprintf(l.language, mdEscape(t.Language)))
	}
	fmt.Fprintf(w, "%s\n\n", strings.Join(facts, " · "))

	if s := t.Summary; s != nil {
		fmt.Fprintf(w, "## %s\n\n", l.summary)
		if short := mdEscape(s.Short); short != "" {
			fmt.Fprintf(w, "%s\n\n", short)
		}
		writeList(w, "### "+l.topics, s.Topics)
		writeList(w, "### "+l.actionItems, s.ActionItems)
	}

	var names []string
	for _, p := range t.Participants() {
		names = append(names, cmp.Or(oneLine(p.Name), l.unknown))
	}
	writeList(w, "## "+l.participants, names)

	fmt.Fprintf(w, "## %s\n\n", l.transcript)
	list := turns(t, l.unknown)
	if len(list) == 0 {
		fmt.Fprintf(w, "_%s_\n", l.noSpeech)
	}
	for i, tr := range list {
		if i > 0 {
			w.WriteString("\n")
		}
		fmt.Fprintf(w, "**%s** (%s): %s\n", mdEscape(tr.speaker), tr.start, mdEscape(strings.Join(tr.texts, " ")))
	}
}

// escapeListMarker escapes what would start a nested list, or a rule, at
// the start of a list item: "-", "+", "=" or a number and its "." or ")".
func escapeListMarker(s string) string {
	if strings.ContainsRune("-+=", rune(s[0])) {
		return "\\" + s
	}
	digits := len(s) - len(strings.TrimLeft(s, "0123456789"))
	if digits > 0 && digits < len(s) && (s[digits] == '.' || s[digits] == ')') {
		return s[:digits] + "\\" + s[digits:]
	}
	return s
}

// writeList writes a heading and a bulleted list, or nothing for no items.
func writeList(w *bufio.Writer, heading string, items []string) {
	var escaped []string
	for _, item := range items {
		if e := mdEscape(item); e != "" {
			escaped = append(escaped, escapeListMarker(e))
		}
	}
	if len(escaped) == 0 {
		return
	}
	fmt.Fprintf(w, "%s\n\n", heading)
	for _, e := range escaped {
		fmt.Fprintf(w, "- %s\n", e)
	}
	w.WriteString("\n")
}
