// Package oidctest runs a real OpenID Connect provider for tests:
// LemonLDAP::NG, from Debian's packages, with its demo users (dwho, rtyler
// and msmith, whose password is their login; acr eidas1, eidas2 and eidas3),
// and signs users in through its login form as a person would.
package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

const llngPSGI = "/usr/share/lemonldap-ng/portal/htdocs/index.psgi"

// Provider is a LemonLDAP::NG portal, a real OpenID Connect provider, run by
// the test: its own configuration under t.TempDir(), plackup on a free
// loopback port, stopped at cleanup. Demo users dwho, rtyler and msmith
// have their login as password and acr eidas1, eidas2 and eidas3.
type Provider struct {
	Issuer     string
	EndSession string // its end_session_endpoint
}

// StartLemonLDAP starts a provider that accepts the given redirect URIs for the
// client visio / visio-secret, and postLogout after logout.
func StartLemonLDAP(t testing.TB, redirectURIs []string, postLogout string) *Provider {
	t.Helper()
	plackup, err := exec.LookPath("plackup")
	if _, serr := os.Stat(llngPSGI); err != nil || serr != nil {
		const msg = "LemonLDAP::NG (plackup and its portal) is not installed: run scripts/deps.sh"
		if os.Getenv("VISIO_REQUIRE_TEST_SERVICES") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	dir := t.TempDir()
	for _, d := range []string{"conf", "sessions/lock", "psessions/lock", "cache"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // plackup binds it again; a race with another process is unlikely on loopback
	issuer := fmt.Sprintf("http://127.0.0.1:%d", port)

	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	priv := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	pubDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pub := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})

	ini := fmt.Sprintf(`[all]
logLevel = notice
logger = Lemonldap::NG::Common::Logger::Std
checkTime = 1
[configuration]
type = File
dirName = %s/conf
[portal]
staticPrefix = /static
templateDir = /usr/share/lemonldap-ng/portal/templates
languages = en, fr
`, dir)
	conf := map[string]any{
		// cfgNum and a non-zero cfgDate are mandatory ("No configuration available").
		"cfgNum": 1, "cfgDate": time.Now().Unix(), "cfgAuthor": "test", "cfgVersion": "2.16.1",
		"portal": issuer + "/", "domain": "127.0.0.1", "cookieName": "lemonldap", "securedCookie": 0,
		"authentication": "Demo", "userDB": "Same", "passwordDB": "Demo", "registerDB": "Null",
		"whatToTrace": "uid", "timeout": 72000,
		// Keyed by host: the built-in default crashes initialisation.
		"locationRules":   map[string]any{"127.0.0.1": map[string]string{"default": "accept"}},
		"exportedHeaders": map[string]any{},
		"globalStorage":   "Apache::Session::File",
		"globalStorageOptions": map[string]string{
			"Directory": dir + "/sessions", "LockDirectory": dir + "/sessions/lock",
			"generateModule": "Lemonldap::NG::Common::Apache::Session::Generate::SHA256"},
		"persistentStorage":        "Apache::Session::File",
		"persistentStorageOptions": map[string]string{"Directory": dir + "/psessions", "LockDirectory": dir + "/psessions/lock"},
		"localSessionStorage":      "Cache::FileCache",
		"localSessionStorageOptions": map[string]any{"namespace": "lemonldap-ng-sessions", "default_expires_in": 600,
			"directory_umask": "007", "cache_root": dir + "/cache", "cache_depth": 3},
		// ProConnect's claims, and a different authentication level per user.
		"macros": map[string]string{
			"given_name":          `$uid eq "dwho" ? "Doctor" : $uid eq "rtyler" ? "Rose" : "Mickey"`,
			"usual_name":          `$uid eq "dwho" ? "Who" : $uid eq "rtyler" ? "Tyler" : "Smith"`,
			"siret":               `"13002526500013"`,
			"authenticationLevel": `$uid eq "rtyler" ? 2 : $uid eq "msmith" ? 3 : $authenticationLevel`,
		},
		"issuerDBOpenIDConnectActivation": 1,
		// Without a trailing slash: go-oidc compares issuers exactly.
		"oidcServiceMetaDataIssuer":       issuer,
		"oidcServicePrivateKeySig":        string(priv),
		"oidcServicePublicKeySig":         string(pub),
		"oidcServiceKeyIdSig":             "test-key-1",
		"oidcServiceMetaDataAuthnContext": map[string]int{"eidas1": 1, "eidas2": 2, "eidas3": 3},
		"oidcRPMetaDataOptions": map[string]any{"visio": map[string]any{
			"oidcRPMetaDataOptionsClientID":     "visio",
			"oidcRPMetaDataOptionsClientSecret": "visio-secret",
			"oidcRPMetaDataOptionsRedirectUris": strings.Join(redirectURIs, " "),
			// Only then is the PKCE verifier checked at all.
			"oidcRPMetaDataOptionsRequirePKCE":            1,
			"oidcRPMetaDataOptionsBypassConsent":          1,
			"oidcRPMetaDataOptionsLogoutBypassConfirm":    1,
			"oidcRPMetaDataOptionsPostLogoutRedirectUris": postLogout,
			"oidcRPMetaDataOptionsIDTokenSignAlg":         "RS256",
			// Userinfo as a signed JWT, as ProConnect sends it.
			"oidcRPMetaDataOptionsUserInfoSignAlg": "RS256",
		}},
		"oidcRPMetaDataExportedVars": map[string]any{"visio": map[string]string{
			"email": "mail", "name": "cn", "preferred_username": "uid",
			"given_name": "given_name", "usual_name": "usual_name", "uid": "uid", "siret": "siret"}},
		"oidcRPMetaDataOptionsExtraClaims": map[string]any{"visio": map[string]string{
			"given_name": "given_name", "usual_name": "usual_name", "uid": "uid", "siret": "siret"}},
	}
	js, err := json.MarshalIndent(conf, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "lemonldap-ng.ini"), []byte(ini), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "conf", "lmConf-1.json"), js, 0o600); err != nil {
		t.Fatal(err)
	}

	logPath := filepath.Join(dir, "portal.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(plackup, "-s", "HTTP::Server::PSGI", "--host", "127.0.0.1",
		"--port", fmt.Sprint(port), "-E", "deployment", llngPSGI)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LLNG_DEFAULTCONFFILE="+filepath.Join(dir, "lemonldap-ng.ini"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("starting plackup: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("LemonLDAP::NG log:\n%s", b)
		}
	})

	// The portal loads everything on its first request; 0.3–0.4 s here.
	deadline := time.Now().Add(20 * time.Second)
	for {
		var meta struct {
			Issuer     string `json:"issuer"`
			EndSession string `json:"end_session_endpoint"`
		}
		resp, err := http.Get(issuer + "/.well-known/openid-configuration")
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&meta)
			resp.Body.Close()
			if err == nil && resp.StatusCode == http.StatusOK && meta.Issuer == issuer {
				return &Provider{Issuer: issuer, EndSession: meta.EndSession}
			}
			if err == nil {
				err = fmt.Errorf("discovery answered %d, issuer %q", resp.StatusCode, meta.Issuer)
			}
		}
		select {
		case <-exited:
			t.Fatal("LemonLDAP::NG exited at start-up (log below; run scripts/deps.sh?)")
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("LemonLDAP::NG did not become ready in 20 s: %v (log below; missing Perl modules? run scripts/deps.sh)", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var (
	lformRe = regexp.MustCompile(`(?s)<form[^>]*id="lform"[^>]*>(.*?)</form>`)
	inputRe = regexp.MustCompile(`<input[^>]*>`)
	attrRe  = regexp.MustCompile(`(\w+)="([^"]*)"`)
	TrmsgRe = regexp.MustCompile(`message-negative[^>]*><span trmsg="(\d+)"`)
)

// LoginForm returns the hidden fields of the portal's login form (the
// one-time token among them), or false if the page has none.
func LoginForm(page string) (url.Values, bool) {
	m := lformRe.FindStringSubmatch(page)
	if m == nil {
		return nil, false
	}
	v := url.Values{}
	for _, in := range inputRe.FindAllString(m[1], -1) {
		attrs := map[string]string{}
		for _, a := range attrRe.FindAllStringSubmatch(in, -1) {
			attrs[a[1]] = html.UnescapeString(a[2])
		}
		if attrs["type"] == "hidden" && attrs["name"] != "" {
			v.Set(attrs["name"], attrs["value"])
		}
	}
	return v, true
}

// SignIn does what a person does with client (which keeps cookies): follow
// the relying party's sign-in link, fill in the provider's form, submit. It
// returns the last response and its body.
func SignIn(t testing.TB, client *http.Client, loginURL, user, password string) (*http.Response, string) {
	t.Helper()
	resp, page := get(t, client, loginURL)
	fields, ok := LoginForm(page)
	if !ok {
		t.Fatalf("no login form at %s (HTTP %d)", resp.Request.URL, resp.StatusCode)
	}
	fields.Set("user", user)
	fields.Set("password", password)
	// The form's action is "#": the same URL, query string included.
	req, _ := http.NewRequest(http.MethodPost, resp.Request.URL.String(), strings.NewReader(fields.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(t, client, req)
}

func get(t testing.TB, client *http.Client, u string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, client, req)
}

func do(t testing.TB, client *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}
