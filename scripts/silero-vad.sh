#!/usr/bin/env bash
# Fetches the Silero VAD v5 model that the sherpa tests (and a server built
# with -tags sherpa) use, from the npm package @ricky0123/vad-web@0.0.31,
# checks its SHA-256, and prints the path of the .onnx file.
#
#   scripts/silero-vad.sh            # prints .../visio/models/silero-vad-v5/silero_vad_v5.onnx
#
# The package tarball is kept in .../visio/npm/ (the tests serve it to
# `models.Pull`). Running it again only re-checks the files. Needs npm.
# The checksums are those of the catalog in internal/speech/models.
set -euo pipefail

package=@ricky0123/vad-web@0.0.31
tarball_sha256=d1a211cf1a2ed26297da52cc08de79e75d79838a274bfc6de546feb1f828c940
model_sha256=2623a2953f6ff3d2c1e61740c6cdb7168133479b267dfef114a4a3cc5bdd788f
member=package/dist/silero_vad_v5.onnx

cache=${XDG_CACHE_HOME:-$HOME/.cache}/visio
dir=$cache/models/silero-vad-v5
model=$dir/silero_vad_v5.onnx
tarball=$cache/npm/ricky0123-vad-web-0.0.31.tgz

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

if [ -f "$model" ] && [ -f "$tarball" ] &&
  [ "$(sha256_of "$model")" = "$model_sha256" ] && [ "$(sha256_of "$tarball")" = "$tarball_sha256" ]; then
  echo "$model"
  exit 0
fi

command -v npm >/dev/null || { echo "silero-vad.sh: npm is needed (apt-get install npm)" >&2; exit 1; }
mkdir -p "$dir" "$cache/npm"
work=$(mktemp -d "$cache/.silero-XXXXXX")
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "$package" >/dev/null)
got=$(sha256_of "$work/ricky0123-vad-web-0.0.31.tgz")
if [ "$got" != "$tarball_sha256" ]; then
  echo "silero-vad.sh: $package has SHA-256 $got, expected $tarball_sha256; not using it" >&2
  exit 1
fi
tar -xzf "$work/ricky0123-vad-web-0.0.31.tgz" -C "$work" "$member"
got=$(sha256_of "$work/$member")
if [ "$got" != "$model_sha256" ]; then
  echo "silero-vad.sh: $member has SHA-256 $got, expected $model_sha256; not using it" >&2
  exit 1
fi
# Renames, so that a reader never sees a half-written file.
mv "$work/ricky0123-vad-web-0.0.31.tgz" "$tarball"
mv "$work/$member" "$model"
echo "$model"
