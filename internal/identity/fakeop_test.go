package identity

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// fakeOP is a small in-process OpenID Connect provider for the cases a
// real provider will not produce: expired or forged ID tokens, a wrong
// audience, a userinfo about someone else. The ordinary flow is tested
// against LemonLDAP::NG in llng_test.go.
type fakeOP struct {
	t   *testing.T
	srv *httptest.Server
	key *rsa.PrivateKey

	mu    sync.Mutex
	codes map[string]pendingCode

	fakeKnobs
}

// fakeKnobs make the provider misbehave. They are fixed before its server
// starts, so its handlers read them without locks.
type fakeKnobs struct {
	idClaims    func(map[string]any) // edits the ID token's claims
	signKey     *rsa.PrivateKey      // signs ID tokens instead of key (a forgery)
	userinfoSub string               // sub in userinfo instead of the user's
}

type pendingCode struct{ nonce, challenge, redirect string }

const (
	fakeClientID = "visio"
	fakeSecret   = "visio-secret"
	fakeSubject  = "alice-uuid"
	fakeKeyID    = "fake-1"
)

func newFakeOP(t *testing.T, knobs fakeKnobs) *fakeOP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	op := &fakeOP{t: t, key: key, codes: map[string]pendingCode{}, fakeKnobs: knobs}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", op.discovery)
	mux.HandleFunc("GET /jwks", op.jwks)
	mux.HandleFunc("GET /authorize", op.authorize)
	mux.HandleFunc("POST /token", op.token)
	mux.HandleFunc("GET /userinfo", op.userinfo)
	op.srv = httptest.NewServer(mux)
	t.Cleanup(op.srv.Close)
	return op
}

func (op *fakeOP) issuer() string { return op.srv.URL }

func (op *fakeOP) discovery(w http.ResponseWriter, _ *http.Request) {
	iss := op.issuer()
	writeJSONTest(w, map[string]any{
		"issuer":                                iss,
		"authorization_endpoint":                iss + "/authorize",
		"token_endpoint":                        iss + "/token",
		"userinfo_endpoint":                     iss + "/userinfo",
		"jwks_uri":                              iss + "/jwks",
		"end_session_endpoint":                  iss + "/logout",
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
	})
}

func (op *fakeOP) jwks(w http.ResponseWriter, _ *http.Request) {
	writeJSONTest(w, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key: &op.key.PublicKey, KeyID: fakeKeyID, Algorithm: string(jose.RS256), Use: "sig",
	}}})
}

func (op *fakeOP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != fakeClientID || q.Get("response_type") != "code" ||
		q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" ||
		q.Get("nonce") == "" || q.Get("state") == "" || !strings.Contains(" "+q.Get("scope")+" ", " openid ") {
		http.Error(w, "bad authorize request: "+r.URL.RawQuery, http.StatusBadRequest)
		return
	}
	code := rand.Text()
	op.mu.Lock()
	op.codes[code] = pendingCode{q.Get("nonce"), q.Get("code_challenge"), q.Get("redirect_uri")}
	op.mu.Unlock()
	u, _ := url.Parse(q.Get("redirect_uri"))
	u.RawQuery = url.Values{"code": {code}, "state": {q.Get("state")}}.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func (op *fakeOP) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	}
	if id != fakeClientID || secret != fakeSecret {
		writeJSONStatus(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	op.mu.Lock()
	p, ok := op.codes[r.PostFormValue("code")]
	delete(op.codes, r.PostFormValue("code"))
	op.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
	if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != p.challenge || r.PostFormValue("redirect_uri") != p.redirect {
		writeJSONStatus(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
		return
	}
	access := rand.Text()
	ath := sha256.Sum256([]byte(access))
	now := time.Now()
	claims := map[string]any{
		"iss": op.issuer(), "sub": fakeSubject, "aud": fakeClientID,
		"exp": now.Add(5 * time.Minute).Unix(), "iat": now.Unix(), "auth_time": now.Unix(),
		"nonce": p.nonce, "acr": "eidas1",
		"at_hash": base64.RawURLEncoding.EncodeToString(ath[:16]),
	}
	if op.idClaims != nil {
		op.idClaims(claims)
	}
	key := op.key
	if op.signKey != nil {
		key = op.signKey
	}
	writeJSONTest(w, map[string]any{
		"access_token": access, "token_type": "Bearer", "expires_in": 60,
		"id_token": op.sign(key, claims),
	})
}

// userinfo answers like ProConnect: a signed JWT, application/jwt.
func (op *fakeOP) userinfo(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		http.Error(w, "no token", http.StatusUnauthorized)
		return
	}
	sub := fakeSubject
	if op.userinfoSub != "" {
		sub = op.userinfoSub
	}
	w.Header().Set("Content-Type", "application/jwt")
	_, _ = w.Write([]byte(op.sign(op.key, map[string]any{
		"iss": op.issuer(), "aud": fakeClientID, "sub": sub,
		"email": "alice.martin@example.gouv.fr", "given_name": "Alice", "usual_name": "Martin",
	})))
}

func (op *fakeOP) sign(key *rsa.PrivateKey, claims map[string]any) string {
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: fakeKeyID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		op.t.Error(err)
		return ""
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		op.t.Error(err)
		return ""
	}
	s, _ := jws.CompactSerialize()
	return s
}

func writeJSONTest(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func writeJSONStatus(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
