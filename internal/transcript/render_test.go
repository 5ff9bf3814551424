package transcript

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/visio-meet/visio/internal/summary"
)

var meetingStart = time.Date(2026, 12, 1, 14, 3, 0, 0, time.UTC)

// sample is a meeting as stored: in order of arrival, so Bob's short answer
// arrives before the end of Alice's long sentence begun earlier.
func sample() Transcript {
	ms := time.Millisecond
	return Transcript{
		ID:        "tr_sample",
		Room:      "abc-defg-hij",
		Language:  "fr",
		StartedAt: meetingStart,
		EndedAt:   meetingStart.Add(67 * time.Minute),
		StartedBy: "Alice",
		Segments: []Segment{
			{Participant: "p2", Speaker: "Bob *the* [boss]", Start: 6500 * ms, End: 7 * time.Second, Text: "Oui --> d'accord <b>vu</b>.", Language: "fr"},
			{Participant: "p1", Speaker: "Alice", Start: 1 * time.Second, End: 6 * time.Second, Text: "Bonjour à tous.\nOn commence ?", Language: "fr"},
			{Participant: "p1", Speaker: "Alice", Start: 8 * time.Second, End: 9 * time.Second, Text: "Premier point : le budget.", Language: "fr"},
			{Participant: "p1", Speaker: "Alice", Start: 10 * time.Second, End: 10 * time.Second, Text: "Voilà.", Language: "fr"},
			{Participant: "p3", Speaker: "Zoé & Co", Start: time.Hour + 2*time.Minute + 3*time.Second + 45*ms, End: time.Hour + 2*time.Minute + 5*time.Second, Text: "Au revoir !", Language: "fr"},
		},
		Summary: &summary.Summary{Short: "On a parlé du budget.", Topics: []string{"Budget"}, ActionItems: []string{"Bob envoie les chiffres."}},
	}
}

func render(t *testing.T, format string, tr Transcript) string {
	t.Helper()
	var b bytes.Buffer
	if err := Render(&b, format, tr); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestMarkdown(t *testing.T) {
	md := render(t, "md", sample())
	if !strings.HasPrefix(md, "# Transcription de la réunion abc-defg-hij du 1er décembre 2026\n") {
		t.Errorf("title:\n%s", md)
	}
	for _, want := range []string{
		"Lancée par Alice",
		"de 14:03 à 15:10 (UTC)",
		"## Résumé\n\nOn a parlé du budget.\n\n### Sujets abordés\n\n- Budget\n\n### Actions à mener\n\n- Bob envoie les chiffres.\n",
		"## Participants\n\n- Alice\n- Bob \\*the\\* \\[boss\\]\n- Zoé \\& Co\n",
		// Alice's first two sentences are one paragraph, Bob's interruption
		// between them and her next ones.
		"**Alice** (00:00:01): Bonjour à tous. On commence ?\n\n" +
			"**Bob \\*the\\* \\[boss\\]** (00:00:06): Oui --\\> d'accord \\<b\\>vu\\</b\\>.\n\n" +
			"**Alice** (00:00:08): Premier point : le budget. Voilà.\n\n" +
			"**Zoé \\& Co** (01:02:03): Au revoir !\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks\n%s\nin\n%s", want, md)
		}
	}
	if s, p, tr := strings.Index(md, "## Résumé"), strings.Index(md, "## Participants"), strings.Index(md, "## Transcription"); s >= p || p >= tr {
		t.Errorf("sections out of order: summary at %d, participants at %d, transcript at %d", s, p, tr)
	}

	running := sample()
	running.Summary, running.EndedAt, running.Segments = nil, time.Time{}, nil
	md = render(t, "md", running)
	if strings.Contains(md, "Résumé") || !strings.Contains(md, "en cours") || !strings.Contains(md, "Personne n'a encore parlé.") {
		t.Errorf("a running transcript without speech or summary:\n%s", md)
	}
}

func TestHeadingsInTheMeetingLanguage(t *testing.T) {
	for lang, want := range map[string][]string{
		"en":    {"# Transcript of meeting abc-defg-hij on 1 December 2026", "## Summary", "### Action items", "Started by Alice"},
		"de-AT": {"# Transkript des Meetings abc-defg-hij am 1. Dezember 2026", "## Zusammenfassung", "## Teilnehmende", "### Aufgaben"},
		"nl":    {"# Transcript van vergadering abc-defg-hij op 1 december 2026", "## Samenvatting", "## Deelnemers", "### Actiepunten"},
		"pt":    {"# Transcript of meeting abc-defg-hij on 1 December 2026", "## Participants"},
	} {
		tr := sample()
		tr.Language = lang
		md := render(t, "md", tr)
		for _, w := range want {
			if !strings.Contains(md, w) {
				t.Errorf("%s: Markdown lacks %q:\n%s", lang, w, md)
			}
		}
	}
}

