package token

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestTokensAllowOnlyTheirRoomAndScope(t *testing.T) {
	secret := []byte(strings.Repeat("s", 32))
	i, err := NewIssuer(secret)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := i.Issue("abc-defg-hij", ScopeWHIP, "OBS", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c, err := i.Verify(tok, "abc-defg-hij", ScopeWHIP)
	if err != nil || c.Name != "OBS" {
		t.Fatalf("a good token: %v %+v", err, c)
	}
	if _, err := i.Verify(tok, "xyz-abcd-efg", ScopeWHIP); !errors.Is(err, ErrScope) {
		t.Fatalf("another room: %v", err)
	}
	if _, err := i.Verify(tok, "abc-defg-hij", ScopeWHEP); !errors.Is(err, ErrScope) {
		t.Fatalf("another scope: %v", err)
	}

	other, _ := NewIssuer([]byte(strings.Repeat("o", 32)))
	if _, err := other.Verify(tok, "abc-defg-hij", ScopeWHIP); !errors.Is(err, ErrInvalid) {
		t.Fatalf("another server's secret: %v", err)
	}
	parts := strings.Split(tok, ".")
	if _, err := i.Verify(parts[0]+"."+parts[1]+".AAAA", "abc-defg-hij", ScopeWHIP); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a forged signature: %v", err)
	}
	// The "none" algorithm, and anything but HS256, is refused.
	none := "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + parts[1] + "."
	if _, err := i.Verify(none, "abc-defg-hij", ScopeWHIP); !errors.Is(err, ErrInvalid) {
		t.Fatalf("alg none: %v", err)
	}
	if _, err := i.Verify("garbage", "abc-defg-hij", ScopeWHIP); !errors.Is(err, ErrInvalid) {
		t.Fatalf("garbage: %v", err)
	}

	old, _ := i.Issue("abc-defg-hij", ScopeWHIP, "", time.Hour)
	i.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	if _, err := i.Verify(old, "abc-defg-hij", ScopeWHIP); !errors.Is(err, ErrExpired) {
		t.Fatalf("expired: %v", err)
	}
}

func TestShortSecretsAreRefused(t *testing.T) {
	if _, err := NewIssuer([]byte("short")); err == nil {
		t.Fatal("a 5-byte secret was accepted")
	}
}

func FuzzVerify(f *testing.F) {
	i, _ := NewIssuer([]byte(strings.Repeat("s", 32)))
	good, _ := i.Issue("abc-defg-hij", ScopeWHEP, "x", time.Hour)
	f.Add(good)
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, raw string) {
		if c, err := i.Verify(raw, "abc-defg-hij", ScopeWHEP); err == nil && c.Room != "abc-defg-hij" {
			t.Fatal("a token for another room passed")
		}
	})
}

func TestJoinTokensCarryTheGrantAndOnlyJoin(t *testing.T) {
	i, err := NewIssuer([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	g := Grant{User: "usr_1", SignedIn: true, Role: "administrator", BanKey: "user:usr_1"}
	tok, err := i.IssueJoin("abc-defg-hij", "Doctor Who", g, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	c, err := i.Verify(tok, "abc-defg-hij", ScopeJoin)
	if err != nil || c.Grant != g || c.Name != "Doctor Who" {
		t.Fatalf("join token: %v %+v", err, c)
	}
	if _, err := i.Verify(tok, "abc-defg-hij", ScopeWHIP); !errors.Is(err, ErrScope) {
		t.Fatalf("a join token used to publish with WHIP: %v", err)
	}
	whip, _ := i.Issue("abc-defg-hij", ScopeWHIP, "OBS", time.Minute)
	if _, err := i.Verify(whip, "abc-defg-hij", ScopeJoin); !errors.Is(err, ErrScope) {
		t.Fatalf("a WHIP token used to join: %v", err)
	}
}
