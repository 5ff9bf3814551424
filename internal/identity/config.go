package identity

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"
)

// Config is how Visio talks to its OpenID Connect provider.
type Config struct {
	// Issuer must equal the discovery document's "issuer" byte for byte
	// (mind the trailing slash): go-oidc compares them exactly.
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is the public URL of the Callback handler, as registered
	// at the provider, e.g. https://visio.example/auth/callback. Its origin
	// is also the origin Logout accepts requests from.
	RedirectURL string
	// PostLogoutRedirectURL is where the provider sends the user after
	// logout; it must be registered at the provider too.
	PostLogoutRedirectURL string
	// Scopes default to ProConnect's: openid email given_name usual_name.
	// "openid" is always included.
	Scopes []string
	// ACRValues is sent as acr_values when set (e.g. "eidas1").
	ACRValues string
	// RequiredACR, when set, lists the acr values an ID token must carry.
	// Providers may ignore acr_values (LemonLDAP::NG does), so asking is
	// not enough: this is the check that counts.
	RequiredACR []string
	// SessionTTL is how long a login lasts; 12h by default.
	SessionTTL time.Duration
	// CookieSecure sets the Secure attribute; turn it on behind https.
	CookieSecure bool
	// Secret (at least 32 bytes, the same on every node) seals the
	// short-lived login-state cookie.
	Secret []byte
}

// defaultScopes are ProConnect's: each scope after openid releases the
// claim of the same name in userinfo.
var defaultScopes = []string{"openid", "email", "given_name", "usual_name"}

const (
	defaultSessionTTL = 12 * time.Hour
	minSecretLen      = 32
)

// withDefaults checks c and fills in what was left empty. The returned
// Config shares nothing mutable with c.
func (c Config) withDefaults() (Config, error) {
	var errs []error
	if c.Issuer == "" {
		errs = append(errs, errors.New("missing Issuer"))
	}
	if c.ClientID == "" {
		errs = append(errs, errors.New("missing ClientID"))
	}
	if err := absoluteURL(c.RedirectURL); err != nil {
		errs = append(errs, fmt.Errorf("RedirectURL: %w", err))
	}
	if c.PostLogoutRedirectURL != "" {
		if err := absoluteURL(c.PostLogoutRedirectURL); err != nil {
			errs = append(errs, fmt.Errorf("PostLogoutRedirectURL: %w", err))
		}
	}
	if len(c.Secret) < minSecretLen {
		errs = append(errs, fmt.Errorf("the Secret has %d bytes, want at least %d (generate one with `openssl rand -base64 48`)", len(c.Secret), minSecretLen))
	}
	if c.SessionTTL < 0 {
		errs = append(errs, fmt.Errorf("SessionTTL %v is negative", c.SessionTTL))
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("identity: invalid config: %w", err)
	}

	if c.SessionTTL == 0 {
		c.SessionTTL = defaultSessionTTL
	}
	if len(c.Scopes) == 0 {
		c.Scopes = defaultScopes
	}
	scopes := []string{"openid"}
	for _, s := range c.Scopes {
		if s != "" && !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	c.Scopes = scopes
	c.RequiredACR = slices.Clone(c.RequiredACR)
	c.Secret = slices.Clone(c.Secret)
	return c, nil
}

func absoluteURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", s)
	}
	return nil
}
