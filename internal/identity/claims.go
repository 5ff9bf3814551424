package identity

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// claims are the ones Visio reads, from the ID token and from userinfo.
type claims struct {
	Issuer    string   `json:"iss"`
	Audience  audience `json:"aud"`
	AZP       string   `json:"azp"`
	ACR       string   `json:"acr"`
	Email     string   `json:"email"`
	Name      string   `json:"name"`
	GivenName string   `json:"given_name"`
	UsualName string   `json:"usual_name"`
}

// displayName follows ProConnect, which gives first names and the name in
// use (usual_name) but no "name": "Marie Curie"; other providers' name,
// then the e-mail, come after.
func displayName(given, usual, name, email string) string {
	var parts []string
	for _, p := range []string{given, usual} {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) > 0 {
		return strings.Join(parts, " ")
	}
	if name = strings.TrimSpace(name); name != "" {
		return name
	}
	return email
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// clip shortens s to at most n bytes without cutting a character: the
// provider's error_description is shown, but a link could make it huge.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// audience is the "aud" claim, a string or an array of strings.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*a = many
	return nil
}
