#!/usr/bin/env bash
# bench-intake-two: issue 15's two-process intake figure. Two `fiscald serve`
# processes on one fresh PostgreSQL database (this machine's, unpinned), each
# driven by its own wrk (CONNECTIONS each, DURATION, at the same time) with
# the intake of bench-pinned: POST /api/v1/cases as the demo officer, a
# petition for a synthetic taxpayer, a unique Idempotency-Key per request.
# Prints each server's req/s and p99 and their sum, then checks what two
# processes must keep: every answer 2xx, the case numbers gapless, the audit
# chain intact (`fiscald audit verify`) and every case filed once per key.
# A failed check fails the script. Nothing is appended to BENCHMARKS.md.
#
#   scripts/bench-intake-two.sh   environment: DURATION=10s CONNECTIONS=16 THREADS=1 N=10000
#                                 PORT_A=18091 PORT_B=18092 WARMUP=5s
#                                 SERVERS=1: the same load (two wrk) on server a alone, to compare
#   FISCAL_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable (any database of the server)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-1}
N=${N:-10000}
PORT_A=${PORT_A:-18091}
PORT_B=${PORT_B:-18092}
SERVERS=${SERVERS:-2}
WARMUP=${WARMUP:-5s}
BIN=bin/fiscald
ADMIN=${FISCAL_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}

command -v wrk >/dev/null || { echo "needs wrk (Debian package wrk: make deps-bench)"; exit 1; }
command -v jq >/dev/null || { echo "needs jq"; exit 1; }
[[ -x $BIN ]] || go build -o "$BIN" ./cmd/fiscald

psqla() { psql -X -q -v ON_ERROR_STOP=1 -At "$ADMIN" "$@"; }
db=fiscal_two_$$
dsn=$(echo "$ADMIN" | sed -E "s#/[^/?]+(\?|$)#/$db\1#")
psqld() { psql -X -q -v ON_ERROR_STOP=1 -At "$dsn" "$@"; }
tmp=$(mktemp -d)
PIDS=()
cleanup() {
  local rc=$? p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  psqla -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" 2>/dev/null || true
  if [[ $rc -ne 0 ]]; then for f in "$tmp"/serve-*.log; do [[ -f $f ]] && { echo "--- last lines of $f"; tail -10 "$f"; }; done; fi
  rm -rf "$tmp"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The Lua of bench-pinned (one copy of the wrk scripts: extracted from it).
sed -n '/^cat >"\$tmp\/common.lua" <<.EOF.$/,/^EOF$/p; /^cat >"\$tmp\/intake.lua" <<.EOF.$/,/^EOF$/p' scripts/bench-pinned.sh >"$tmp/lua.sh"
# shellcheck disable=SC1091
source "$tmp/lua.sh"
[[ -s $tmp/common.lua && -s $tmp/intake.lua ]] || { echo "could not read the wrk scripts from scripts/bench-pinned.sh"; exit 1; }

echo "== database $db: migrate, seed $N synthetic vehicles"
psqla -c "CREATE DATABASE $db"
FISCAL_DB=$dsn "$BIN" seed --synthetic "$N" --buildings=false --migrate | tail -1
psqld -c "SELECT id FROM taxpayers ORDER BY id" >"$tmp/taxpayers"
start() { # name port: a server of the deployment (both seed the demo accounts: idempotent)
  FISCAL_DB=$dsn FISCAL_ADDR=127.0.0.1:$2 FISCAL_DATA_DIR=$tmp/data FISCAL_SLA_INTERVAL=24h \
    "$BIN" serve --migrate --demo >"$tmp/serve-$1.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 150); do curl -sf "http://127.0.0.1:$2/readyz" >/dev/null && return; sleep 0.2; done
  echo "server $1 did not start"; exit 1
}
start a "$PORT_A"
if [[ $SERVERS == 2 ]]; then start b "$PORT_B"; else PORT_B=$PORT_A; fi
export BENCH_TOKEN BENCH_THREADS=$THREADS BENCH_DIR=$tmp BENCH_IDS=$tmp/taxpayers
BENCH_TOKEN=$(curl -sf -XPOST "http://127.0.0.1:$PORT_A/api/v1/auth/login" -H 'Content-Type: application/json' \
  -d '{"username":"ioana","password":"ghiseu-demo-2026"}' | jq -r .token)
[[ -n $BENCH_TOKEN && $BENCH_TOKEN != null ]] || { echo "the demo officer ioana could not log in"; exit 1; }

both() { # name duration: wrk on each server at once; one line per server
  local p w=()
  for p in a b; do
    local port=$PORT_A; [[ $p == b ]] && port=$PORT_B
    BENCH_KEY_PREFIX="$1-$p-$$" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$2" --timeout 10s -s "$tmp/intake.lua" \
      "http://127.0.0.1:$port" >"$tmp/wrk-$1-$p.out" 2>&1 &
    w+=($!)
  done
  for p in "${w[@]}"; do wait "$p" || { cat "$tmp"/wrk-"$1"-*.out; echo "wrk failed"; exit 1; }; done
}
echo "== warm-up: both servers for $WARMUP"
both warmup "$WARMUP"
echo "== intake on both servers for $DURATION, $CONNECTIONS connections each"
both run "$DURATION"

total=0
echo
echo "bench-intake-two: $SERVERS fiscald serve on one PostgreSQL, two wrk -t$THREADS -c$CONNECTIONS -d$DURATION at once (wrk b on port $PORT_B)"
echo "$(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs, $(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "server  req/s   p50 ms   p99 ms  non-2xx  socket errors"
for p in a b; do
  line=$(grep '^BENCH ' "$tmp/wrk-run-$p.out") || { cat "$tmp/wrk-run-$p.out"; echo "wrk printed no result"; exit 1; }
  declare -A r=()
  for kv in ${line#BENCH }; do r[${kv%%=*}]=${kv#*=}; done
  rps=$((r[requests] * 1000000 / r[duration_us]))
  total=$((total + rps))
  awk -v p="$p" -v rps="$rps" -v p50="${r[p50_us]}" -v p99="${r[p99_us]}" -v bad="${r[non2xx]}" -v se="${r[socket_errors]}" \
    'BEGIN { printf "%-6s %6d %8.1f %8.1f %8d %14d\n", p, rps, p50 / 1000, p99 / 1000, bad, se }'
  if ((r[non2xx] > 0 || r[socket_errors] > 0)); then grep '^BENCH_FIRST_FAILURE' "$tmp/wrk-run-$p.out" || true; echo "failed requests"; exit 1; fi
  unset r
done
printf "both   %6d\n" "$total"

# What two processes must keep.
read -r cases numbers maxn < <(psqld -F' ' -c "SELECT count(*), count(DISTINCT number), max(CAST(split_part(number, '-', 3) AS BIGINT)) FROM cases")
[[ $cases == "$numbers" && $cases == "$maxn" ]] || { echo "case numbers not gapless: $cases cases, $numbers numbers, highest $maxn"; exit 1; }
dup=$(psqld -c "SELECT count(*) FROM (SELECT idem_key FROM idempotency_keys GROUP BY idem_key HAVING count(*) > 1) d")
[[ $dup == 0 ]] || { echo "$dup Idempotency-Keys filed twice"; exit 1; }
out=$(FISCAL_DB=$dsn "$BIN" audit verify 2>&1) || { echo "$out"; exit 1; }
grep -q intact <<<"$out" || { echo "$out"; exit 1; }
echo "checks: $cases cases numbered 1..$maxn without a gap, each key once, audit chain intact"
