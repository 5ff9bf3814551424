package identity

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"golang.org/x/oauth2"
)

// Callback finishes a login: GET /auth/callback?code=…&state=… as sent by
// the provider. On success it sets the session cookie and sends the browser
// to the page it started from; on failure it shows a page saying why and
// what to do.
func (a *Auth) Callback(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, "GET")
		return
	}
	next, f := a.callback(w, r)
	if f != nil {
		a.log.Warn("identity: sign-in failed", "status", f.status, "reason", f.err)
		f.render(w)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, next, http.StatusFound)
}

const tryAgainFR, tryAgainEN = "Recommencez depuis la page d'accueil.", "Try again from the home page."

func (a *Auth) callback(w http.ResponseWriter, r *http.Request) (string, *failure) {
	q := r.URL.Query()
	st, stErr := a.sealer.openState(cookieValue(r, stateCookie), a.now())
	stateOK := stErr == nil && q.Get("state") != "" &&
		subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(st.State)) == 1

	// Clear the login state only once the answer is known to belong to it:
	// a forged callback link must not void a login under way.
	if stateOK {
		http.SetCookie(w, a.cookie(stateCookie, "", a.callbackPath, 0))
	}

	if code := q.Get("error"); code != "" {
		desc := clip(q.Get("error_description"), 300)
		detail := code
		if desc != "" {
			detail += " : " + desc
		}
		return "", &failure{
			status: http.StatusUnauthorized,
			fr: fmt.Sprintf("Le fournisseur d'identité n'a pas accepté la connexion (%s). "+
				"Si vous avez annulé, c'est normal. %s Si cela se reproduit, contactez votre administrateur.", detail, tryAgainFR),
			en: fmt.Sprintf("The identity provider did not accept the sign-in (%s). "+
				"If you cancelled, that is expected. %s If it happens again, contact your administrator.", detail, tryAgainEN),
			err: fmt.Errorf("provider error %q: %q", code, desc),
		}
	}
	switch {
	case errors.Is(stErr, errStateExpired):
		return "", &failure{http.StatusBadRequest,
			"La connexion a pris plus de 10 minutes et a expiré. " + tryAgainFR,
			"The sign-in took longer than 10 minutes and expired. " + tryAgainEN, stErr}
	case stErr != nil:
		return "", &failure{http.StatusBadRequest,
			"Cette page de retour ne correspond à aucune connexion en cours dans ce navigateur " +
				"(la connexion a été lancée ailleurs, ou les cookies sont bloqués). " + tryAgainFR,
			"This return page matches no sign-in started in this browser " +
				"(it was started elsewhere, or cookies are blocked). " + tryAgainEN,
			fmt.Errorf("state cookie: %w", stErr)}
	case !stateOK:
		return "", &failure{http.StatusBadRequest,
			"La réponse du fournisseur d'identité ne correspond pas à la connexion lancée dans ce navigateur " +
				"(peut-être une connexion ouverte dans un autre onglet). " + tryAgainFR,
			"The identity provider's answer does not match the sign-in started in this browser " +
				"(perhaps one opened in another tab). " + tryAgainEN,
			errors.New("state parameter does not match the state cookie")}
	}
	code := q.Get("code")
	if code == "" {
		return "", &failure{http.StatusBadRequest,
			"Le fournisseur d'identité n'a pas renvoyé de code de connexion. " + tryAgainFR,
			"The identity provider sent no sign-in code. " + tryAgainEN, errors.New("no code parameter")}
	}

	id, f := a.identify(r.Context(), code, st)
	if f != nil {
		return "", f
	}
	u, err := a.st.UpsertUser(r.Context(), id.user)
	if err != nil {
		return "", storeFailure(fmt.Errorf("upsert user: %w", err))
	}
	token := newSessionToken()
	now := a.now()
	sess := Session{
		TokenHash: HashToken(token),
		UserID:    u.ID,
		CreatedAt: now,
		ExpiresAt: now.Add(a.cfg.SessionTTL),
		IDToken:   id.rawIDToken,
		ACR:       id.acr,
	}
	if err := a.st.CreateSession(r.Context(), sess); err != nil {
		return "", storeFailure(fmt.Errorf("create session: %w", err))
	}
	// A new login replaces the browser's previous session rather than
	// leaving it alive behind an overwritten cookie.
	if old, ok := parseSessionToken(cookieValue(r, SessionCookie)); ok {
		if err := a.st.RevokeSession(r.Context(), HashToken(old)); err != nil && !errors.Is(err, ErrNotFound) {
			a.log.Warn("identity: could not revoke the previous session", "err", err)
		}
	}
	http.SetCookie(w, a.cookie(SessionCookie, token, "/", a.cfg.SessionTTL))
	a.log.Info("identity: signed in", "user", u.ID, "acr", id.acr)
	// Re-checked although it was sealed: the rule may have tightened since.
	return SafeNext(st.Next), nil
}

