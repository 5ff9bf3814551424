package identity

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"time"
)

// Cookie names. The login-state cookie lives for one login only.
const (
	SessionCookie = "visio_session"
	GuestCookie   = "visio_guest"
	stateCookie   = "visio_login"
)

// HashToken is how a bearer secret (a session token) is kept at rest: the
// hex SHA-256 of the token as the client sends it. The token has 256 random
// bits, so a plain hash is enough; no salt or slow hash is needed.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// b64 is strict so that one sealed or random value has exactly one
// spelling: a fuzzer flipping padding bits must not find a second one.
var b64 = base64.RawURLEncoding.Strict()

// sessionTokenLen is the length of a 32-byte token in unpadded base64url.
const sessionTokenLen = 43

func newSessionToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand panics rather than return short)
	return b64.EncodeToString(b)
}

// parseSessionToken returns the token in a session cookie value if it is
// well formed, so that garbage never reaches the Store.
func parseSessionToken(v string) (string, bool) {
	if len(v) != sessionTokenLen || !isBase64URL(v) {
		return "", false
	}
	if b, err := b64.DecodeString(v); err != nil || len(b) != 32 {
		return "", false
	}
	return v, true
}

// isBase64URL reports whether s uses only the base64url alphabet. The
// decoder alone would skip '\r' and '\n'.
func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// sealer encrypts and authenticates cookie values with AES-256-GCM. The
// cookie's name is the additional data, so a value sealed for one cookie
// is refused in another.
type sealer struct{ aead cipher.AEAD }

// sealKeyInfo names the key derived from Config.Secret; change it to make
// every sealed cookie in flight invalid.
const sealKeyInfo = "visio identity login-state cookie v1"

// maxSealed bounds what open will look at; browsers keep 4 KB per cookie.
const maxSealed = 4096

func newSealer(secret []byte) (sealer, error) {
	// Derive the key rather than use the secret as is: the server may use
	// the same configured secret for other purposes.
	key, err := hkdf.Key(sha256.New, secret, nil, sealKeyInfo, 32)
	if err != nil {
		return sealer{}, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return sealer{}, err
	}
	// Random 96-bit nonces: login cookies are few enough per key that
	// collisions are not a concern.
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return sealer{}, err
	}
	return sealer{aead}, nil
}

func (s sealer) seal(name string, plaintext []byte) string {
	return b64.EncodeToString(s.aead.Seal(nil, nil, plaintext, []byte(name)))
}

var errBadSealed = errors.New("cookie is not one we sealed")

func (s sealer) open(name, value string) ([]byte, error) {
	if len(value) > maxSealed || !isBase64URL(value) {
		return nil, errBadSealed
	}
	raw, err := b64.DecodeString(value)
	if err != nil || len(raw) < s.aead.Overhead() {
		return nil, errBadSealed
	}
	pt, err := s.aead.Open(nil, nil, raw, []byte(name))
	if err != nil {
		return nil, errBadSealed
	}
	return pt, nil
}

// cookie builds a cookie with the attributes every identity cookie shares:
// never readable by scripts, and sent on top-level navigations from the
// provider (Lax) but not on cross-site subrequests.
func (a *Auth) cookie(name, value, path string, maxAge time.Duration) *http.Cookie {
	c := &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     path,
		HttpOnly: true,
		Secure:   a.cfg.CookieSecure,
		SameSite: http.SameSiteLaxMode,
	}
	if maxAge > 0 {
		c.MaxAge = int(maxAge / time.Second)
		c.Expires = a.now().Add(maxAge)
	} else {
		c.MaxAge = -1
		c.Expires = time.Unix(1, 0)
	}
	return c
}

// cookieValue returns the first cookie called name. Duplicates can exist
// (other paths); only well-formed values are accepted by the callers.
func cookieValue(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}
