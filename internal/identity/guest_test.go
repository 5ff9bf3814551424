package identity

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestGuestName(t *testing.T) {
	ok := map[string]string{
		"Marie":                 "Marie",
		"  Jean-Éric Dupont \t": "Jean-Éric Dupont",
		"李小龍":                   "李小龍",
		"👩‍💻 Awa":               "👩‍💻 Awa", // emoji with a zero-width joiner
		strings.Repeat("é", 64): strings.Repeat("é", 64),
	}
	for in, want := range ok {
		if got, err := GuestName(in); err != nil || got != want {
			t.Errorf("GuestName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := map[string]error{
		"":                      ErrGuestNameEmpty,
		"   \n ":                ErrGuestNameEmpty,
		strings.Repeat("é", 65): ErrGuestNameTooLong,
		"Ma\x00rie":             ErrGuestNameInvalid,
		"Marie\nHost":           ErrGuestNameInvalid,
		"Marie\x1b[31m":         ErrGuestNameInvalid,
		"evil\u202egnp.exe":     ErrGuestNameInvalid, // right-to-left override
		"a\u2066b":              ErrGuestNameInvalid,
		"bad \xff utf-8":        ErrGuestNameInvalid,
		"line\u2028break":       ErrGuestNameInvalid,
	}
	for in, want := range bad {
		if got, err := GuestName(in); !errors.Is(err, want) {
			t.Errorf("GuestName(%q) = %q, %v; want %v", in, got, err, want)
		}
	}
}

func TestGuestID(t *testing.T) {
	w := httptest.NewRecorder()
	id := GuestID(w, httptest.NewRequest(http.MethodGet, "/abc-defg-hij", nil), true)
	if _, ok := parseGuestID(id); !ok {
		t.Fatalf("new guest id %q does not parse", id)
	}
	set := w.Header().Get("Set-Cookie")
	for _, attr := range []string{GuestCookie + "=" + id, "HttpOnly", "SameSite=Lax", "Secure", "Path=/", "Max-Age=31536000"} {
		if !strings.Contains(set, attr) {
			t.Errorf("guest cookie lacks %s: %s", attr, set)
		}
	}

	// The same browser keeps its id.
	req := httptest.NewRequest(http.MethodGet, "/abc-defg-hij", nil)
	req.AddCookie(&http.Cookie{Name: GuestCookie, Value: id})
	w = httptest.NewRecorder()
	if again := GuestID(w, req, true); again != id || w.Header().Get("Set-Cookie") != "" {
		t.Fatalf("returning guest got %q (was %q), Set-Cookie %q", again, id, w.Header().Get("Set-Cookie"))
	}

	// A made-up one is replaced.
	for _, forged := range []string{"host", strings.ToLower(id), id + "A", id[:25] + "1", "AAAAAAAAAAAAAAAAAAAAAAAAAB"} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.AddCookie(&http.Cookie{Name: GuestCookie, Value: forged})
		w := httptest.NewRecorder()
		if got := GuestID(w, req, true); got == forged || w.Header().Get("Set-Cookie") == "" {
			t.Errorf("forged guest id %q kept", forged)
		}
	}
}
