#!/usr/bin/env bash
# Installs what the tests need on a Debian machine, when it is missing:
# Chromium for the browser tests, Node.js and the web app's npm packages,
# iproute2 and nftables for the tests that make their own networks,
# PostgreSQL and an OpenID Connect provider for the store and login tests,
# versitygw (an S3 server) for the object-storage tests.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v chromium >/dev/null || missing+=(chromium fonts-liberation)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
command -v ip >/dev/null || missing+=(iproute2)
command -v nft >/dev/null || missing+=(nftables)
# PostgreSQL's server, for the store tests on PostgreSQL (they start their own
# private instance), and LemonLDAP::NG, the OpenID Connect provider the login
# tests start (the four Perl modules after it are needed and not pulled in).
[ -x /usr/lib/postgresql/15/bin/initdb ] || missing+=(postgresql-15)
llng=(liblemonldap-ng-portal-perl libio-string-perl libstring-random-perl libgd-securityimage-perl libimage-magick-perl)
dpkg -s "${llng[@]}" >/dev/null 2>&1 || missing+=("${llng[@]}")
# Speech: pocketsphinx with its US-English model (the one speech engine that
# works offline on a fresh machine), espeak-ng, sox and opusenc to make the
# test conversation, pkg-config to find pocketsphinx.
speech=(libpocketsphinx-dev libsphinxbase-dev pocketsphinx-en-us pkg-config espeak-ng sox libsox-fmt-base opus-tools)
dpkg -s "${speech[@]}" >/dev/null 2>&1 || missing+=("${speech[@]}")

if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} with apt-get"
  if [ "$(id -u)" -eq 0 ]; then
    sudo=()
  elif sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
  else
    echo "Missing ${missing[*]}. Install them with:" >&2
    echo "  sudo apt-get install --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# versitygw, the S3 server the object-storage tests start: a Go program,
# built once into $GOPATH/bin (a few minutes), and again only when the
# version wanted here changes.
versitygw_version=v1.8.0
gobin="$(go env GOPATH | cut -d: -f1)/bin"
if ! go version -m "$gobin/versitygw" 2>/dev/null | grep -q "^[[:space:]]*mod[[:space:]]*github.com/versity/versitygw[[:space:]]*$versitygw_version[[:space:]]"; then
  echo "building versitygw $versitygw_version into $gobin (a few minutes, once)"
  GOBIN="$gobin" go install -p 1 "github.com/versity/versitygw/cmd/versitygw@$versitygw_version"
fi

# npm ci only when the lockfile changed since the last install.
stamp=web/node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ web/package-lock.json -nt "$stamp" ]; then
  (cd web && npm ci --no-audit --no-fund --loglevel=error)
fi

# The Silero voice-activity model for the sherpa tests, from npm (checked
# by SHA-256; fetched once into the user's cache).
scripts/silero-vad.sh >/dev/null
