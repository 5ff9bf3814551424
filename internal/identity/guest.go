package identity

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxGuestNameRunes is the longest guest display name, in characters.
const MaxGuestNameRunes = 64

// Errors from GuestName; callers map them to the web app's messages.
var (
	ErrGuestNameEmpty   = errors.New("identity: the guest name is empty; enter a name between 1 and 64 characters")
	ErrGuestNameTooLong = errors.New("identity: the guest name is longer than 64 characters; shorten it")
	ErrGuestNameInvalid = errors.New("identity: the guest name contains invisible control or text-direction characters; type it again without them")
)

// GuestName returns the display name a guest typed, trimmed, or an error
// saying what is wrong with it. Control characters and text-direction
// overrides are refused: they can make a name look like another one, or
// break the layout of other participants' screens.
func GuestName(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", ErrGuestNameInvalid
	}
	s = strings.TrimSpace(s)
	switch n := utf8.RuneCountInString(s); {
	case n == 0:
		return "", ErrGuestNameEmpty
	case n > MaxGuestNameRunes:
		return "", ErrGuestNameTooLong
	}
	if strings.ContainsFunc(s, disallowedInName) {
		return "", ErrGuestNameInvalid
	}
	return s, nil
}

func disallowedInName(r rune) bool {
	switch {
	case unicode.IsControl(r), r == utf8.RuneError:
		return true
	case r == '\u2028' || r == '\u2029': // line and paragraph separators
		return true
	case r == '\u061c', r == '\u200e', r == '\u200f', // direction marks
		'\u202a' <= r && r <= '\u202e', // embeddings and overrides
		'\u2066' <= r && r <= '\u2069': // isolates
		return true
	}
	return false
}

// guestIDs spells 128 random bits as 26 base32 characters (A–Z, 2–7):
// no padding, no case to get wrong.
var guestIDs = base32.StdEncoding.WithPadding(base32.NoPadding)

const guestIDLen = 26

func newGuestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand panics rather than return short)
	return guestIDs.EncodeToString(b)
}

// guestCookieTTL is long because the id is what a ban sticks to.
const guestCookieTTL = 365 * 24 * time.Hour

// GuestID returns the guest id of this browser, setting a new one in the
// visio_guest cookie when there is none or it is malformed. Call it before
// writing the response's header. The id proves nothing about who the
// guest is, and a guest who clears cookies gets a new one: it only lets a
// host ban "this guest" without asking anyone for an account.
// It needs no provider: guests exist whether sign-in is on or off. secure
// sets the cookie's Secure attribute (behind https).
func GuestID(w http.ResponseWriter, r *http.Request, secure bool) string {
	if id, ok := parseGuestID(cookieValue(r, GuestCookie)); ok {
		return id
	}
	id := newGuestID()
	http.SetCookie(w, &http.Cookie{Name: GuestCookie, Value: id, Path: "/", HttpOnly: true, Secure: secure,
		SameSite: http.SameSiteLaxMode, MaxAge: int(guestCookieTTL / time.Second)})
	return id
}

func parseGuestID(v string) (string, bool) {
	if len(v) != guestIDLen {
		return "", false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; !('A' <= c && c <= 'Z' || '2' <= c && c <= '7') {
			return "", false
		}
	}
	// Re-encoding gives each id one spelling: the last character has
	// two unused bits the decoder would ignore.
	if b, err := guestIDs.DecodeString(v); err != nil || len(b) != 16 || guestIDs.EncodeToString(b) != v {
		return "", false
	}
	return v, true
}
