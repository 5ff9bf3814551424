package identity

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Paths the server mounts the handlers on. The callback's path is that of
// Config.RedirectURL.
const (
	LoginPath  = "/auth/login"
	LogoutPath = "/auth/logout"
	MePath     = "/api/v1/me"
)

// providerTimeout bounds each call to the provider, so that a hung provider
// gives the user an error page instead of a spinner.
const providerTimeout = 15 * time.Second

// Auth signs users in and out and tells who they are.
type Auth struct {
	cfg      Config
	st       Store
	log      *slog.Logger
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	oauth    oauth2.Config
	sealer   sealer
	client   *http.Client

	endSession   string // the provider's end_session_endpoint, if any
	origin       string // scheme://host of RedirectURL
	callbackPath string // path of RedirectURL: where the state cookie goes

	now func() time.Time // time.Now but in tests
}

// New discovers the provider at cfg.Issuer and returns an Auth ready to
// serve. ctx bounds discovery only.
func New(ctx context.Context, cfg Config, st Store, log *slog.Logger) (*Auth, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if st == nil {
		return nil, errors.New("identity: no Store")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sl, err := newSealer(cfg.Secret)
	if err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	client := &http.Client{Timeout: providerTimeout}
	// The provider keeps this client for its key set too.
	provider, err := oidc.NewProvider(oidc.ClientContext(ctx, client), cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("identity: OpenID Connect discovery at %s/.well-known/openid-configuration failed "+
			"(is the provider reachable from this server, and is the issuer spelt exactly as the provider does?): %w",
			cfg.Issuer, err)
	}
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := provider.Claims(&meta); err != nil {
		return nil, fmt.Errorf("identity: reading the discovery document of %s: %w", cfg.Issuer, err)
	}
	if provider.UserInfoEndpoint() == "" {
		return nil, fmt.Errorf("identity: the provider %s has no userinfo endpoint, which Visio needs for names and e-mails", cfg.Issuer)
	}
	redirect, _ := url.Parse(cfg.RedirectURL) // checked in withDefaults
	if !cfg.CookieSecure && redirect.Scheme == "https" {
		log.Warn("identity: cookies are sent without Secure although the site is served over https; set CookieSecure")
	}
	if meta.EndSession == "" {
		log.Warn("identity: the provider has no end_session_endpoint; logout will end Visio's session only", "issuer", cfg.Issuer)
	}
	a := &Auth{
		cfg:      cfg,
		st:       st,
		log:      log,
		provider: provider,
		oauth: oauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			Endpoint:     provider.Endpoint(),
			RedirectURL:  cfg.RedirectURL,
			Scopes:       cfg.Scopes,
		},
		sealer:       sl,
		client:       client,
		endSession:   meta.EndSession,
		origin:       redirect.Scheme + "://" + redirect.Host,
		callbackPath: redirect.EscapedPath(),
		now:          time.Now,
	}
	if a.callbackPath == "" {
		a.callbackPath = "/"
	}
	// Now goes through a so that tests can move the clock for both.
	a.verifier = provider.Verifier(&oidc.Config{ClientID: cfg.ClientID, Now: func() time.Time { return a.now() }})
	return a, nil
}

// providerContext makes calls to the provider use our client, with its
// timeout, while still ending when the browser goes away.
func (a *Auth) providerContext(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, a.client)
}
