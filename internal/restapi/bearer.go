package restapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/visio-meet/visio/internal/identity"
	"github.com/visio-meet/visio/internal/store"
)

// Errors of BearerScope's checks.
var (
	ErrNoToken      = errors.New("no valid API token")    // answer 401
	ErrMissingScope = errors.New("API token lacks scope") // answer 403
)

// BearerScope returns a check that a request carries an API token with
// scope, for endpoints that other programs call (and so that take no
// cookies, which other sites could make browsers send).
func (a *API) BearerScope(scope string) func(*http.Request) error {
	return func(r *http.Request) error {
		secret, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || secret == "" {
			return fmt.Errorf("%w: send an API token with the %s scope as Authorization: Bearer TOKEN", ErrNoToken, scope)
		}
		t, err := a.cfg.Store.APITokenByHash(r.Context(), identity.HashToken(secret), a.now())
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: this API token is unknown, revoked or expired: create a new one", ErrNoToken)
		} else if err != nil {
			a.log.Error("API token lookup failed", "err", err)
			return fmt.Errorf("%w: the token could not be checked now: try again", ErrNoToken)
		}
		if !(caller{scopes: t.Scopes}).may(scope) {
			return fmt.Errorf("%w: this API token lacks the %s scope: create one that has it", ErrMissingScope, scope)
		}
		return nil
	}
}
