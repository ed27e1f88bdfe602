#!/usr/bin/env bash
# bench-pinned: the layout of issue 15's "CPU per request" figure. fiscald and
# PostgreSQL share CPU 0 (taskset), wrk runs alone on CPU 1 with 32
# connections for 10 s, against a fresh PostgreSQL database seeded with the
# demo municipality and a synthetic city. Two workloads, each RUNS times:
#
#   intake  POST /api/v1/cases as the demo officer: a petition for a synthetic
#           taxpayer, a unique Idempotency-Key per request;
#   review  POST /api/v1/cases/{id}/review {"decision":"approve","revision":1}
#           over distinct submitted cases, each reviewed once (filed beforehand
#           by an unmeasured intake pass of the same length).
#
# An unmeasured 5 s intake pass warms the server up first. Per workload and run
# it prints one row: req/s and p99 (wrk); CPU per request of fiscald and of
# PostgreSQL (utime+stime from /proc/<pid>/stat at wrk's start and end, divided
# by the requests wrk completed), and the same until the notifications the
# pass queued are sent (the server's dispatcher drains the outbox every 30 s;
# each pass waits for it, so no pass pays for the previous one's); commits and
# rows per request (pg_stat_database deltas of the benchmark's database, read
# once the backends have flushed their statistics; statements per request only
# when pg_stat_statements is preloaded). Any non-2xx answer or socket error
# fails the run. Nothing is appended to BENCHMARKS.md.
#
# PostgreSQL must run on this machine (its processes are pinned): the
# postmaster and all its children get CPU 0 for the measure and their former
# affinity back on exit, failure included; the database is dropped.
#
#   scripts/bench-pinned.sh     environment: RUNS=3 DURATION=10s CONNECTIONS=32 THREADS=2
#                               N=10000 (synthetic vehicles) PORT=18088 WARMUP=5s SETTLE=11 ANALYZE=1
#   FISCAL_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
#                               (any database of the server; the default is this one)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
N=${N:-10000}                    # synthetic vehicles (about 0.75 taxpayer each)
PORT=${PORT:-18088}
WARMUP=${WARMUP:-5s}             # an unmeasured intake pass first (the pool's connections, caches)
SETTLE=${SETTLE:-11}             # s: PostgreSQL flushes an idle backend's statistics within 10 s
ANALYZE=${ANALYZE:-1}            # 1: ANALYZE before each measured pass (see pass); 0: the plans cached on an empty table
DRAIN_MAX=${DRAIN_MAX:-300}      # s: the longest wait for the outbox to be sent after a pass
SERVER_CPU=0 WRK_CPU=1
BIN=bin/fiscald
ADMIN=${FISCAL_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}

[[ $(nproc) -ge 2 ]] || { echo "bench-pinned needs 2 CPUs (server on CPU 0, wrk on CPU 1)"; exit 1; }
command -v wrk >/dev/null || { echo "needs wrk (Debian package wrk: make deps-bench)"; exit 1; }
command -v jq >/dev/null || { echo "needs jq"; exit 1; }
[[ -x $BIN ]] || go build -o "$BIN" ./cmd/fiscald
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then echo "port $PORT is taken: set PORT"; exit 1; fi

psqla() { psql -X -q -v ON_ERROR_STOP=1 -At "$ADMIN" "$@"; }
psqld() { psql -X -q -v ON_ERROR_STOP=1 -At "$dsn" "$@"; }
db=fiscal_pinned_$$
dsn=$(echo "$ADMIN" | sed -E "s#/[^/?]+(\?|$)#/$db\1#")
tmp=$(mktemp -d)
FPID="" PM="" PM_MASK=""

# The postmaster: its pid file in the data directory, else the oldest process
# called postgres.
datadir=$(psqla -c "SHOW data_directory")
if [[ -r $datadir/postmaster.pid ]]; then PM=$(head -1 "$datadir/postmaster.pid"); else PM=$(pgrep -o -x postgres || true); fi
[[ -n $PM && $(cat "/proc/$PM/comm" 2>/dev/null) == postgres ]] ||
  { echo "the PostgreSQL of $ADMIN does not run on this machine (no postmaster found): the layout pins it"; exit 1; }
PM_MASK=$(taskset -p "$PM" | awk '{print $NF}')

