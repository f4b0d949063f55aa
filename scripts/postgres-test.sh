#!/usr/bin/env bash
# Usage: scripts/postgres-test.sh COMMAND [ARG...]
#
# Runs COMMAND with ALLIANCE_TEST_POSTGRES_URL pointing at a throwaway
# PostgreSQL cluster: initdb in a temporary directory, a free port on
# 127.0.0.1, trust authentication, fsync off (test data only). The cluster
# is stopped and deleted when COMMAND ends, however it ends; the exit status
# is COMMAND's.
#
#   scripts/postgres-test.sh go test -race ./...
#
# With ALLIANCE_PG_DURABLE=1 the cluster keeps PostgreSQL's durable
# defaults (fsync, synchronous_commit, full_page_writes on): for
# benchmarks (scripts/pg-bench.sh), not for tests.
#
# If ALLIANCE_TEST_POSTGRES_URL is already set, COMMAND runs against that
# server instead. Server binaries are looked for in $PG_BINDIR,
# /usr/lib/postgresql/15/bin, the PATH and /usr/lib/postgresql/*/bin; if
# there are none and apt-get is usable (root), postgresql-15 (or
# postgresql) is installed. Without PostgreSQL COMMAND still runs and the
# PostgreSQL tests skip. PostgreSQL refuses to run as root, so as root the
# server runs as the `postgres` user.
set -euo pipefail

if [ $# -eq 0 ]; then
  sed -n '2,24s/^# \{0,1\}//p' "$0" >&2
  exit 2
fi

say() { printf 'postgres-test: %s\n' "$*" >&2; }

if [ -n "${ALLIANCE_TEST_POSTGRES_URL:-}" ]; then
  say "using the server in ALLIANCE_TEST_POSTGRES_URL"
  exec "$@"
fi

find_bindir() {
  local d
  for d in "${PG_BINDIR:-}" /usr/lib/postgresql/15/bin; do
    if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
  done
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v pg_ctl)")"; return 0
  fi
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
  done
  return 1
}

bindir=$(find_bindir || true)
if [ -z "$bindir" ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  say "no PostgreSQL server binaries; installing them with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  if apt-get update -qq >&2 &&
     { apt-get install -y -qq --no-install-recommends postgresql-15 >&2 ||
       apt-get install -y -qq --no-install-recommends postgresql >&2; }; then
    bindir=$(find_bindir || true)
  fi
fi
if [ -z "$bindir" ]; then
  say "PostgreSQL server binaries (initdb, pg_ctl) not found and not installable:"
  say "running without PostgreSQL; the PostgreSQL tests will SKIP"
  exec "$@"
fi

# The server refuses to run as root: as root, run it as `postgres`.
as_server_user() {
  if [ "$(id -u)" -ne 0 ]; then
    "$@"
  elif command -v runuser >/dev/null 2>&1; then
    runuser -u postgres -- "$@"
  else
    su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
  fi
}
if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
  say "running as root and there is no 'postgres' user to run the server as:"
  say "running without PostgreSQL; the PostgreSQL tests will SKIP"
  exec "$@"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/alliance-pg.XXXXXX")
if [ "$(id -u)" -eq 0 ]; then chown postgres "$tmp"; fi
started=
bouncer=
cleanup() {
  if [ -n "$bouncer" ] && [ -f "$tmp/pgbouncer.pid" ]; then kill "$(cat "$tmp/pgbouncer.pid")" 2>/dev/null || true; fi
  if [ -n "$started" ]; then
    as_server_user "$bindir/pg_ctl" -D "$tmp/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cd "$tmp" # the server user may not be able to read the caller's directory
as_server_user "$bindir/initdb" -D "$tmp/data" -U postgres -A trust -E UTF8 --no-locale --no-sync >"$tmp/initdb.log" 2>&1 || {
  cat "$tmp/initdb.log" >&2; say "initdb failed"; exit 1
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
if [ "${ALLIANCE_PG_DURABLE:-}" = 1 ]; then durability=""; fi
for attempt in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 40000))
  port_free "$port" || continue
  if as_server_user "$bindir/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w -t 60 -s \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $tmp -c max_connections=300 $durability" \
      start; then
    started=1
    break
  fi
done
cd - >/dev/null
if [ -z "$started" ]; then
  tail -20 "$tmp/server.log" >&2 || true
  say "could not start PostgreSQL"
  exit 1
fi

export ALLIANCE_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
export ALLIANCE_TEST_POSTGRES_BINDIR="$bindir" ALLIANCE_TEST_POSTGRES_DATA="$tmp/data"
say "PostgreSQL $("$bindir/pg_ctl" --version | awk '{print $3}') on 127.0.0.1:$port (data in $tmp); ALLIANCE_TEST_POSTGRES_URL is set"

# PgBouncer in transaction mode in front of it, for the tests that show
# the service works through one (ALLIANCE_TEST_PGBOUNCER_URL); installed
# like the server if missing. statement_timeout is deliberately not among
# the ignored startup parameters: through PgBouncer the timeout belongs
# on the role (ALTER ROLE … SET statement_timeout), see docs/deploying.md.
if ! command -v pgbouncer >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  say "installing pgbouncer with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends pgbouncer >&2 ||
    { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends pgbouncer >&2; } || true
fi
if command -v pgbouncer >/dev/null 2>&1; then
  for attempt in 1 2 3 4 5; do
    bport=$((20000 + RANDOM % 40000))
    port_free "$bport" || continue
    cat >"$tmp/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=$port
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bport
unix_socket_dir =
auth_type = trust
auth_file = $tmp/userlist.txt
pool_mode = transaction
max_client_conn = 400
default_pool_size = 20
logfile = $tmp/pgbouncer.log
pidfile = $tmp/pgbouncer.pid
INI
    echo '"postgres" ""' >"$tmp/userlist.txt"
    if [ "$(id -u)" -eq 0 ]; then chown postgres "$tmp/pgbouncer.ini" "$tmp/userlist.txt"; fi
    (cd "$tmp" && as_server_user pgbouncer "$tmp/pgbouncer.ini" >/dev/null 2>&1) &
    bouncer=$!
    for _ in $(seq 50); do
      if ! port_free "$bport"; then break; fi
      sleep 0.1
    done
    if ! port_free "$bport"; then
      export ALLIANCE_TEST_PGBOUNCER_URL="postgres://postgres@127.0.0.1:$bport/postgres?sslmode=disable"
      say "PgBouncer $(pgbouncer --version | head -1 | awk '{print $2}') (transaction mode) on 127.0.0.1:$bport; ALLIANCE_TEST_PGBOUNCER_URL is set"
      break
    fi
    if [ -f "$tmp/pgbouncer.pid" ]; then kill "$(cat "$tmp/pgbouncer.pid")" 2>/dev/null || true; fi
    bouncer=
  done
fi
status=0
"$@" || status=$?
exit "$status"
