// Package room holds what a room is, apart from any meeting in it: the
// shareable code of the form abc-defg-hij that appears in every meeting link,
// its access level, the roles of its members, and the rule that decides who
// enters, who waits in the lobby and who is refused.
package room

import (
	"crypto/rand"
	"errors"
	"net/url"
	"strings"
)

// Code identifies a room. Its canonical form is three groups of lowercase
// letters separated by hyphens (3-4-3), for example "abc-defg-hij".
type Code string

// ErrElsewhere says a room's meeting is hosted by another node of the
// cluster.
var ErrElsewhere = errors.New("the room is hosted by another node")

// ErrInvalidCode is returned when a string holds no room code.
var ErrInvalidCode = errors.New("not a room code: expected a link or a code like abc-defg-hij")

const (
	codeLetters = "abcdefghijklmnopqrstuvwxyz"
	codeLength  = 10 // letters, without hyphens
)

// NewCode returns a random code. 26^10 ≈ 1.4e14 codes make a link hard to guess.
func NewCode() Code {
	var b [codeLength]byte
	// rand.Read never fails on supported platforms (Go 1.24+ crashes instead).
	_, _ = rand.Read(b[:])
	letters := make([]byte, codeLength)
	for i, v := range b {
		// 256 is not a multiple of 26, so reject-free modulo gives a tiny bias;
		// use the top bits of a second draw to keep it uniform.
		for v >= 26*9 {
			var again [1]byte
			_, _ = rand.Read(again[:])
			v = again[0]
		}
		letters[i] = codeLetters[v%26]
	}
	return format(letters)
}

func format(letters []byte) Code {
	return Code(string(letters[:3]) + "-" + string(letters[3:7]) + "-" + string(letters[7:]))
}

// ParseCode accepts what people paste into a "join" field: a code with or
// without hyphens, in any letter case, surrounded by spaces, or a whole meeting
// link whose last path element is a code.
func ParseCode(s string) (Code, error) {
	s = strings.TrimSpace(s)
	if len(s) > 2048 {
		return "", ErrInvalidCode
	}
	if strings.Contains(s, "/") {
		if u, err := url.Parse(s); err == nil && u.Path != "" {
			s = u.Path
		}
		s = strings.TrimRight(s, "/")
		s = s[strings.LastIndexByte(s, '/')+1:]
	}
	letters := make([]byte, 0, codeLength)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z':
			letters = append(letters, c)
		case c >= 'A' && c <= 'Z':
			letters = append(letters, c+('a'-'A'))
		case c == '-' || c == ' ':
			continue
		default:
			return "", ErrInvalidCode
		}
		if len(letters) > codeLength {
			return "", ErrInvalidCode
		}
	}
	if len(letters) != codeLength {
		return "", ErrInvalidCode
	}
	return format(letters), nil
}

// Valid reports whether c is in canonical form.
func (c Code) Valid() bool {
	parsed, err := ParseCode(string(c))
	return err == nil && parsed == c
}