// cue is a parsed WebVTT or SubRip cue.
type cue struct {
	id         string
	start, end time.Duration
	text       string
}

var cueTiming = regexp.MustCompile(`^(\d{2,}):(\d{2}):(\d{2})[.,](\d{3}) --> (\d{2,}):(\d{2}):(\d{2})[.,](\d{3})$`)

func parseTiming(t *testing.T, line string, sep string) (time.Duration, time.Duration) {
	t.Helper()
	m := cueTiming.FindStringSubmatch(line)
	if m == nil || !strings.Contains(line, sep) {
		t.Fatalf("bad cue timing %q", line)
	}
	n := make([]time.Duration, 8)
	for i := range n {
		v, _ := strconv.Atoi(m[i+1])
		n[i] = time.Duration(v)
	}
	at := func(h, m, s, ms time.Duration) time.Duration {
		return h*time.Hour + m*time.Minute + s*time.Second + ms*time.Millisecond
	}
	return at(n[0], n[1], n[2], n[3]), at(n[4], n[5], n[6], n[7])
}

// parseCues reads blocks of "id, timing, text" separated by blank lines.
func parseCues(t *testing.T, body, sep string) []cue {
	t.Helper()
	var cues []cue
	for block := range strings.SplitSeq(strings.TrimSpace(body), "\n\n") {
		lines := strings.Split(block, "\n")
		if len(lines) != 3 {
			t.Fatalf("cue of %d lines (want id, timing, one line of text): %q", len(lines), block)
		}
		start, end := parseTiming(t, lines[1], sep)
		cues = append(cues, cue{id: lines[0], start: start, end: end, text: lines[2]})
	}
	return cues
}

func checkCues(t *testing.T, cues []cue) {
	t.Helper()
	for i, c := range cues {
		if c.id != strconv.Itoa(i+1) {
			t.Errorf("cue %d has id %q", i+1, c.id)
		}
		if c.end <= c.start {
			t.Errorf("cue %d ends at %v, not after its start %v", i+1, c.end, c.start)
		}
		if i > 0 && c.start < cues[i-1].start {
			t.Errorf("cue %d starts at %v, before cue %d at %v", i+1, c.start, i, cues[i-1].start)
		}
		if strings.Contains(c.text, "-->") {
			t.Errorf("cue %d text holds an arrow: %q", i+1, c.text)
		}
	}
}

func TestWebVTT(t *testing.T) {
	vtt := render(t, "vtt", sample())
	header, body, ok := strings.Cut(vtt, "\n\n")
	if !ok || header != "WEBVTT" {
		t.Fatalf("header %q", header)
	}
	note, body, _ := strings.Cut(body, "\n\n")
	if note != "NOTE\nVisio abc-defg-hij 2026-12-01 14:03 UTC" {
		t.Errorf("note %q", note)
	}
	cues := parseCues(t, body, ".")
	checkCues(t, cues)
	want := []cue{
		{"1", time.Second, 6 * time.Second, "<v Alice>Bonjour à tous. On commence ?</v>"},
		{"2", 6500 * time.Millisecond, 7 * time.Second, "<v Bob *the* [boss]>Oui --&gt; d'accord &lt;b&gt;vu&lt;/b&gt;.</v>"},
		{"3", 8 * time.Second, 9 * time.Second, "<v Alice>Premier point : le budget.</v>"},
		{"4", 10 * time.Second, 11 * time.Second, "<v Alice>Voilà.</v>"}, // no duration: shown for a second
		{"5", time.Hour + 2*time.Minute + 3045*time.Millisecond, time.Hour + 2*time.Minute + 5*time.Second, "<v Zoé &amp; Co>Au revoir !</v>"},
	}
	if len(cues) != len(want) {
		t.Fatalf("%d cues, want %d:\n%s", len(cues), len(want), vtt)
	}
	for i := range want {
		if cues[i] != want[i] {
			t.Errorf("cue %d = %+v, want %+v", i+1, cues[i], want[i])
		}
	}
	if !strings.Contains(vtt, "01:02:03.045 --> 01:02:05.000") {
		t.Errorf("hours and milliseconds are not written as hh:mm:ss.mmm:\n%s", vtt)
	}
}

