#!/usr/bin/env bash
# Usage: scripts/pg-bench.sh [ROUNDS] [SECONDS] [CONNS] [DYADS] [ANSWERS]
#
# Rating submissions on PostgreSQL against the simplest thing a team could
# write instead: a bare gin handler inserting the same row with GORM into
# PostgreSQL with a pool of 32 (loadtest -mode=ceiling -ceiling-db).
#
# Each measurement follows a warm-up of the same load and an ANALYZE (see
# warm). Starts a throwaway PostgreSQL cluster with its durable defaults (fsync,
# synchronous_commit and full_page_writes on; scripts/postgres-test.sh
# with ALLIANCE_PG_DURABLE=1), builds the binaries, and runs ROUNDS
# (default 2) rounds. Each round, on fresh databases, for SECONDS (default
# 15) at CONNS connections (default 32), over DYADS dyads (default: as many
# as connections, so that writes of one dyad often arrive at once), with
# the load tool's ANSWERS (default cycle: most ratings raise an alert;
# steady: none does):
#
#   one   one alliance instance
#   two   two alliance instances on one database, the connections split
#   bare  the bare insert
#
# For each it prints req/s, p50 and p99, the CPU time per committed
# rating of the server processes, of PostgreSQL (from /proc) and of the
# load tool (its own getrusage; for the bare insert that includes the
# bare server, which runs inside it), the WAL flushes per second
# (pg_stat_wal), the checkpoints begun during the measurement
# (pg_stat_bgwriter), the autovacuum and autoanalyze runs on the measured
# database (pg_stat_user_tables), and the alerts raised per committed
# rating. Environment: ALLIANCE_* settings for the servers pass
# through (e.g. ALLIANCE_DB_MAX_OPEN_CONNS). With PG_BENCH_BASE set to a
# git revision, each round also measures one instance of that revision's
# server (built from a temporary worktree), just before this one's: a
# paired comparison of two commits on the same cluster and minute. With
# PG_BENCH_PGBOUNCER=1, each round also measures one instance through
# PgBouncer in transaction mode, as docs/deploying.md sets it up (pgx's exec
# mode, no statement timeout from the instance, migrations straight to
# PostgreSQL); its server CPU includes PgBouncer's. With PG_BENCH_RATE=R,
# each measurement offers R requests a second (loadtest -rate: an open
# loop, at most CONNS in flight), for the latency below capacity; the
# warm-ups still run flat out.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2} seconds=${2:-15} conns=${3:-32} dyads=${4:-${3:-32}} answers=${5:-cycle}

if [ -z "${ALLIANCE_PG_BENCH_CLUSTER:-}" ]; then
  unset ALLIANCE_TEST_POSTGRES_URL
  export ALLIANCE_PG_BENCH_CLUSTER=1 ALLIANCE_PG_DURABLE=1
  exec scripts/postgres-test.sh "$0" "$@"
fi
if [ -z "${ALLIANCE_TEST_POSTGRES_URL:-}" ]; then
  echo "pg-bench: no PostgreSQL server could be started" >&2
  exit 1
fi

bin=$(mktemp -d "${TMPDIR:-/tmp}/alliance-bench.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$bin"
}
trap cleanup EXIT
go build -o "$bin/alliance" ./cmd/alliance
rate_args=()
if [ -n "${PG_BENCH_RATE:-}" ]; then rate_args=(-rate "$PG_BENCH_RATE"); fi
go build -o "$bin/loadtest" ./cmd/loadtest
base=${PG_BENCH_BASE:-}
if [ -n "$base" ]; then
  git worktree add -q --detach "$bin/base" "$base"
  (cd "$bin/base" && go build -o "$bin/alliance-base" ./cmd/alliance)
  git worktree remove --force "$bin/base"
fi

admin=$ALLIANCE_TEST_POSTGRES_URL
db_url() { echo "${admin/\/postgres\?//$1?}"; }
psql_admin() { psql -X -q -v ON_ERROR_STOP=1 -At "$admin" -c "$1"; }
hz=$(getconf CLK_TCK)
postmaster=$(head -1 "$ALLIANCE_TEST_POSTGRES_DATA/postmaster.pid")

