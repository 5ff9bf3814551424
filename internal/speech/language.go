package speech

import "strings"

// PrimaryLanguage returns the primary subtag of a BCP 47 language tag, lower
// case ("fr-FR", "fr_FR", "FR" → "fr"), or "" when tag does not start with
// one (two or three letters).
func PrimaryLanguage(tag string) string {
	primary, _, _ := strings.Cut(strings.ReplaceAll(strings.ToLower(strings.TrimSpace(tag)), "_", "-"), "-")
	if len(primary) < 2 || len(primary) > 3 || strings.ContainsFunc(primary, func(r rune) bool { return r < 'a' || r > 'z' }) {
		return ""
	}
	return primary
}