func TestSubRip(t *testing.T) {
	srt := render(t, "srt", sample())
	cues := parseCues(t, srt, ",")
	checkCues(t, cues)
	if len(cues) != 5 {
		t.Fatalf("%d cues, want 5:\n%s", len(cues), srt)
	}
	if cues[1].text != "Bob *the* [boss]: Oui → d'accord <b>vu</b>." || cues[0].text != "Alice: Bonjour à tous. On commence ?" {
		t.Errorf("cue texts %q, %q", cues[0].text, cues[1].text)
	}
	if !strings.Contains(srt, "5\n01:02:03,045 --> 01:02:05,000\nZoé & Co: Au revoir !\n") {
		t.Errorf("last cue:\n%s", srt)
	}
}

func TestJSON(t *testing.T) {
	out := render(t, "json", sample())
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["id"] != "tr_sample" || doc["room"] != "abc-defg-hij" || doc["language"] != "fr" ||
		doc["started_at"] != "2026-12-01T14:03:00Z" || doc["ended_at"] != "2026-12-01T15:10:00Z" {
		t.Errorf("header fields: %v", doc)
	}
	parts, _ := doc["participants"].([]any)
	if len(parts) != 3 || parts[0].(map[string]any)["id"] != "p1" || parts[1].(map[string]any)["name"] != "Bob *the* [boss]" {
		t.Errorf("participants %v", parts)
	}
	segs, _ := doc["segments"].([]any)
	if len(segs) != 5 {
		t.Fatalf("%d segments", len(segs))
	}
	first, second := segs[0].(map[string]any), segs[1].(map[string]any)
	if first["speaker"] != "Alice" || first["start_ms"] != 1000.0 || first["end_ms"] != 6000.0 ||
		second["participant"] != "p2" || second["start_ms"] != 6500.0 || second["text"] != "Oui --> d'accord <b>vu</b>." {
		t.Errorf("segments in spoken order with ms times: %v, %v", first, second)
	}
	if s := doc["summary"].(map[string]any); s["short"] != "On a parlé du budget." || len(s["action_items"].([]any)) != 1 {
		t.Errorf("summary %v", s)
	}

	empty := render(t, "json", Transcript{ID: "tr_x", StartedAt: meetingStart})
	for _, want := range []string{`"ended_at": null`, `"participants": []`, `"segments": []`, `"summary": null`} {
		if !strings.Contains(empty, want) {
			t.Errorf("empty transcript lacks %s:\n%s", want, empty)
		}
	}
}

func TestFormatsAndNames(t *testing.T) {
	tr := sample()
	for format, want := range map[string][2]string{
		"md":   {"visio-abc-defg-hij-2026-12-01.md", "text/markdown; charset=utf-8"},
		"vtt":  {"visio-abc-defg-hij-2026-12-01.vtt", "text/vtt; charset=utf-8"},
		"srt":  {"visio-abc-defg-hij-2026-12-01.srt", "application/x-subrip; charset=utf-8"},
		"JSON": {"visio-abc-defg-hij-2026-12-01.json", "application/json"},
	} {
		if got := FileName(tr, format); got != want[0] {
			t.Errorf("FileName(%s) = %q, want %q", format, got, want[0])
		}
		if got := ContentType(format); got != want[1] {
			t.Errorf("ContentType(%s) = %q, want %q", format, got, want[1])
		}
	}
	tr.Room = `../a"b c/`
	if got := FileName(tr, "vtt"); got != "visio-abc-2026-12-01.vtt" {
		t.Errorf("a room with unsafe characters gives %q", got)
	}
	err := Render(&bytes.Buffer{}, "pdf", tr)
	if err == nil || !strings.Contains(err.Error(), "md, vtt, srt, json") {
		t.Errorf("unknown format: %v", err)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errDiskFull }

var errDiskFull = &json.UnsupportedValueError{Str: "disk full"}

func TestRenderReportsWriteErrors(t *testing.T) {
	for _, format := range Formats() {
		if err := Render(failingWriter{}, format, sample()); err == nil {
			t.Errorf("%s: a failing writer went unnoticed", format)
		}
	}
}

func TestMarkdownListItemsStayItems(t *testing.T) {
	tr := Transcript{Room: "abc-defg-hij", Language: "en", StartedAt: meetingStart, Segments: []Segment{
		{Participant: "p1", Speaker: "+ Dan", Text: "hi"},
		{Participant: "p2", Speaker: "", Text: "hello", Start: time.Second},
	}, Summary: &summary.Summary{Topics: []string{"1. Budget", "- draft", "2026 plans"}}}
	md := render(t, "md", tr)
	for _, want := range []string{"- \\+ Dan\n- Unknown speaker\n", "- 1\\. Budget\n- \\- draft\n- 2026 plans\n", "**Unknown speaker** (00:00:01): hello"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
}