# cpu_ticks PID...: user+system ticks of the processes.
cpu_ticks() {
  local t=0 p f
  for p in "$@"; do
    f=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null) || continue
    t=$((t + $(echo "$f" | awk '{print $12 + $13}')))
  done
  echo "$t"
}
# pg_ticks: PostgreSQL's ticks: its live processes, and through the
# postmaster's children totals the backends that have exited.
pg_ticks() {
  local live children
  live=$(cpu_ticks $(pgrep -P "$postmaster") "$postmaster")
  children=$(sed 's/.*) //' "/proc/$postmaster/stat" | awk '{print $14 + $15}')
  echo $((live + children))
}
wal_syncs() { psql_admin "SELECT wal_sync FROM pg_stat_wal"; }
# checkpoints: checkpoints started so far (timed or requested); one during a
# measurement fills the WAL with full-page images for a while, which shows
# in the p99.
checkpoints() { psql_admin "SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter"; }
# autovacuums DB: autovacuum and autoanalyze runs so far on DB's tables,
# which compete with the load for the same cores. The bare insert creates
# its table again when it starts, which zeroes the table's counters: a
# count that went down is printed as "-" (not known), never as negative.
autovacuums() { psql -X -At "$(db_url "$1")" -c "SELECT coalesce(sum(autovacuum_count + autoanalyze_count), 0) FROM pg_stat_user_tables"; }

port=18300
# serve DB [BINARY [URL]]: starts an instance (of BINARY, default this
# checkout's; on URL, default DB's) on a new port; sets url and pid.
serve() {
  port=$((port + 1))
  ALLIANCE_RATE_LIMIT=0 ALLIANCE_RATE_LIMIT_IP=0 ALLIANCE_LOG_LEVEL=warn \
    "${2:-$bin/alliance}" serve -database-url "${3:-$(db_url "$1")}" -addr "127.0.0.1:$port" >"$bin/serve-$port.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  url="http://127.0.0.1:$port"
  for _ in $(seq 100); do
    if curl -fsS "$url/readyz" >/dev/null 2>&1; then
      return
    fi
    sleep 0.1
  done
  cat "$bin/serve-$port.log" >&2
  echo "pg-bench: the server did not become ready" >&2
  exit 1
}
# key DB [BINARY]: an admin key of DB, made by BINARY (default this
# checkout's), whose schema the database has.
key() {
  "${2:-$bin/alliance}" keys -database-url "$(db_url "$1")" create -name bench -scopes admin,collect,analyze |
    grep -o 'alk_[A-Za-z0-9_.-]*'
}

# warm DB -- LOADTEST_ARGS...: runs the same load for WARMUP seconds
# (default 3), then ANALYZE on DB, so that what is measured is the steady
# state. On a fresh database PostgreSQL plans the first statements for
# empty tables and keeps those plans (each connection's prepared
# statements) until the tables are analyzed, which autovacuum does only
# after its first minute: a 15 s run would measure sequential scans that
# no running deployment sees.
warm() {
  local db=$1
  shift 2
  "$bin/loadtest" -c "$conns" -dyads "$dyads" -answers "$answers" -duration "${WARMUP:-3}s" "$@" >/dev/null 2>"$bin/loadtest.err" || {
    cat "$bin/loadtest.err" >&2; exit 1
  }
  psql -X -q -v ON_ERROR_STOP=1 "$(db_url "$db")" -c ANALYZE
}

# measure LABEL SERVER_PIDS DB ALERTS -- LOADTEST_ARGS...: runs the load
# tool against DB and prints one table row; with ALERTS (yes), also the
# alerts raised per committed rating (alert evaluation is most of what a
# write costs beyond the bare insert, and the load tool's answers raise
# alerts on most ratings).
measure() {
  local label=$1 servers=$2 db=$3 with_alerts=$4
  shift 5
  local s0 p0 w0 c0 v0 out s1 p1 w1 c1 v1 ok rps p50 p99
  s0=$(cpu_ticks $servers) p0=$(pg_ticks) w0=$(wal_syncs) c0=$(checkpoints) v0=$(autovacuums "$db")
  out=$("$bin/loadtest" -c "$conns" -dyads "$dyads" -answers "$answers" -duration "${seconds}s" "${rate_args[@]}" "$@" 2>"$bin/loadtest.err") || {
    cat "$bin/loadtest.err" >&2; exit 1
  }
  s1=$(cpu_ticks $servers) p1=$(pg_ticks) w1=$(wal_syncs) c1=$(checkpoints) v1=$(autovacuums "$db")
  ok=$(echo "$out" | grep -o '"ok":[0-9]*' | head -1 | cut -d: -f2)
  rps=$(echo "$out" | grep -o '"rps":[0-9.]*' | head -1 | cut -d: -f2)
  p50=$(echo "$out" | grep -o '"p50_ms":[0-9.]*' | head -1 | cut -d: -f2)
  p99=$(echo "$out" | grep -o '"p99_ms":[0-9.]*' | head -1 | cut -d: -f2)
  errs=$(echo "$out" | grep -o '"errors":{[^}]*}' | head -1 | cut -d: -f2-)
  tool=$(echo "$out" | grep -o '"cpu_ms_per_request":[0-9.]*' | head -1 | cut -d: -f2)
  alerts=-
  if [ "$with_alerts" = yes ]; then
    alerts=$(psql -X -At "$(db_url "$db")" -c "SELECT round((SELECT count(*) FROM alerts)::numeric / greatest(count(*), 1), 2) FROM ratings")
  fi
  awk -v l="$label" -v ok="$ok" -v rps="$rps" -v p50="$p50" -v p99="$p99" -v hz="$hz" \
      -v s="$((s1 - s0))" -v p="$((p1 - p0))" -v w="$((w1 - w0))" -v secs="$seconds" -v e="$errs" -v srv="$servers" -v tool="$tool" -v alerts="$alerts" -v ckpt="$((c1 - c0))" -v vac="$((v1 - v0))" \
    'BEGIN {
       scpu = (srv == "") ? "-" : sprintf("%.3f", s * 1000 / hz / ok)
       if (vac < 0) vac = "-"
       printf "| %s | %.0f | %.1f | %.1f | %s | %.3f | %.3f | %.0f | %s | %s | %s | %s |\n", l, rps, p50, p99, scpu, p * 1000 / hz / ok, tool, w / secs, ckpt, vac, alerts, e
     }'
}

