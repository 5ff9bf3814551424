#!/usr/bin/env bash
# The cluster benchmark of BENCHMARKS.md: builds visio and visio-load,
# starts a three-node cluster (scripts/cluster.sh), spreads rooms of
# participants who each publish a microphone over it, kills the node with
# the most rooms once everyone is in, and prints the table of
# `visio-load rooms`: placement, join time, recovery time, CPU.
#
#   scripts/cluster-bench.sh
#   ROOMS=10 PER_ROOM=4 KILL_AFTER=5s DURATION=40s scripts/cluster-bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."

ROOMS=${ROOMS:-30}
PER_ROOM=${PER_ROOM:-5}
KILL_AFTER=${KILL_AFTER:-15s}
# Long enough for the kill and the 30 s given to each participant to be back.
DURATION=${DURATION:-50s}

go build -o bin/visio ./cmd/visio
go build -o bin/visio-load ./cmd/visio-load

# Synthetic participants meet at random codes nobody created, all from one
# address: the per-address join limit would stop them.
exec scripts/cluster.sh --rooms.allow_unregistered=true --limits.joins_per_minute=0 --log.level=warn -- \
  bash -c 'exec bin/visio-load rooms --url "$VISIO_CLUSTER_URLS" --pids "$VISIO_CLUSTER_PIDS" \
    --rooms "$0" --per-room "$1" --audio --duration "$2" --kill-url busiest --kill-after "$3"' \
  "$ROOMS" "$PER_ROOM" "$DURATION" "$KILL_AFTER"
