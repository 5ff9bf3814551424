package summary

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseAnswer(t *testing.T) {
	for _, tc := range []struct {
		name, answer string
		want         Summary
	}{
		{
			name:   "plain JSON",
			answer: `{"short":"We chose a date.","topics":["Planning"," Dates "],"action_items":["Alice books the room."]}`,
			want:   Summary{Short: "We chose a date.", Topics: []string{"Planning", "Dates"}, ActionItems: []string{"Alice books the room."}},
		},
		{
			name:   "fenced, with chatter around",
			answer: "Here is the summary you asked for:\n\n```json\n{\n  \"short\": \"On a fixé une date.\",\n  \"topics\": [\"Planning\"],\n  \"action_items\": []\n}\n```\nTell me if you need more.",
			want:   Summary{Short: "On a fixé une date.", Topics: []string{"Planning"}, ActionItems: []string{}},
		},
		{
			name:   "other key names, a string list and objects",
			answer: `{"Summary": "Budget review.", "Topics": "budget", "Action Items": [{"task": "Send the figures", "owner": "Bob"}, "Call the bank"]}`,
			want:   Summary{Short: "Budget review.", Topics: []string{"budget"}, ActionItems: []string{"Send the figures — Bob", "Call the bank"}},
		},
		{
			name:   "a brace in the chatter before the object",
			answer: `Note {not json}. {"short": "ok", "topics": ["a", "a", ""]}`,
			want:   Summary{Short: "ok", Topics: []string{"a"}, ActionItems: []string{}},
		},
		{
			name: "markdown sections in French",
			answer: "## Résumé\nL'équipe a revu le budget.\nElle valide le plan.\n\n## Sujets abordés\n- Budget\n- Recrutement\n\n" +
				"## Actions\n1. Bob envoie les chiffres.\n2) Alice appelle la banque.",
			want: Summary{Short: "L'équipe a revu le budget. Elle valide le plan.", Topics: []string{"Budget", "Recrutement"},
				ActionItems: []string{"Bob envoie les chiffres.", "Alice appelle la banque."}},
		},
		{
			name:   "bold headings with text on the same line, in German",
			answer: "**Zusammenfassung:** Kurzes Treffen.\n**Themen:**\n* Urlaub\n**Aufgaben:** keine offenen Punkte",
			want:   Summary{Short: "Kurzes Treffen.", Topics: []string{"Urlaub"}, ActionItems: []string{"keine offenen Punkte"}},
		},
		{
			name:   "plain text only",
			answer: "  The team met\nand agreed on nothing.  ",
			want:   Summary{Short: "The team met and agreed on nothing.", Topics: nil, ActionItems: []string{}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseAnswer(tc.answer)
			if err != nil {
				t.Fatal(err)
			}
			if !equal(got, tc.want) {
				t.Errorf("parseAnswer =\n%#v\nwant\n%#v", got, tc.want)
			}
		})
	}
}

func TestParseAnswerRefusesEmptiness(t *testing.T) {
	for _, answer := range []string{"", "   ", "```json\n```", `{"foo": 1}`, `{"short": "", "topics": []}`, `[1, 2]`} {
		if got, err := parseAnswer(answer); err == nil {
			t.Errorf("parseAnswer(%q) = %+v, want an error", answer, got)
		}
	}
}

func TestParsedSummaryEncodesListsAsArrays(t *testing.T) {
	got, err := parseAnswer(`{"short": "ok"}`)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(got)
	if string(data) != `{"short":"ok","topics":[],"action_items":[]}` {
		t.Errorf("encoded as %s", data)
	}
}

func FuzzParseAnswer(f *testing.F) {
	for _, seed := range []string{
		`{"short":"a","topics":["b"],"action_items":["c"]}`,
		"```json\n{\"short\":\"x\"}\n```",
		"## Summary\ntext\n## Topics\n- a\n## Action items\n1. b",
		"**Résumé :** texte\n**Sujets :**\n- a",
		`{"action_items":[{"task":"t","owner":{"name":"n"}}, [1, [2]]]}`,
		"{{{{\"short\":",
		"plain words",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, answer string) {
		s, err := parseAnswer(answer)
		if err != nil {
			if !strings.Contains(err.Error(), "summary.model") {
				t.Errorf("error without advice: %v", err)
			}
			return
		}
		if s.Short == "" && len(s.Topics) == 0 && len(s.ActionItems) == 0 {
			t.Error("an empty summary without an error")
		}
		if !utf8.ValidString(s.Short) || utf8.RuneCountInString(s.Short) > maxShort || len(s.Topics) > maxItems || len(s.ActionItems) > maxItems {
			t.Errorf("summary out of bounds: %d characters, %d topics, %d items", utf8.RuneCountInString(s.Short), len(s.Topics), len(s.ActionItems))
		}
		for _, item := range append(s.Topics, s.ActionItems...) {
			if item == "" || strings.TrimSpace(item) != item || strings.Contains(item, "\n") || utf8.RuneCountInString(item) > maxItemChars {
				t.Errorf("untidy item %q", item)
			}
		}
	})
}
