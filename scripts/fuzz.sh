#!/usr/bin/env bash
# Runs every fuzz target of the module for a while (default 10s each).
# `go test` alone runs their seed corpora; this looks for new failures.
# Minimization is off: Pion's background goroutines make coverage noisy, and
# the fuzzer would spend its time minimizing inputs that only look new.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${1:-10s}
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //'); do
    echo "fuzz $pkg $target ($fuzztime)"
    if ! out=$(go test "$pkg" -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -fuzzminimizetime 0 2>&1); then
      echo "$out"; exit 1
    fi
  done
done
