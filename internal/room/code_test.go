package room

import (
	"regexp"
	"testing"
)

var canonical = regexp.MustCompile(`^[a-z]{3}-[a-z]{4}-[a-z]{3}$`)

func TestNewCodeIsCanonicalAndVaries(t *testing.T) {
	seen := map[Code]bool{}
	for range 1000 {
		c := NewCode()
		if !canonical.MatchString(string(c)) || !c.Valid() {
			t.Fatalf("NewCode() = %q, not of the form abc-defg-hij", c)
		}
		seen[c] = true
	}
	if len(seen) < 1000 {
		t.Fatalf("1000 new codes gave only %d distinct values", len(seen))
	}
}

func TestParseCode(t *testing.T) {
	good := map[string]Code{
		"abc-defg-hij":    "abc-defg-hij",
		"ABCDEFGHIJ":      "abc-defg-hij",
		"  abc defg hij ": "abc-defg-hij",
		"https://visio.example.gouv.fr/abc-defg-hij": "abc-defg-hij",
		"http://localhost:8080/abc-defg-hij/":        "abc-defg-hij",
		"https://visio.example/abc-defg-hij?lang=fr": "abc-defg-hij",
		"visio.example/Abc-Defg-Hij":                 "abc-defg-hij",
	}
	for in, want := range good {
		got, err := ParseCode(in)
		if err != nil || got != want {
			t.Errorf("ParseCode(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := []string{"", "abc", "abc-defg-hi", "abc-defg-hijk", "abc-defg-hi1", "../../etc/passwd",
		"https://visio.example/", "abc_defg_hij", "ééé-éééé-ééé"}
	for _, in := range bad {
		if got, err := ParseCode(in); err == nil {
			t.Errorf("ParseCode(%q) = %q, want an error", in, got)
		}
	}
}

func FuzzParseCode(f *testing.F) {
	f.Add("abc-defg-hij")
	f.Add("https://visio.example/abc-defg-hij")
	f.Add("%zz/abc")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCode(s)
		if err != nil {
			return
		}
		if !canonical.MatchString(string(c)) {
			t.Fatalf("ParseCode(%q) = %q, not canonical", s, c)
		}
		if again, err := ParseCode(string(c)); err != nil || again != c {
			t.Fatalf("ParseCode is not idempotent on %q: %q, %v", c, again, err)
		}
	})
}
