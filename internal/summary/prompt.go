package summary

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/visio-meet/visio/internal/speech"
)

// prompt is the instruction given to the model in one language. Prompts
// are written in the meeting's language because models then answer in it
// more reliably than when merely told which language to use.
type prompt struct {
	task string // what to do and the JSON to answer with
	cut  string // added when the middle of the meeting was left out
}

// cutMarker stands, in the transcript sent, for the lines left out.
const cutMarker = "[…]"

var prompts = map[string]prompt{
	"en": {
		task: `You summarise the transcripts of video meetings. The user message is one, a line per utterance in the form "[hh:mm:ss] Speaker: text". It comes from automatic speech recognition and may hold mistakes.

Answer with a single JSON object and nothing else, with exactly these fields:
- "short": a summary of the meeting in three to five sentences;
- "topics": a list of the main subjects discussed, a few words each;
- "action_items": a list of the tasks someone agreed to do, a sentence each, naming who will do it when the transcript says so.

Write in English. Use only what the transcript says; when there are no topics or no action items, give an empty list.`,
		cut: `The meeting was too long to send whole: its middle was left out, where the line "[…]" stands. Summarise what remains and do not guess what was left out.`,
	},
	"fr": {
		task: `Tu résumes des transcriptions de réunions en visioconférence. Le message de l'utilisateur en est une, une ligne par prise de parole, sous la forme « [hh:mm:ss] Personne : texte ». Elle vient d'une reconnaissance vocale automatique et peut contenir des erreurs.

Réponds par un seul objet JSON et rien d'autre, avec exactement ces champs :
- "short" : un résumé de la réunion en trois à cinq phrases ;
- "topics" : la liste des principaux sujets abordés, en quelques mots chacun ;
- "action_items" : la liste des tâches que quelqu'un s'est engagé à faire, une phrase chacune, en nommant qui s'en charge quand la transcription le dit.

Écris en français. N'utilise que ce que dit la transcription ; s'il n'y a ni sujet ni tâche, donne une liste vide.`,
		cut: `La réunion était trop longue pour être envoyée entière : son milieu a été retiré, à l'endroit de la ligne « […] ». Résume ce qui reste sans deviner ce qui a été retiré.`,
	},
	"de": {
		task: `Du fasst Transkripte von Videokonferenzen zusammen. Die Nachricht des Nutzers ist eines davon, eine Zeile pro Wortbeitrag in der Form „[hh:mm:ss] Person: Text“. Es stammt aus einer automatischen Spracherkennung und kann Fehler enthalten.

Antworte mit einem einzigen JSON-Objekt und sonst nichts, mit genau diesen Feldern:
- "short": eine Zusammenfassung des Meetings in drei bis fünf Sätzen;
- "topics": eine Liste der wichtigsten besprochenen Themen, je ein paar Wörter;
- "action_items": eine Liste der Aufgaben, die jemand übernommen hat, je ein Satz, mit dem Namen der zuständigen Person, wenn das Transkript ihn nennt.

Schreibe auf Deutsch. Verwende nur, was im Transkript steht; gibt es keine Themen oder keine Aufgaben, gib eine leere Liste an.`,
		cut: `Das Meeting war zu lang, um es ganz zu senden: Sein Mittelteil wurde weggelassen, dort, wo die Zeile „[…]“ steht. Fasse zusammen, was bleibt, und rate nicht, was fehlt.`,
	},
	"nl": {
		task: `Je vat transcripties van videovergaderingen samen. Het bericht van de gebruiker is er een, één regel per spreekbeurt in de vorm "[hh:mm:ss] Spreker: tekst". Het komt uit automatische spraakherkenning en kan fouten bevatten.

Antwoord met één JSON-object en verder niets, met precies deze velden:
- "short": een samenvatting van de vergadering in drie tot vijf zinnen;
- "topics": een lijst van de belangrijkste besproken onderwerpen, elk in een paar woorden;
- "action_items": een lijst van de taken die iemand op zich heeft genomen, elk in één zin, met de naam van wie het doet als de transcriptie dat zegt.

Schrijf in het Nederlands. Gebruik alleen wat in de transcriptie staat; zijn er geen onderwerpen of geen actiepunten, geef dan een lege lijst.`,
		cut: `De vergadering was te lang om helemaal te versturen: het middendeel is weggelaten, waar de regel "[…]" staat. Vat samen wat overblijft en raad niet wat er ontbreekt.`,
	},
}

// promptLanguage returns the language of the prompt for a BCP 47 tag: its
// primary subtag when a prompt is written in it, English otherwise.
func promptLanguage(tag string) string {
	primary := speech.PrimaryLanguage(tag)
	if _, ok := prompts[primary]; ok {
		return primary
	}
	return "en"
}

func systemPrompt(language string, cut bool) string {
	p := prompts[promptLanguage(language)]
	if cut {
		return p.task + "\n\n" + p.cut
	}
	return p.task
}

// formatLine writes a line as the prompt describes it, on one line.
func formatLine(l Line) string {
	d := max(l.Start, 0).Round(time.Second)
	h, m, s := int(d/time.Hour), int(d/time.Minute)%60, int(d/time.Second)%60
	return fmt.Sprintf("[%02d:%02d:%02d] %s: %s", h, m, s,
		strings.Join(strings.Fields(l.Speaker), " "), strings.Join(strings.Fields(l.Text), " "))
}

// transcriptText returns the lines as the model reads them, within budget
// characters: when they do not fit, the start and the end of the meeting
// are kept, half of the budget each, and cut tells that the middle is
// replaced by cutMarker.
func transcriptText(lines []Line, budget int) (text string, cut bool) {
	formatted := make([]string, 0, len(lines))
	total := 0
	for _, l := range lines {
		if strings.TrimSpace(l.Text) == "" {
			continue
		}
		f := formatLine(l)
		formatted = append(formatted, f)
		total += utf8.RuneCountInString(f) + 1
	}
	if total <= budget {
		return strings.Join(formatted, "\n"), false
	}
	half := max((budget-utf8.RuneCountInString(cutMarker)-2)/2, 1)
	var head, tail []string
	used := 0
	for _, f := range formatted {
		n := utf8.RuneCountInString(f) + 1
		if used+n > half {
			if len(head) == 0 {
				head = append(head, truncate(f, half-1)) // a first line longer than half the budget
			}
			break
		}
		head = append(head, f)
		used += n
	}
	used = 0
	for i := len(formatted) - 1; i >= len(head); i-- {
		n := utf8.RuneCountInString(formatted[i]) + 1
		if used+n > half {
			break
		}
		tail = append(tail, formatted[i])
		used += n
	}
	parts := append(head, cutMarker)
	for i := len(tail) - 1; i >= 0; i-- {
		parts = append(parts, tail[i])
	}
	return strings.Join(parts, "\n"), true
}

// truncate returns s cut to at most n characters, ending with an ellipsis.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 1 {
		return "…"
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
