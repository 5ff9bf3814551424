package restapi

import (
	"crypto/rand"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/visio-meet/visio/internal/httpapi"
	"github.com/visio-meet/visio/internal/identity"
	"github.com/visio-meet/visio/internal/store"
)

type tokenJSON struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Scopes     []string   `json:"scopes"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	// Secret is shown once, when the token is made.
	Secret string `json:"secret,omitempty"`
}

func tokenView(t store.APIToken) tokenJSON {
	v := tokenJSON{ID: string(t.ID), Name: t.Name, Scopes: t.Scopes, CreatedAt: t.CreatedAt}
	if !t.ExpiresAt.IsZero() {
		v.ExpiresAt = &t.ExpiresAt
	}
	if !t.LastUsedAt.IsZero() {
		v.LastUsedAt = &t.LastUsedAt
	}
	return v
}

// signedInBrowser checks that the request comes from a signed-in browser:
// API tokens are made and revoked by people, not by other tokens.
func (a *API) signedInBrowser(w http.ResponseWriter, r *http.Request) (caller, *apiError) {
	c, ae := a.whoCalls(w, r)
	switch {
	case ae != nil:
		return c, ae
	case c.scopes != nil:
		return c, fail(http.StatusForbidden, "forbidden", "API tokens are managed from a signed-in browser, not with a token")
	case !c.signedIn:
		return c, errSignIn
	}
	return c, nil
}

func (a *API) listTokens(w http.ResponseWriter, r *http.Request) {
	c, ae := a.signedInBrowser(w, r)
	if ae != nil {
		a.answer(w, 0, nil, ae)
		return
	}
	tokens, err := a.cfg.Store.APITokens(r.Context(), c.user.ID)
	if err != nil {
		a.answer(w, 0, nil, a.internal(r.Context(), err))
		return
	}
	out := make([]tokenJSON, 0, len(tokens))
	for _, t := range tokens {
		out = append(out, tokenView(t))
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"tokens": out})
}

// tokenPrefix marks Visio's API tokens, so that secret scanners can find
// leaked ones.
const tokenPrefix = "visio_"

func (a *API) createToken(w http.ResponseWriter, r *http.Request) {
	if !a.allow(w, r, a.limits.write) {
		return
	}
	c, ae := a.signedInBrowser(w, r)
	var body struct {
		Name      string   `json:"name"`
		Scopes    []string `json:"scopes"`
		ExpiresIn int      `json:"expires_in_days"` // 0: never
	}
	if ae == nil {
		ae = readJSON(r, &body)
	}
	body.Name = strings.TrimSpace(body.Name)
	switch {
	case ae != nil:
	case body.Name == "" || utf8.RuneCountInString(body.Name) > 100:
		ae = fail(http.StatusBadRequest, "invalid", "name the token (1 to 100 characters) to recognise it later")
	case len(body.Scopes) == 0:
		ae = fail(http.StatusBadRequest, "invalid", "give the token at least one scope of %s", strings.Join(allScopes, ", "))
	case body.ExpiresIn < 0 || body.ExpiresIn > 3650:
		ae = fail(http.StatusBadRequest, "invalid", "expires_in_days must be 0 (never) to 3650")
	}
	for _, sc := range body.Scopes {
		if ae == nil && !slices.Contains(allScopes, sc) {
			ae = fail(http.StatusBadRequest, "invalid", "unknown scope %.40q: use %s", sc, strings.Join(allScopes, ", "))
		}
	}
	if ae != nil {
		a.answer(w, 0, nil, ae)
		return
	}
	secret := tokenPrefix + rand.Text() + rand.Text()
	t := store.APIToken{Hash: identity.HashToken(secret), UserID: c.user.ID, Name: body.Name, Scopes: body.Scopes}
	if body.ExpiresIn > 0 {
		t.ExpiresAt = a.now().Add(time.Duration(body.ExpiresIn) * 24 * time.Hour)
	}
	created, err := a.cfg.Store.CreateAPIToken(r.Context(), t)
	if err != nil {
		a.answer(w, 0, nil, a.internal(r.Context(), err))
		return
	}
	v := tokenView(created)
	v.Secret = secret
	a.log.Info("API token created", "token", created.ID, "scopes", created.Scopes) // never the secret
	httpapi.WriteJSON(w, http.StatusCreated, v)
}

func (a *API) revokeToken(w http.ResponseWriter, r *http.Request) {
	c, ae := a.signedInBrowser(w, r)
	if ae == nil {
		if err := a.cfg.Store.RevokeAPIToken(r.Context(), c.user.ID, store.TokenID(r.PathValue("id"))); err != nil {
			ae = a.storeError(r.Context(), err, fail(http.StatusNotFound, "not_found", "you have no token with this id"))
		}
	}
	a.answer(w, http.StatusNoContent, nil, ae)
}
