package identity

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// FuzzStateCookie feeds the login-state cookie decoder anything: it must
// never panic, and must accept nothing but the exact value it sealed.
func FuzzStateCookie(f *testing.F) {
	s, err := newSealer(testSecret)
	if err != nil {
		f.Fatal(err)
	}
	// Seeds are sealed with fixed nonces: fuzzing runs this setup again in
	// each worker process, and they must all agree on the one valid value.
	seal := func(name string, st any) string {
		b, _ := json.Marshal(st)
		return sealFixedNonce(f, name, b)
	}
	now := time.Unix(1_800_000_000, 0)
	want := loginState{State: "STATE", Nonce: "NONCE", Verifier: "VERIFIER", Next: "/abc-defg-hij", Expires: now.Add(loginStateTTL).Unix()}
	valid := seal(stateCookie, want)
	if got, err := s.openState(valid, now); err != nil || got != want {
		f.Fatalf("the seed does not open: %v", err)
	}
	expired := seal(stateCookie, loginState{State: "S", Nonce: "N", Verifier: "V", Next: "/", Expires: now.Unix() - 1})
	empty := seal(stateCookie, loginState{Expires: now.Add(time.Minute).Unix()})
	otherName := seal(SessionCookie, want)
	notJSON := sealFixedNonce(f, stateCookie, []byte("not json"))
	for _, seed := range []string{valid, valid + "A", valid[:len(valid)-1], valid + "\n", "\n" + valid, expired, empty,
		otherName, notJSON, "", "A", "AAAA", "====", "%%%", valid[:40]} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got, err := s.openState(v, now)
		if err != nil {
			return
		}
		if v != valid || got != want {
			t.Fatalf("accepted a value it did not seal: %q -> %+v", v, got)
		}
	})
}

// sealFixedNonce seals like sealer.seal (GCM, the nonce before the
// ciphertext) but with an all-zero nonce, to make reproducible seeds.
func sealFixedNonce(t testing.TB, name string, plaintext []byte) string {
	key, err := hkdf.Key(sha256.New, testSecret, nil, sealKeyInfo, 32)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := aes.NewCipher(key)
	gcm, _ := cipher.NewGCM(block)
	nonce := make([]byte, gcm.NonceSize())
	return b64.EncodeToString(gcm.Seal(nonce, nonce, plaintext, []byte(name)))
}

// FuzzSessionCookie sends any session cookie value to /api/v1/me: the
// answer is always 200 and signed out, but for the one real token.
func FuzzSessionCookie(f *testing.F) {
	st := newMemStore()
	a := bareAuth(f, st)
	token := signedIn(f, st, time.Hour)
	for _, seed := range []string{token, token[:42], token + "=", "", "A", "\x00", "a b", newSessionToken(), HashToken(token)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		req := httptest.NewRequest(http.MethodGet, MePath, nil)
		// Raw header, as a client may send bytes no http.Cookie would allow.
		req.Header.Set("Cookie", SessionCookie+"="+v)
		w := httptest.NewRecorder()
		a.Me(w, req)
		if w.Code != http.StatusOK {
			t.Fatalf("me answered %d for %q", w.Code, v)
		}
		who, ok := a.Current(req)
		if ok && (cookieValue(req, SessionCookie) != token || who.User.Name != "Alice Martin") {
			t.Fatalf("signed in with %q", v)
		}
	})
}

// FuzzGuestID: only well-formed ids are kept; anything else gets a new,
// well-formed one.
func FuzzGuestID(f *testing.F) {
	good := newGuestID()
	for _, seed := range []string{good, good[:25], good + "A", "", "AAAAAAAAAAAAAAAAAAAAAAAAAB", "aaaaaaaaaaaaaaaaaaaaaaaaaa", "\xff"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("Cookie", GuestCookie+"="+v)
		w := httptest.NewRecorder()
		id := GuestID(w, req, false)
		if _, ok := parseGuestID(id); !ok {
			t.Fatalf("GuestID returned malformed %q", id)
		}
		if kept := w.Header().Get("Set-Cookie") == ""; kept && id != cookieValue(req, GuestCookie) {
			t.Fatalf("kept nothing but set no cookie for %q", v)
		}
		if id == v {
			if b, err := guestIDs.DecodeString(v); err != nil || len(b) != 16 || guestIDs.EncodeToString(b) != v {
				t.Fatalf("kept a non-canonical id %q", v)
			}
		}
	})
}
