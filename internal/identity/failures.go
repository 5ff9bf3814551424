package identity

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// The failures of a sign-in, as the user reads them. Each says what to do
// next; the error inside is for the log.

// checkACR enforces RequiredACR. It is the check that counts: providers
// may answer acr_values with a lower level, or ignore it.
func (a *Auth) checkACR(acr string) *failure {
	if len(a.cfg.RequiredACR) == 0 || slices.Contains(a.cfg.RequiredACR, acr) {
		return nil
	}
	want := strings.Join(a.cfg.RequiredACR, ", ")
	gotFR, gotEN := acr, acr
	if acr == "" {
		gotFR, gotEN = "aucun", "none"
	}
	return &failure{http.StatusUnauthorized,
		fmt.Sprintf("Votre compte s'est connecté avec le niveau de sécurité « %s », mais ce service demande « %s ». "+
			"Connectez-vous avec un moyen d'authentification plus fort (par exemple une double authentification), "+
			"puis recommencez depuis la page d'accueil.", gotFR, want),
		fmt.Sprintf("Your account signed in with security level “%s”, but this service requires “%s”. "+
			"Sign in with a stronger authentication method (for example two-factor authentication), "+
			"then try again from the home page.", gotEN, want),
		fmt.Errorf("acr %q is not one of %q", acr, a.cfg.RequiredACR)}
}

func invalidProof(err error) *failure {
	return &failure{http.StatusUnauthorized,
		"La preuve d'identité envoyée par le fournisseur n'est pas valide (expirée, mal signée ou destinée à un autre service). " +
			tryAgainFR + " Si cela se reproduit, contactez votre administrateur.",
		"The proof of identity sent by the provider is not valid (expired, wrongly signed or meant for another service). " +
			tryAgainEN + " If it happens again, contact your administrator.",
		err}
}

func unreachable(err error) *failure {
	return &failure{http.StatusBadGateway,
		"Visio n'a pas pu joindre le fournisseur d'identité. Réessayez dans quelques instants depuis la page d'accueil.",
		"Visio could not reach the identity provider. Try again in a moment from the home page.", err}
}

func badAnswer(err error) *failure {
	return &failure{http.StatusBadGateway,
		"Le fournisseur d'identité a donné une réponse incomplète. " + tryAgainFR + " Si cela se reproduit, contactez votre administrateur.",
		"The identity provider gave an incomplete answer. " + tryAgainEN + " If it happens again, contact your administrator.", err}
}

func storeFailure(err error) *failure {
	return &failure{http.StatusServiceUnavailable,
		"Visio n'a pas pu enregistrer votre connexion. Réessayez dans quelques instants depuis la page d'accueil.",
		"Visio could not record your sign-in. Try again in a moment from the home page.", err}
}
