#!/usr/bin/env bash
# bench-assess: seed a synthetic city of N vehicles, run the annual assessment
# under /usr/bin/time -v (wall time, peak RSS), then measure the raw write
# ceiling with the same rows and driver (fiscald bench raw-writes), on SQLite
# and, when FISCAL_TEST_POSTGRES is set, on PostgreSQL (a fresh database
# created next to the one that URL names, dropped afterwards).
#
#   scripts/bench-assess.sh [N]        (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
YEAR=2026
BIN=bin/fiscald
go build -o "$BIN" ./cmd/fiscald
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (Debian package time: make deps-bench)"; exit 1; }

bench() { # engine dsn
  local engine=$1 dsn=$2 out
  export FISCAL_DB=$dsn
  echo "== $engine: seeding $N vehicles"
  "$BIN" migrate >/dev/null
  /usr/bin/time -f "seed: %e s wall, peak RSS %M KB" "$BIN" seed --synthetic "$N" --buildings=false
  echo "== $engine: fiscald assess --year $YEAR --phases vehicle"
  out=$(/usr/bin/time -v "$BIN" assess --year "$YEAR" --phases vehicle --progress none 2>&1)
  echo "$out" | sed -n '1,8p'
  local wall rss rows secs raw
  wall=$(echo "$out" | sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p')
  rss=$(echo "$out" | sed -n 's/.*Maximum resident set size (kbytes): //p')
  rows=$(echo "$out" | sed -n 's/.*: \([0-9]*\) assessments and \([0-9]*\) debts written in \([0-9.]*\) s.*/\1 \2 \3/p')
  read -r na nd secs <<<"$rows"
  echo "assess: wall $wall, peak RSS $((rss / 1024)) MB, $((na + nd)) rows in $secs s = $(awk "BEGIN{printf \"%.0f\", ($na+$nd)/$secs}") rows/s"
  raw=$("$BIN" bench raw-writes --year "$YEAR")
  echo "$raw"
  local rawrate
  rawrate=$(echo "$raw" | sed -n 's/.*= \([0-9]*\) rows\/s/\1/p')
  echo "assess speed / raw write ceiling = $(awk "BEGIN{printf \"%.2f\", ($na+$nd)/$secs/$rawrate}")"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bench sqlite "sqlite:$tmp/bench.db"

if [[ -n "${FISCAL_TEST_POSTGRES:-}" ]]; then
  db=fiscal_bench_$$
  psql -q "$FISCAL_TEST_POSTGRES" -c "CREATE DATABASE $db"
  trap 'rm -rf "$tmp"; psql -q "$FISCAL_TEST_POSTGRES" -c "DROP DATABASE IF EXISTS $db"' EXIT
  pg=$(echo "$FISCAL_TEST_POSTGRES" | sed -E "s#/[^/?]+(\?|$)#/$db\1#")
  bench postgres "$pg"
else
  echo "== PostgreSQL skipped: set FISCAL_TEST_POSTGRES"
fi