# one_instance LABEL DB [BINARY [URL [PIDS]]]: measures one instance (of
# BINARY, default this checkout's; connected to URL, default DB's) on DB,
# after its warm-up. PIDS (a pooler's) count as server CPU too.
one_instance() {
  local label=$1 db=$2 binary=${3:-$bin/alliance}
  serve "$db" "$binary" "${4:-}"
  args=(-mode=ratings -url "$url" -H "Authorization: Bearer $(key "$db" "$binary")")
  warm "$db" -- "${args[@]}"
  measure "$label" "$pid ${5:-}" "$db" yes -- "${args[@]}"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

bouncer=
if [ "${PG_BENCH_PGBOUNCER:-}" = 1 ]; then
  if [ -z "${ALLIANCE_TEST_PGBOUNCER_URL:-}" ]; then
    echo "pg-bench: PG_BENCH_PGBOUNCER=1 but no PgBouncer could be started" >&2
    exit 1
  fi
  bouncer=$(cat "$(dirname "$ALLIANCE_TEST_POSTGRES_DATA")/pgbouncer.pid")
fi
echo "pg-bench: $rounds rounds of ${seconds}s at $conns connections${PG_BENCH_RATE:+ and $PG_BENCH_RATE requests/s offered} over $dyads dyads, $answers answers; PostgreSQL $(psql_admin 'SHOW server_version'), fsync $(psql_admin 'SHOW fsync'), synchronous_commit $(psql_admin 'SHOW synchronous_commit'); $(nproc) cores" >&2
echo "| round: system | req/s | p50 ms | p99 ms | server CPU ms/rating | PostgreSQL CPU ms/rating | load tool CPU ms/rating | WAL flushes/s | checkpoints | autovacuums | alerts/rating | errors |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for r in $(seq "$rounds"); do
  for db in one two bare; do psql_admin "CREATE DATABASE r${r}_$db"; done

  if [ -n "$base" ]; then
    psql_admin "CREATE DATABASE r${r}_base"
    one_instance "$r: $base: alliance, one instance" "r${r}_base" "$bin/alliance-base"
  fi
  one_instance "$r: alliance, one instance" "r${r}_one"

  if [ -n "$bouncer" ]; then
    psql_admin "CREATE DATABASE r${r}_bouncer"
    "$bin/alliance" migrate -database-url "$(db_url "r${r}_bouncer")" >/dev/null
    b=$ALLIANCE_TEST_PGBOUNCER_URL
    ALLIANCE_MIGRATE_ON_START=false ALLIANCE_DB_STATEMENT_TIMEOUT=0 \
      one_instance "$r: alliance, one instance through PgBouncer (exec mode)" "r${r}_bouncer" "" \
      "${b/\/postgres\?//r${r}_bouncer?}&default_query_exec_mode=exec" "$bouncer"
  fi

  serve "r${r}_two"; url1=$url pid1=$pid
  serve "r${r}_two"; url2=$url pid2=$pid
  args=(-mode=ratings -url "$url1" -also-url "$url2" -H "Authorization: Bearer $(key "r${r}_two")")
  warm "r${r}_two" -- "${args[@]}"
  measure "$r: alliance, two instances" "$pid1 $pid2" "r${r}_two" yes -- "${args[@]}"
  kill "$pid1" "$pid2"; wait "$pid1" "$pid2" 2>/dev/null || true

  args=(-mode=ceiling -ceiling-db "$(db_url "r${r}_bare")")
  warm "r${r}_bare" -- "${args[@]}"
  measure "$r: bare gin+GORM insert, pool 32" "" "r${r}_bare" no -- "${args[@]}"
done
