package identity

import "testing"

func TestSafeNext(t *testing.T) {
	cases := map[string]string{
		"/abc-defg-hij":        "/abc-defg-hij",
		"/":                    "/",
		"/abc-defg-hij?x=1#ok": "/abc-defg-hij?x=1#ok",
		"/a/b%2F%2Fc":          "/a/b%2F%2Fc",
		"":                     "/",
		"abc-defg-hij":         "/",
		"//evil.example":       "/",
		"///evil.example":      "/",
		"/\\evil.example":      "/",
		"/a\\b":                "/",
		"\\\\evil.example":     "/",
		"https://evil.example": "/",
		"javascript:alert(1)":  "/",
		"/\t/evil.example":     "/",
		"/\n/evil.example":     "/",
		"/%zz":                 "/",
		"/auth/login?next=/x":  "/",
		"/auth/callback":       "/",
		"/./auth/login":        "/",
		"/x/../auth/login":     "/",
		"/%61uth/login":        "/",
		"/authors":             "/authors",
	}
	for in, want := range cases {
		if got := SafeNext(in); got != want {
			t.Errorf("SafeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDisplayName(t *testing.T) {
	cases := []struct{ given, usual, name, email, want string }{
		{"Marie", "Curie", "ignored", "m@x.fr", "Marie Curie"},
		{" Marie ", "", "", "m@x.fr", "Marie"},
		{"", "Curie", "", "m@x.fr", "Curie"},
		{"", "", "Marie Curie", "m@x.fr", "Marie Curie"},
		{"", "", " ", "m@x.fr", "m@x.fr"},
	}
	for _, c := range cases {
		if got := displayName(c.given, c.usual, c.name, c.email); got != c.want {
			t.Errorf("displayName(%q, %q, %q, %q) = %q, want %q", c.given, c.usual, c.name, c.email, got, c.want)
		}
	}
}
