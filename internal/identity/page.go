package identity

import (
	"html/template"
	"net/http"
)

// failure is a sign-in problem as the user sees it, in French first (the
// product's default language) and English, with what to do next. err is for
// the log only and never carries tokens.
type failure struct {
	status int
	fr, en string
	err    error
}

var pageTmpl = template.Must(template.New("failure").Parse(`<!doctype html>
<html lang="fr">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Connexion impossible · Sign-in failed · Visio</title></head>
<body>
<main>
<section>
<h1>Connexion impossible</h1>
<p>{{.FR}}</p>
<p><a href="/">Retour à la page d'accueil</a></p>
</section>
<section lang="en">
<h1>Sign-in failed</h1>
<p>{{.EN}}</p>
<p><a href="/">Back to the home page</a></p>
</section>
</main>
</body>
</html>
`))

// render writes f as a small page. It has no script or style, so it is
// fine under the site's Content-Security-Policy.
func (f failure) render(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(f.status)
	_ = pageTmpl.Execute(w, struct{ FR, EN string }{f.fr, f.en})
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	http.Error(w, "Méthode non autorisée. / Method not allowed.", http.StatusMethodNotAllowed)
}
