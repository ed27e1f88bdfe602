#!/usr/bin/env bash
# bench-import: generate a synthetic city's export files (N vehicles over
# OWNERS taxpayers), then time `fiscald import taxpayers` and `fiscald import
# vehicles` under /usr/bin/time -v (wall time, peak RSS) on SQLite and, when
# FISCAL_TEST_POSTGRES is set, on PostgreSQL (a fresh database next to the
# one that URL names, dropped afterwards). The raw write ceiling beside it is
# `fiscald seed --synthetic N` into an empty database: the same kind of rows
# (taxpayers and vehicles) written in one bulk transaction with no checks.
#
#   scripts/bench-import.sh [N] [OWNERS]     (default 1000000 400000)
#   ENGINES="sqlite postgres" (default) picks the engines.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
OWNERS=${2:-400000}
BIN=bin/fiscald
go build -o "$BIN" ./cmd/fiscald
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (Debian package time: make deps-bench)"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export FISCAL_DATA_DIR=$tmp/data
echo "== generating $OWNERS taxpayers and $N vehicles"
"$BIN" bench import-files --dir "$tmp/files" --owners "$OWNERS" --vehicles "$N"
ls -l "$tmp/files"

bench() { # engine dsn seed-dsn
  local engine=$1 dsn=$2 seeddsn=$3 out total=0
  export FISCAL_DB=$dsn
  "$BIN" migrate >/dev/null
  for kind in taxpayers vehicles; do
    echo "== $engine: fiscald import $kind"
    out=$(/usr/bin/time -v "$BIN" import "$kind" --file "$tmp/files/$kind.csv" --progress none 2>&1)
    echo "$out" | grep -E "^$kind |^(taxpayers|vehicles) +[0-9]" | head -3
    local wall rss secs cpu
    wall=$(echo "$out" | sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p')
    cpu=$(echo "$out" | awk -F': ' '/User time \(seconds\)|System time \(seconds\)/ {s += $2} END {print s}')
    rss=$(echo "$out" | sed -n 's/.*Maximum resident set size (kbytes): //p')
    secs=$(echo "$wall" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
    total=$(awk "BEGIN{print $total+$secs}")
    echo "$out" | grep "^Go memory" || true
    echo "$engine import $kind: wall $wall, CPU (user+sys) ${cpu} s, peak RSS $((rss / 1024)) MB"
  done
  echo "$engine: taxpayers + vehicles imported in $total s ($(awk "BEGIN{printf \"%.0f\", ($N+$OWNERS)/$total}") rows/s)"
  echo "== $engine: the same again (every row unchanged)"
  "$BIN" import vehicles --file "$tmp/files/vehicles.csv" --progress none | tail -2
  echo "== $engine: raw write ceiling: fiscald seed --synthetic $N into an empty database"
  export FISCAL_DB=$seeddsn
  "$BIN" migrate >/dev/null
  /usr/bin/time -f "seed: %e s wall, %U s user + %S s sys" "$BIN" seed --synthetic "$N" --buildings=false 2>&1 | grep -E "seeded|^seed:"
}

ENGINES=${ENGINES:-sqlite postgres}
if [[ " $ENGINES " == *" sqlite "* ]]; then
  bench sqlite "sqlite:$tmp/bench.db" "sqlite:$tmp/seed.db"
fi

if [[ " $ENGINES " != *" postgres "* ]]; then
  :
elif [[ -n "${FISCAL_TEST_POSTGRES:-}" ]]; then
  db=fiscal_bench_imp_$$
  psql -q "$FISCAL_TEST_POSTGRES" -c "CREATE DATABASE $db"
  psql -q "$FISCAL_TEST_POSTGRES" -c "CREATE DATABASE ${db}_seed"
  trap 'rm -rf "$tmp"; psql -q "$FISCAL_TEST_POSTGRES" -c "DROP DATABASE IF EXISTS $db"; psql -q "$FISCAL_TEST_POSTGRES" -c "DROP DATABASE IF EXISTS ${db}_seed"' EXIT
  pg=$(echo "$FISCAL_TEST_POSTGRES" | sed -E "s#/[^/?]+(\?|$)#/$db\1#")
  pgseed=$(echo "$FISCAL_TEST_POSTGRES" | sed -E "s#/[^/?]+(\?|$)#/${db}_seed\1#")
  bench postgres "$pg" "$pgseed"
else
  echo "== PostgreSQL skipped: set FISCAL_TEST_POSTGRES"
fi