pin() { # cpu list: the postmaster and every child (backends forked later inherit it)
  local p
  for p in "$PM" $(pgrep -P "$PM"); do taskset -apc "$1" "$p" >/dev/null 2>&1 || true; done
}
unpin() {
  local p
  for p in "$PM" $(pgrep -P "$PM"); do taskset -ap "$PM_MASK" "$p" >/dev/null 2>&1 || true; done
}
cleanup() {
  local rc=$?
  [[ -n $PM_MASK ]] && unpin
  if [[ -n $FPID ]]; then kill "$FPID" 2>/dev/null || true; wait "$FPID" 2>/dev/null || true; fi
  psqla -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" 2>/dev/null || true
  [[ $rc -ne 0 && -f $tmp/serve.log ]] && { echo "--- last lines of the server's log"; tail -20 "$tmp/serve.log"; }
  rm -rf "$tmp"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- wrk scripts. Each thread counts its non-2xx answers (response hook)
# and keeps the first one; done() sums them over the threads.
cat >"$tmp/common.lua" <<'EOF'
local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
token = os.getenv("BENCH_TOKEN")
nthreads = tonumber(os.getenv("BENCH_THREADS"))
non2xx, first, n = 0, "", 0
function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if first == "" then first = status .. " " .. string.sub(body or "", 1, 300) end
  end
end
function done(summary, latency, requests)
  local bad, firstbad, exhausted = 0, "", 0
  for _, t in ipairs(threads) do
    bad = bad + t:get("non2xx")
    if firstbad == "" then firstbad = t:get("first") end
    exhausted = exhausted + (t:get("exhausted") or 0)
  end
  local e = summary.errors
  io.write(string.format("BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d non2xx=%d socket_errors=%d exhausted=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), bad,
    e.connect + e.read + e.write + e.timeout, exhausted))
  if firstbad ~= "" then io.write("BENCH_FIRST_FAILURE " .. firstbad .. "\n") end
end
function readlines(path)
  local t = {}
  for l in io.lines(path) do t[#t + 1] = l end
  return t
end
EOF
cat >"$tmp/intake.lua" <<'EOF'
dofile(os.getenv("BENCH_DIR") .. "/common.lua")
local prefix = os.getenv("BENCH_KEY_PREFIX")
function init(args)
  ids = readlines(os.getenv("BENCH_IDS"))
  headers = {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}
end
function request()
  n = n + 1
  local tp = ids[((n - 1) * nthreads + tid - 1) % #ids + 1]
  headers["Idempotency-Key"] = string.format("%s-%d-%d", prefix, tid, n)
  local body = string.format('{"type":"petition","taxpayer_id":%s,"data":{"subject":"Iluminat public","body":"Petiția %s-%d-%d: stâlpul din fața casei nu mai luminează."}}', tp, prefix, tid, n)
  return wrk.format("POST", "/api/v1/cases", headers, body)
end
EOF
cat >"$tmp/review.lua" <<'EOF'
dofile(os.getenv("BENCH_DIR") .. "/common.lua")
exhausted = 0
function init(args)
  cases = readlines(os.getenv("BENCH_IDS")) -- "id version"
  headers = {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}
end
function request()
  n = n + 1
  local i = (n - 1) * nthreads + tid
  if i > #cases then exhausted = 1; i = (i - 1) % #cases + 1 end
  local id, version = string.match(cases[i], "(%d+) (%d+)")
  local body = string.format('{"decision":"approve","comment":"Conform","revision":%s}', version)
  return wrk.format("POST", "/api/v1/cases/" .. id .. "/review", headers, body)
end
EOF

# ---- the database and the server
echo "== database $db: migrate, seed $N synthetic vehicles, demo accounts"
psqla -c "CREATE DATABASE $db"
FISCAL_DB=$dsn "$BIN" seed --synthetic "$N" --buildings=false --migrate | tail -1
psqld -c "SELECT id FROM taxpayers ORDER BY id" >"$tmp/taxpayers"
echo "$(wc -l <"$tmp/taxpayers") taxpayers"
FISCAL_DB=$dsn FISCAL_ADDR=127.0.0.1:$PORT FISCAL_DATA_DIR=$tmp/data FISCAL_SLA_INTERVAL=24h \
  taskset -c "$SERVER_CPU" "$BIN" serve --migrate --demo >"$tmp/serve.log" 2>&1 &
FPID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null || { echo "fiscald did not start"; exit 1; }
BENCH_TOKEN=$(curl -sf -XPOST "http://127.0.0.1:$PORT/api/v1/auth/login" -H 'Content-Type: application/json' \
  -d '{"username":"ioana","password":"ghiseu-demo-2026"}' | jq -r .token)
[[ -n $BENCH_TOKEN && $BENCH_TOKEN != null ]] || { echo "the demo officer ioana could not log in"; exit 1; }
export BENCH_TOKEN BENCH_THREADS=$THREADS BENCH_DIR=$tmp

STMTS=""
if [[ $(psqla -c "SHOW shared_preload_libraries") == *pg_stat_statements* ]]; then
  psqld -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" && STMTS=1
fi
dboid=$(psqla -c "SELECT oid FROM pg_database WHERE datname = '$db'")

pgstats() { # commits rollbacks rows-read rows-written statements
  local s=0
  [[ -n $STMTS ]] && s=$(psqld -c "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE dbid = $dboid")
  echo "$(psqla -c "SELECT xact_commit, xact_rollback, tup_returned + tup_fetched, tup_inserted + tup_updated + tup_deleted
    FROM pg_stat_database WHERE datname = '$db'" | tr '|' ' ') $s"
}
ticks() { # utime+stime of /proc/$1/stat, with the reaped children's when $2 is set
  local line all=${2:-}
  read -r line <"/proc/$1/stat" || return 0
  # shellcheck disable=SC2086
  set -- ${line##*) } # field 3 (state) onwards: utime is field 14, stime 15, cutime 16, cstime 17
  if [[ -n $all ]]; then echo $((${12} + ${13} + ${14} + ${15})); else echo $((${12} + ${13})); fi
}
cpusnap() { # file: "pid ticks" for fiscald, the postmaster (own, and with reaped children) and its children
  {
    echo "fiscald $(ticks "$FPID")"
    echo "pm $(ticks "$PM")"
    echo "pmall $(ticks "$PM" all)"
    local p t
    for p in $(pgrep -P "$PM"); do
      t=$(ticks "$p" 2>/dev/null) || true
      if [[ -n $t ]]; then echo "$p $t"; fi
    done
  } >"$1"
}
HZ=$(getconf CLK_TCK)

# drain: wait until the server's dispatcher (every 30 s) has sent every queued
# notification; prints the backlog found and the seconds waited.
drain() {
  local left t0=$SECONDS backlog
  backlog=$(psqld -c "SELECT count(*) FROM notifications WHERE sent_at IS NULL")
  left=$backlog
  while ((left > 0)); do
    ((SECONDS - t0 < DRAIN_MAX)) || { echo "the outbox still holds $left notifications after $DRAIN_MAX s" >&2; exit 1; }
    sleep 1
    left=$(psqld -c "SELECT count(*) FROM notifications WHERE sent_at IS NULL")
  done
  echo "$backlog $((SECONDS - t0))"
}

# pass NAME LUA IDS MEASURE [DURATION]: one wrk pass, then the outbox drained;
# when MEASURE, one row of the table.
pass() {
  local name=$1 lua=$2 ids=$3 measure=$4 dur=${5:-$DURATION} out before after drained
  export BENCH_IDS=$ids BENCH_KEY_PREFIX="r$run-$name-$$"
  # The tables grew by thousands of rows since the seed: analyze them, as
  # autovacuum would on a database in use (its naptime, 60 s, is longer than
  # a pass). Without it the server's connections keep the plans they cached
  # while cases was nearly empty: a read of a case by its id scans the table.
  if [[ $measure && $ANALYZE == 1 ]]; then psqld -c "ANALYZE"; fi
  if [[ $measure ]]; then sleep "$SETTLE"; before=$(pgstats); cpusnap "$tmp/cpu.before"; fi
  out=$(taskset -c "$WRK_CPU" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$dur" --timeout 10s -s "$tmp/$lua" "http://127.0.0.1:$PORT" 2>&1) ||
    { echo "$out"; echo "wrk failed"; exit 1; }
  if [[ $measure ]]; then cpusnap "$tmp/cpu.window"; fi
  drained=$(drain)
  if [[ $measure ]]; then cpusnap "$tmp/cpu.drained"; fi
  local line; line=$(grep '^BENCH ' <<<"$out") || { echo "$out"; echo "wrk printed no result"; exit 1; }
  declare -A r
  local kv
  for kv in ${line#BENCH }; do r[${kv%%=*}]=${kv#*=}; done
  if ((r[non2xx] + r[socket_errors] > 0)); then
    echo "$name, run $run: ${r[non2xx]} non-2xx answers and ${r[socket_errors]} socket errors out of ${r[requests]} requests"
    grep '^BENCH_FIRST_FAILURE' <<<"$out" || true
    exit 1
  fi
  if ((r[exhausted])); then echo "$name, run $run: ran out of open cases to review (raise the filing pass)"; exit 1; fi
  if [[ ! $measure ]]; then echo "   ${r[requests]} requests, outbox drained: ${drained% *} notifications in ${drained#* } s"; return; fi
  # Own PostgreSQL processes: the postmaster, its auxiliary processes and the
  # benchmark database's backends; "all" adds every other backend (other
  # databases' clients share the pinned CPU) and the children reaped meanwhile.
  psqla -c "SELECT pid FROM pg_stat_activity WHERE (datname = '$db' OR datname IS NULL) AND pid <> pg_backend_pid()" >"$tmp/own"
  sleep "$SETTLE"
  after=$(pgstats)
  awk -v hz="$HZ" -v req="${r[requests]}" -v us="${r[duration_us]}" -v p99="${r[p99_us]}" \
      -v name="$name" -v run="$run" -v before="$before" -v after="$after" -v drained="$drained" '
    function cpu(a, b,   p, x) { # sets F, PG, ALL: ticks from b to a
      F = a["fiscald"] - b["fiscald"]; PG = a["pm"] - b["pm"]; ALL = a["pmall"] - b["pmall"]
      for (p in a) if (p ~ /^[0-9]+$/) { x = a[p] - ((p in b) ? b[p] : 0); ALL += x; if (p in own) PG += x }
      for (p in b) if (p ~ /^[0-9]+$/ && !(p in a)) ALL -= b[p]
    }
    FILENAME ~ /own$/ { own[$1] = 1; next }
    FILENAME ~ /before$/ { b[$1] = $2; next }
    FILENAME ~ /window$/ { w[$1] = $2; next }
    { d[$1] = $2 }
    END {
      ms = 1000 / hz / req
      cpu(d, b); tot = (F + PG) * ms
      cpu(w, b)
      split(before, x, " "); split(after, y, " "); split(drained, z, " ")
      stm = (y[5] - x[5]) > 0 ? sprintf("%.1f", (y[5] - x[5]) / req) : "-"
      printf "%-3s %-7s %7.0f %7.1f | %7.2f %6.2f %6.2f %7.2f | %7.2f %6d %4d | %7.2f %6.2f %7.1f %7.1f %5s\n", run, name,
        req / (us / 1e6), p99 / 1000, F * ms, PG * ms, (F + PG) * ms, ALL * ms, tot, z[1], z[2],
        (y[1] - x[1]) / req, (y[2] - x[2]) / req, (y[3] - x[3]) / req, (y[4] - x[4]) / req, stm
    }' "$tmp/own" "$tmp/cpu.before" "$tmp/cpu.window" "$tmp/cpu.drained" >>"$tmp/table"
}

echo "== pinned: fiscald (pid $FPID) and PostgreSQL (postmaster $PM, affinity mask $PM_MASK before) on CPU $SERVER_CPU; wrk on CPU $WRK_CPU"
pin "$SERVER_CPU"
run=0
echo "== warm-up: intake for $WARMUP"
pass warmup intake.lua "$tmp/taxpayers" "" "$WARMUP"
for run in $(seq "$RUNS"); do
  echo "== run $run/$RUNS: intake"
  pass intake intake.lua "$tmp/taxpayers" 1
  echo "== run $run/$RUNS: filing cases for the review pass"
  pass filing intake.lua "$tmp/taxpayers" ""
  psqld -F' ' -c "SELECT id, version FROM cases WHERE status = 'submitted' ORDER BY id" >"$tmp/cases"
  echo "== run $run/$RUNS: review of $(wc -l <"$tmp/cases") submitted cases"
  pass review review.lua "$tmp/cases" 1
done
unpin

echo
echo "bench-pinned: fiscald + PostgreSQL on CPU $SERVER_CPU, wrk -t$THREADS -c$CONNECTIONS -d$DURATION on CPU $WRK_CPU"
echo "$(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs, $(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
cat <<EOF
Per request. CPU in ms (utime+stime from /proc/<pid>/stat) over wrk's window: fiscald; pg = the postmaster, its
auxiliary processes and this database's backends; total = fiscald + pg; pg all = every PostgreSQL process (other
databases' clients share CPU $SERVER_CPU on a busy machine). "+outbox" = fiscald + pg until the server's own dispatcher
(every 30 s) has sent the notifications the pass queued ("queued" left at wrk's end, sent in "s" seconds).
Commits and rollbacks of this database, rows read (tup_returned + tup_fetched) and rows written (tup_inserted +
tup_updated + tup_deleted) from pg_stat_database, the outbox's sends included; statements only with
pg_stat_statements preloaded ($([[ -n $STMTS ]] && echo "yes" || echo "not on this server: -")).
EOF
printf "%-3s %-7s %7s %7s | %7s %6s %6s %7s | %7s %6s %4s | %7s %6s %7s %7s %5s\n" run kind "req/s" "p99 ms" \
  fiscald pg total "pg all" "+outbox" queued s commits rollbk "rows rd" "rows wr" stmts
cat "$tmp/table"
