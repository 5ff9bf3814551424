#!/usr/bin/env bash
# Starts a Visio cluster on this machine, to try one out or to measure it:
# a private PostgreSQL (temporary directory, free port) and three nodes of
# bin/visio on loopback, their embedded NATS servers joined by routes.
# Prints each node's URL, pid and log, waits until every node answers
# /readyz, and stops everything on Ctrl-C or exit.
#
#   scripts/cluster.sh                          until Ctrl-C
#   scripts/cluster.sh --rooms.allow_unregistered=true
#                                               settings given to every node
#   scripts/cluster.sh [SETTING...] -- COMMAND [ARG...]
#                                               runs COMMAND once the nodes are ready,
#                                               then stops them; COMMAND finds the
#                                               nodes' URLs and pids, comma separated,
#                                               in VISIO_CLUSTER_URLS and VISIO_CLUSTER_PIDS
#
# VISIO (default bin/visio: make build) and NODES (default 3) change what
# runs; VISIO_CLUSTER_LOGS=DIR keeps the nodes' logs there after the stop.
# PostgreSQL's server comes from Debian's postgresql package (scripts/deps.sh
# installs it), or from VISIO_POSTGRES_BIN; as root it runs as the postgres
# user.
set -euo pipefail
cd "$(dirname "$0")/.."

VISIO=${VISIO:-bin/visio}
NODES=${NODES:-3}
settings=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  settings+=("$1")
  shift
done
[ "${1:-}" = "--" ] && shift
command=("$@")

die() { echo "cluster.sh: $*" >&2; exit 1; }
[ -x "$VISIO" ] || die "no $VISIO: build it with make build (or set VISIO)"
pgbin=${VISIO_POSTGRES_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
[ -n "$pgbin" ] && [ -x "$pgbin/initdb" ] || die "PostgreSQL's server is not installed: run scripts/deps.sh"

dir=$(mktemp -d "${TMPDIR:-/tmp}/visio-cluster-XXXXXX")
pids=()
pgpid=""
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ -n "$pgpid" ]; then
    kill -INT "$pgpid" 2>/dev/null || true # fast shutdown
    wait "$pgpid" 2>/dev/null || true
  fi
  if [ -n "${VISIO_CLUSTER_LOGS:-}" ]; then
    mkdir -p "$VISIO_CLUSTER_LOGS" && cp "$dir"/node-*.log "$VISIO_CLUSTER_LOGS"/ 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# freeport picks a port that no socket uses, over TCP and UDP, below the
# range the kernel picks outgoing connections' ports from (so that none
# takes it before a node binds it), and that this script has not handed out
# yet.
taken=" "
freeport() {
  local p
  while :; do
    p=$((20000 + RANDOM % 12000))
    [[ $taken == *" $p "* ]] && continue
    [ -z "$(ss -Htuan "sport = :$p")" ] || continue
    taken+="$p "
    echo "$p"
    return
  done
}

asdb=()
if [ "$(id -u)" -eq 0 ]; then
  # PostgreSQL refuses to run as root.
  id postgres >/dev/null 2>&1 || die "running as root, PostgreSQL needs the postgres user"
  chown postgres: "$dir"
  asdb=(setpriv --reuid=postgres --regid=postgres --clear-groups)
fi
"${asdb[@]}" "$pgbin/initdb" -D "$dir/pg" -U visio -A trust --no-sync >"$dir/initdb.log" 2>&1 ||
  die "initdb failed: $(cat "$dir/initdb.log")"
pgport=$(freeport)
"${asdb[@]}" "$pgbin/postgres" -D "$dir/pg" -p "$pgport" -k "$dir" -c listen_addresses=127.0.0.1 \
  -c fsync=off -c synchronous_commit=off -c full_page_writes=off >"$dir/postgres.log" 2>&1 &
pgpid=$!
for _ in $(seq 300); do
  grep -q "ready to accept connections" "$dir/postgres.log" && break
  kill -0 "$pgpid" 2>/dev/null || die "PostgreSQL exited: $(cat "$dir/postgres.log")"
  sleep 0.1
done
grep -q "ready to accept connections" "$dir/postgres.log" || die "PostgreSQL is not ready after 30 s"
db="postgres://visio@127.0.0.1:$pgport/postgres?sslmode=disable"

# Secrets of this throw-away cluster only.
tokens=$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')
routesecret=$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')
routes=() urls=()
for i in $(seq "$NODES"); do routes+=("127.0.0.1:$(freeport)"); done
for i in $(seq "$NODES"); do
  http="127.0.0.1:$(freeport)"
  urls+=("http://$http")
  peers=()
  for j in $(seq "$NODES"); do [ "$j" = "$i" ] || peers+=("${routes[j - 1]}"); done
  mkdir "$dir/nats-$i"
  "$VISIO" serve --database.url="$db" --http.addr="$http" --media.udp_port="$(freeport)" --media.tcp_port=0 \
    --turn.udp_port=0 --turn.tcp_port=0 --chat.max_file_bytes=0 --tokens.secret="$tokens" \
    --cluster.node="node-$i" --cluster.url="http://$http" --cluster.route_addr="${routes[i - 1]}" \
    --cluster.routes="$(IFS=,; echo "${peers[*]}")" --cluster.secret="$routesecret" \
    --cluster.data_dir="$dir/nats-$i" --cluster.drain_timeout=5s "${settings[@]}" >"$dir/node-$i.log" 2>&1 &
  pids+=($!)
done

# ready tells whether the node at host:port answers /readyz with 200.
ready() {
  local status
  (
    exec 3<>"/dev/tcp/${1%:*}/${1##*:}" || exit 1
    printf 'GET /readyz HTTP/1.0\r\nHost: %s\r\n\r\n' "$1" >&3
    read -r _ status _ <&3
    [ "$status" = 200 ]
  ) 2>/dev/null
}
for i in $(seq "$NODES"); do
  host=${urls[i - 1]#http://}
  for _ in $(seq 600); do
    ready "$host" && break
    kill -0 "${pids[i - 1]}" 2>/dev/null || die "node-$i exited: $(tail -n 20 "$dir/node-$i.log")"
    sleep 0.1
  done
  ready "$host" || die "node-$i is not ready after 60 s: $(tail -n 20 "$dir/node-$i.log")"
done

echo "PostgreSQL: $db (pid $pgpid)"
for i in $(seq "$NODES"); do
  echo "node-$i: ${urls[i - 1]} pid ${pids[i - 1]} log $dir/node-$i.log"
done
VISIO_CLUSTER_URLS=$(IFS=,; echo "${urls[*]}")
VISIO_CLUSTER_PIDS=$(IFS=,; echo "${pids[*]}")
export VISIO_CLUSTER_URLS VISIO_CLUSTER_PIDS

if [ ${#command[@]} -gt 0 ]; then
  status=0
  "${command[@]}" || status=$?
  exit "$status"
fi
echo "Ready. Open ${urls[0]} in a browser; Ctrl-C stops the cluster."
stopped=" "
while :; do
  for i in $(seq "$NODES"); do
    [[ $stopped == *" $i "* ]] && continue
    kill -0 "${pids[i - 1]}" 2>/dev/null && continue
    echo "node-$i stopped: $(tail -n 5 "$dir/node-$i.log")" >&2
    stopped+="$i "
  done
  sleep 1 &
  wait $! || true
done
