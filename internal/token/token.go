// Package token issues and checks Visio's access tokens: short JWTs signed
// with the server's secret (HS256), each for one room and one use, such as
// publishing into a room with WHIP or watching it with WHEP. Only HS256 is
// accepted, so a token cannot choose how it is checked.
package token

import (
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Scope says what a token lets its bearer do.
type Scope string

// The scopes.
const (
	ScopeWHIP Scope = "whip" // publish into the room
	ScopeWHEP Scope = "whep" // watch the room
	ScopeJoin Scope = "join" // open a signalling session in the room, as the grant says
	// come back into a meeting that moved to another node, as the same
	// participant, without waiting in its lobby again
	ScopeRejoin Scope = "rejoin"
)

// MinSecretBytes is the shortest secret accepted: HS256 needs 256 bits.
const MinSecretBytes = 32

const issuer = "visio"

// Claims are what a token says.
type Claims struct {
	Room  string `json:"room"`
	Scope Scope  `json:"scope"`
	Name  string `json:"name,omitempty"` // shown to the meeting
	// Participant and Meeting name who may rejoin which meeting.
	Participant string `json:"pid,omitempty"`
	Meeting     string `json:"mtg,omitempty"`
	Grant
	jwt.Claims
}

// Grant is what a join token says of its bearer, as the server found out
// when it issued the token: who they are and what they are in the room.
type Grant struct {
	User     string `json:"uid,omitempty"` // "" for a guest
	SignedIn bool   `json:"signed_in,omitempty"`
	Role     string `json:"role,omitempty"`
	BanKey   string `json:"ban,omitempty"`
}

// Errors of Verify.
var (
	ErrInvalid = errors.New("the token is not valid (forged, damaged, or from another server)")
	ErrExpired = errors.New("the token has expired")
	ErrScope   = errors.New("the token does not allow this")
)

// Issuer signs and checks tokens with one secret.
type Issuer struct {
	key []byte
	now func() time.Time
}

// NewIssuer returns an issuer for secret, which must be at least
// MinSecretBytes long.
func NewIssuer(secret []byte) (*Issuer, error) {
	if len(secret) < MinSecretBytes {
		return nil, fmt.Errorf("the token secret must be at least %d bytes", MinSecretBytes)
	}
	return &Issuer{key: secret, now: time.Now}, nil
}

// Issue returns a token for room and scope, valid for ttl.
func (i *Issuer) Issue(room string, scope Scope, name string, ttl time.Duration) (string, error) {
	return i.issue(Claims{Room: room, Scope: scope, Name: name}, ttl)
}

// IssueJoin returns a join token for room, under the display name name.
func (i *Issuer) IssueJoin(room, name string, g Grant, ttl time.Duration) (string, error) {
	return i.issue(Claims{Room: room, Scope: ScopeJoin, Name: name, Grant: g}, ttl)
}

// IssueRejoin returns a token that lets participant come back into the
// meeting of room named meetingKey after it moved to another node.
func (i *Issuer) IssueRejoin(room, participant, meetingKey string, ttl time.Duration) (string, error) {
	return i.issue(Claims{Room: room, Scope: ScopeRejoin, Participant: participant, Meeting: meetingKey}, ttl)
}

func (i *Issuer) issue(c Claims, ttl time.Duration) (string, error) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: i.key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", fmt.Errorf("token signer: %w", err)
	}
	now := i.now()
	c.Claims = jwt.Claims{
		Issuer: issuer, IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(ttl)),
	}
	return jwt.Signed(signer).Claims(c).Serialize()
}

// Verify checks a token and that it allows scope in room.
func (i *Issuer) Verify(raw, room string, scope Scope) (*Claims, error) {
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.HS256})
	if err != nil {
		return nil, ErrInvalid
	}
	var c Claims
	if err := tok.Claims(i.key, &c); err != nil {
		return nil, ErrInvalid
	}
	if err := c.ValidateWithLeeway(jwt.Expected{Issuer: issuer, Time: i.now()}, 30*time.Second); err != nil {
		if errors.Is(err, jwt.ErrExpired) {
			return nil, ErrExpired
		}
		return nil, ErrInvalid
	}
	if c.Room != room || c.Scope != scope {
		return nil, ErrScope
	}
	return &c, nil
}
