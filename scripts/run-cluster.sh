#!/usr/bin/env bash
# make run-cluster: the reference deployment on this machine, for a newcomer.
# HAProxy (deploy/haproxy.cfg) on 127.0.0.1:8080 in front of two
# `fiscald serve` on 127.0.0.1:8081 and :8082, both on one PostgreSQL
# database (created if missing) and one data folder, with the demo
# municipality. Ctrl-C stops it: HAProxy last, each instance draining first.
#
#   CLUSTER_DB     the database (default postgres://postgres@127.0.0.1:5432/fiscald_cluster?sslmode=disable)
#   CLUSTER_DIR    the shared FISCAL_DATA_DIR (default ./data-cluster)
#   CLUSTER_PORT   HAProxy's port (default 8080; the instances take the next two)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin/fiscald}
DB=${CLUSTER_DB:-postgres://postgres@127.0.0.1:5432/fiscald_cluster?sslmode=disable}
DIR=${CLUSTER_DIR:-./data-cluster}
PORT=${CLUSTER_PORT:-8080}
LB=127.0.0.1:$PORT A=127.0.0.1:$((PORT + 1)) B=127.0.0.1:$((PORT + 2))
command -v haproxy >/dev/null || { echo "haproxy is not installed: make deps"; exit 1; }
command -v psql >/dev/null || { echo "psql is not installed: make deps"; exit 1; }
command -v curl >/dev/null || { echo "curl is not installed: apt-get install curl"; exit 1; }

# The database: created on the server of CLUSTER_DB if it does not exist.
name=$(sed -E 's#^[a-z]+://[^/]*/([^?]*).*#\1#' <<<"$DB")
admin=$(sed -E 's#^([a-z]+://[^/]*/)[^?]*#\1postgres#' <<<"$DB")
if [[ -z $(psql "$admin" -Atc "SELECT 1 FROM pg_database WHERE datname = '$name'") ]]; then
  psql "$admin" -qc "CREATE DATABASE \"$name\"" && echo "created the database $name"
fi
mkdir -p "$DIR"
export FISCAL_DB=$DB FISCAL_DATA_DIR=$DIR FISCAL_TRUSTED_PROXIES=127.0.0.1/32 FISCAL_INSTANCES=2 \
  FISCAL_SHUTDOWN_DRAIN=${FISCAL_SHUTDOWN_DRAIN:-3s} FISCAL_PUBLIC_URL=http://$LB
"$BIN" migrate

pids=()
stop() {
  trap - INT TERM EXIT
  echo "stopping: the instances drain (/readyz 503) for $FISCAL_SHUTDOWN_DRAIN, then HAProxy stops"
  for p in "${pids[@]:1}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]:1}"; do wait "$p" 2>/dev/null || true; done
  kill -TERM "${pids[0]}" 2>/dev/null || true
  wait "${pids[0]}" 2>/dev/null || true
}
trap stop INT TERM EXIT

# setsid: Ctrl-C reaches this script only, which stops the processes in order.
FISCAL_LB_ADDR=$LB FISCAL_A_ADDR=$A FISCAL_B_ADDR=$B setsid haproxy -db -f deploy/haproxy.cfg > "$DIR/haproxy.log" 2>&1 &
pids+=($!)
FISCAL_ADDR=$A setsid "$BIN" serve --demo > "$DIR/serve-a.log" 2>&1 &
pids+=($!)
# The first instance creates the demo accounts; the second starts after it.
for i in $(seq 1 100); do curl -fs "http://$A/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
FISCAL_ADDR=$B setsid "$BIN" serve > "$DIR/serve-b.log" 2>&1 &
pids+=($!)
for i in $(seq 1 100); do curl -fs "http://$LB/readyz" >/dev/null 2>&1 && curl -fs "http://$B/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
echo "fiscald cluster: http://$LB (HAProxy) → http://$A, http://$B on $(sed -E 's#//[^@]*@#//#' <<<"$DB"); logs in $DIR/serve-{a,b}.log and $DIR/haproxy.log (one request_id in both)"
echo "demo accounts as in README.md (make run); Ctrl-C stops"
wait -n "${pids[@]}" || true
