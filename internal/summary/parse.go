package summary

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on what is kept of an answer, so that a model that rambles cannot
// fill a transcript's page.
const (
	maxItems     = 30
	maxItemChars = 500
	maxShort     = 4000
	// maxAnswer is far more than a summary takes; reading no further
	// bounds the work on an answer that is mostly noise.
	maxAnswer = 64 << 10
)

// errNoSummary is returned when an answer holds nothing usable.
var errNoSummary = errors.New("no summary in it: try again, or another summary.model")

type section int

const (
	noSection section = iota
	shortSection
	topicsSection
	actionsSection
)

// fieldSections maps the names a model may give the JSON fields, folded by
// fold, to the part of the Summary they fill.
var fieldSections = map[string]section{
	"short": shortSection, "summary": shortSection, "shortsummary": shortSection, "resume": shortSection,
	"topics": topicsSection, "subjects": topicsSection, "themes": topicsSection,
	"actionitems": actionsSection, "actions": actionsSection, "tasks": actionsSection, "todos": actionsSection,
	"nextsteps": actionsSection,
}

// headingSections maps the headings of a markdown answer, in the four
// languages of the prompts and folded by fold, to the parts they fill.
var headingSections = map[string]section{
	"short": shortSection, "summary": shortSection, "shortsummary": shortSection, "resume": shortSection,
	"resumecourt": shortSection, "synthese": shortSection, "zusammenfassung": shortSection,
	"kurzfassung": shortSection, "samenvatting": shortSection,
	"topics": topicsSection, "maintopics": topicsSection, "subjects": topicsSection, "sujets": topicsSection,
	"sujetsabordes": topicsSection, "themes": topicsSection, "themen": topicsSection, "onderwerpen": topicsSection,
	"actionitems": actionsSection, "actions": actionsSection, "tasks": actionsSection, "nextsteps": actionsSection,
	"taches": actionsSection, "actionsadecider": actionsSection, "aufgaben": actionsSection,
	"massnahmen": actionsSection, "actiepunten": actionsSection, "acties": actionsSection,
}

// parseAnswer reads a model's answer: the JSON object asked for, possibly
// in a code fence or among other text; failing that, markdown sections
// under headings; failing that, the whole text as the short summary.
func parseAnswer(answer string) (Summary, error) {
	if len(answer) > maxAnswer {
		answer = answer[:maxAnswer]
	}
	answer = strings.ToValidUTF8(strings.TrimSpace(answer), "\uFFFD")
	if s, ok := parseJSONObject(answer); ok {
		return s, nil
	}
	if s, ok := parseSections(answer); ok {
		return s, nil
	}
	if text := strings.Join(strings.Fields(stripFences(answer)), " "); text != "" && !strings.ContainsAny(text[:1], "{[") {
		return tidy(Summary{Short: text})
	}
	return Summary{}, errNoSummary
}

// parseJSONObject decodes the first JSON object in s that has at least one
// known field.
func parseJSONObject(s string) (Summary, bool) {
	for attempts, i := 0, 0; attempts < 50; attempts++ {
		start := strings.IndexByte(s[i:], '{')
		if start < 0 {
			return Summary{}, false
		}
		i += start
		var fields map[string]any
		if json.NewDecoder(strings.NewReader(s[i:])).Decode(&fields) == nil {
			if sum, ok := fromFields(fields); ok {
				return sum, true
			}
		}
		i++
	}
	return Summary{}, false
}

func fromFields(fields map[string]any) (Summary, bool) {
	var (
		s     Summary
		found bool
	)
	// Keys in a fixed order, so that a duplicate alias always wins alike.
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		switch fieldSections[fold(k)] {
		case shortSection:
			if s.Short == "" {
				s.Short = strings.Join(texts(fields[k], 0), " ")
			}
			found = true
		case topicsSection:
			s.Topics = append(s.Topics, texts(fields[k], 0)...)
			found = true
		case actionsSection:
			s.ActionItems = append(s.ActionItems, texts(fields[k], 0)...)
			found = true
		}
	}
	if !found {
		return Summary{}, false
	}
	s, err := tidy(s)
	return s, err == nil
}

// maxDepth bounds how deep texts looks into nested values: an item is a
// string, or an object or list of a few strings, never a deep tree.
const maxDepth = 4

// texts returns the text of a decoded JSON field: a string, the items of a
// list, or, for objects such as {"task": ..., "owner": ...}, a line made of
// their texts. Numbers, booleans and null say nothing.
func texts(v any, depth int) []string {
	if depth >= maxDepth {
		return nil
	}
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, item := range v {
			if t := strings.Join(texts(item, depth+1), " — "); t != "" {
				out = append(out, t)
			}
		}
		return out
	case map[string]any:
		return []string{objectText(v, depth+1)}
	}
	return nil
}