// identified is what the provider vouched for.
type identified struct {
	user       User
	acr        string
	rawIDToken string
}

// identify redeems the code and checks everything the provider returns.
func (a *Auth) identify(ctx context.Context, code string, st loginState) (identified, *failure) {
	ctx = a.providerContext(ctx)
	tok, err := a.oauth.Exchange(ctx, code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil {
			// Logged by its code only: the body is the provider's to fill.
			return identified{}, &failure{http.StatusUnauthorized,
				"Le fournisseur d'identité a refusé le code de connexion (déjà utilisé ou expiré). " + tryAgainFR,
				"The identity provider refused the sign-in code (already used or expired). " + tryAgainEN,
				fmt.Errorf("token endpoint answered %d %q", re.Response.StatusCode, re.ErrorCode)}
		}
		return identified{}, unreachable(fmt.Errorf("token endpoint: %w", err))
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		return identified{}, badAnswer(errors.New("token response has no id_token"))
	}
	idt, err := a.verifier.Verify(ctx, rawID)
	if err != nil {
		return identified{}, invalidProof(fmt.Errorf("id token: %w", err))
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(st.Nonce)) != 1 {
		return identified{}, invalidProof(errors.New("id token nonce does not match the login state"))
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return identified{}, invalidProof(fmt.Errorf("id token at_hash: %w", err))
		}
	}
	var idc claims
	if err := idt.Claims(&idc); err != nil {
		return identified{}, invalidProof(fmt.Errorf("id token claims: %w", err))
	}
	// With several audiences, the token must say it was issued to us.
	if len(idt.Audience) > 1 && idc.AZP != a.cfg.ClientID {
		return identified{}, invalidProof(fmt.Errorf("id token has %d audiences and azp %q", len(idt.Audience), idc.AZP))
	}
	if f := a.checkACR(idc.ACR); f != nil {
		return identified{}, f
	}

	ui, err := a.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		return identified{}, &failure{http.StatusBadGateway,
			"Le fournisseur d'identité n'a pas donné les informations de votre profil. Réessayez dans quelques instants depuis la page d'accueil.",
			"The identity provider did not give your profile details. Try again in a moment from the home page.",
			fmt.Errorf("userinfo: %w", err)}
	}
	// Userinfo must be about the same person (OpenID Connect Core §5.3.2).
	if ui.Subject != idt.Subject {
		return identified{}, invalidProof(errors.New("userinfo sub differs from the id token's"))
	}
	var uc claims
	if err := ui.Claims(&uc); err != nil {
		return identified{}, badAnswer(fmt.Errorf("userinfo claims: %w", err))
	}
	// A signed userinfo (ProConnect) names issuer and audience; some
	// providers (LemonLDAP::NG) leave them out, so check only what is there.
	if uc.Issuer != "" && uc.Issuer != idt.Issuer {
		return identified{}, invalidProof(fmt.Errorf("userinfo iss %q is not the id token's", uc.Issuer))
	}
	if len(uc.Audience) > 0 && !slices.Contains(uc.Audience, a.cfg.ClientID) {
		return identified{}, invalidProof(errors.New("userinfo is for another audience"))
	}

	// Userinfo is the reference for profile claims; the ID token fills gaps.
	u := User{
		Issuer:    idt.Issuer,
		Subject:   idt.Subject,
		Email:     first(uc.Email, idc.Email),
		GivenName: first(uc.GivenName, idc.GivenName),
		UsualName: first(uc.UsualName, idc.UsualName),
	}
	u.Name = displayName(u.GivenName, u.UsualName, first(uc.Name, idc.Name), u.Email)
	return identified{user: u, acr: idc.ACR, rawIDToken: rawID}, nil
}
