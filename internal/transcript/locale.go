package transcript

import (
	"fmt"
	"time"

	"github.com/visio-meet/visio/internal/speech"
)

// locale holds the words of the renderings in one language.
type locale struct {
	title        string // with the room's code and the date
	startedBy    string // with a name
	timeRange    string // with the start and the end, "hh:mm"
	running      string // with the start: the meeting has not ended
	language     string // with the language's tag
	unknown      string // the name of a speaker without one
	summary      string
	topics       string
	actionItems  string
	participants string
	transcript   string
	noSpeech     string
	date         func(time.Time) string
}

var locales = map[string]locale{
	"fr": {
		title:        "Transcription de la réunion %s du %s",
		startedBy:    "Lancée par %s",
		timeRange:    "de %s à %s (UTC)",
		running:      "depuis %s (UTC), en cours",
		language:     "Langue : %s",
		unknown:      "Intervenant inconnu",
		summary:      "Résumé",
		topics:       "Sujets abordés",
		actionItems:  "Actions à mener",
		participants: "Participants",
		transcript:   "Transcription",
		noSpeech:     "Personne n'a encore parlé.",
		date: func(t time.Time) string {
			day := fmt.Sprint(t.Day())
			if t.Day() == 1 {
				day = "1er"
			}
			return fmt.Sprintf("%s %s %d", day, frenchMonths[t.Month()-1], t.Year())
		},
	},
	"en": {
		title:        "Transcript of meeting %s on %s",
		startedBy:    "Started by %s",
		timeRange:    "from %s to %s (UTC)",
		running:      "since %s (UTC), still running",
		language:     "Language: %s",
		unknown:      "Unknown speaker",
		summary:      "Summary",
		topics:       "Topics",
		actionItems:  "Action items",
		participants: "Participants",
		transcript:   "Transcript",
		noSpeech:     "Nobody has spoken yet.",
		date:         func(t time.Time) string { return t.Format("2 January 2006") },
	},
	"de": {
		title:        "Transkript des Meetings %s am %s",
		startedBy:    "Gestartet von %s",
		timeRange:    "von %s bis %s (UTC)",
		running:      "seit %s (UTC), läuft noch",
		language:     "Sprache: %s",
		unknown:      "Unbekannte Person",
		summary:      "Zusammenfassung",
		topics:       "Themen",
		actionItems:  "Aufgaben",
		participants: "Teilnehmende",
		transcript:   "Transkript",
		noSpeech:     "Bisher hat niemand gesprochen.",
		date: func(t time.Time) string {
			return fmt.Sprintf("%d. %s %d", t.Day(), germanMonths[t.Month()-1], t.Year())
		},
	},
	"nl": {
		title:        "Transcript van vergadering %s op %s",
		startedBy:    "Gestart door %s",
		timeRange:    "van %s tot %s (UTC)",
		running:      "sinds %s (UTC), nog bezig",
		language:     "Taal: %s",
		unknown:      "Onbekende spreker",
		summary:      "Samenvatting",
		topics:       "Onderwerpen",
		actionItems:  "Actiepunten",
		participants: "Deelnemers",
		transcript:   "Transcript",
		noSpeech:     "Er heeft nog niemand gesproken.",
		date: func(t time.Time) string {
			return fmt.Sprintf("%d %s %d", t.Day(), dutchMonths[t.Month()-1], t.Year())
		},
	},
}

var (
	frenchMonths = [12]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
		"septembre", "octobre", "novembre", "décembre"}
	germanMonths = [12]string{"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
		"September", "Oktober", "November", "Dezember"}
	dutchMonths = [12]string{"januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
		"september", "oktober", "november", "december"}
)

// localeFor returns the words for a BCP 47 tag: by its primary subtag, in
// English for the languages without a translation.
func localeFor(tag string) locale {
	if l, ok := locales[speech.PrimaryLanguage(tag)]; ok {
		return l
	}
	return locales["en"]
}