// objectText writes an item given as an object: its text first, then the
// other values, such as who and when, whatever their keys.
func objectText(object map[string]any, depth int) string {
	first := []string{"task", "action", "item", "text", "description", "title", "topic"}
	var parts []string
	for _, k := range first {
		if v, ok := object[k]; ok {
			parts = append(parts, texts(v, depth)...)
		}
	}
	rest := make([]string, 0, len(object))
	for k := range object {
		if !slices.Contains(first, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	for _, k := range rest {
		parts = append(parts, texts(object[k], depth)...)
	}
	return strings.Join(parts, " — ")
}

// parseSections reads markdown with a heading per part: "## Topics",
// "**Topics:**", "Topics:" and the like, in any of the prompts' languages.
func parseSections(s string) (Summary, bool) {
	var (
		sum     Summary
		current = noSection
		found   bool
		short   []string
	)
	for _, line := range strings.Split(stripFences(s), "\n") {
		line = strings.TrimSpace(line)
		if sec, rest, ok := heading(line); ok {
			current, found = sec, true
			line = rest
		}
		item := strings.TrimSpace(strings.TrimLeft(trimNumber(line), "-*•+ "))
		if item == "" || current == noSection {
			continue
		}
		switch current {
		case shortSection:
			short = append(short, item)
		case topicsSection:
			sum.Topics = append(sum.Topics, item)
		case actionsSection:
			sum.ActionItems = append(sum.ActionItems, item)
		}
	}
	if !found {
		return Summary{}, false
	}
	sum.Short = strings.Join(short, " ")
	sum, err := tidy(sum)
	return sum, err == nil
}

// heading tells whether line names a part, and returns what follows the
// heading on the same line ("Summary: we met" gives "we met").
func heading(line string) (section, string, bool) {
	text := strings.TrimLeft(line, "#")
	hashes := len(line) - len(text)
	text = strings.TrimSpace(text)
	bold := strings.HasPrefix(text, "**") || strings.HasPrefix(text, "__")
	text = strings.TrimLeft(text, "*_ ")
	name, rest, colon := text, "", false
	if i := strings.IndexAny(text, ":："); i >= 0 {
		_, size := utf8.DecodeRuneInString(text[i:])
		name, rest, colon = text[:i], text[i+size:], true
	}
	name = strings.TrimRight(name, "*_ ")
	rest = strings.TrimSpace(strings.TrimLeft(rest, "*_ "))
	if hashes == 0 && !bold && !colon || !isHeadingName(name) {
		return noSection, "", false
	}
	sec, ok := headingSections[fold(name)]
	if !ok {
		return noSection, "", false
	}
	return sec, rest, true
}

// isHeadingName tells whether s is made of words only, which a line of
// JSON or a sentence with a colon is not.
func isHeadingName(s string) bool {
	return s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !unicode.IsLetter(r) && r != ' ' && r != '-' && r != '\''
	})
}

// trimNumber removes the "1." or "2)" of a numbered list item.
func trimNumber(line string) string {
	i := 0
	for i < len(line) && line[i] >= '0' && line[i] <= '9' {
		i++
	}
	if i > 0 && i < len(line) && (line[i] == '.' || line[i] == ')') {
		return line[i+1:]
	}
	return line
}

// stripFences removes the lines of markdown code fences.
func stripFences(s string) string {
	lines := strings.Split(s, "\n")
	kept := lines[:0]
	for _, l := range lines {
		if !strings.HasPrefix(strings.TrimSpace(l), "```") {
			kept = append(kept, l)
		}
	}
	return strings.Join(kept, "\n")
}

// fold reduces a field name or heading to lower-case letters without
// accents, so that "Action items", "action_items" and "Résumé" match the
// tables.
func fold(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z':
			b.WriteRune(r)
		case r == 'é' || r == 'è' || r == 'ê' || r == 'ë':
			b.WriteByte('e')
		case r == 'à' || r == 'â' || r == 'ä':
			b.WriteByte('a')
		case r == 'ô' || r == 'ö':
			b.WriteByte('o')
		case r == 'ù' || r == 'û' || r == 'ü':
			b.WriteByte('u')
		case r == 'î' || r == 'ï':
			b.WriteByte('i')
		case r == 'ç':
			b.WriteByte('c')
		case r == 'ß':
			b.WriteString("ss")
		case unicode.IsLetter(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// tidy trims and bounds the parts of a summary, drops empty and repeated
// items, and fails when nothing is left.
func tidy(s Summary) (Summary, error) {
	s.Short = truncate(strings.Join(strings.Fields(s.Short), " "), maxShort)
	s.Topics, s.ActionItems = tidyItems(s.Topics), tidyItems(s.ActionItems)
	if s.Short == "" && len(s.Topics) == 0 && len(s.ActionItems) == 0 {
		return Summary{}, errNoSummary
	}
	return s, nil
}

func tidyItems(items []string) []string {
	out := []string{} // [] rather than null in JSON
	for _, item := range items {
		item = strings.Join(strings.Fields(item), " ")
		item = strings.TrimSpace(strings.TrimLeft(item, "-*•"))
		if item == "" || slices.Contains(out, item) {
			continue
		}
		out = append(out, truncate(item, maxItemChars))
		if len(out) == maxItems {
			break
		}
	}
	return out
}
