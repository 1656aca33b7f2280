#!/usr/bin/env bash
# Start a throwaway PostgreSQL server for the ledger tests and print the URL to use:
#
#   eval "$(.ci/postgres.sh)"      # sets DISBURSE_TEST_POSTGRES_URL
#
# Works as root on a fresh Debian 12 machine (installs Debian's postgresql when missing) and is idempotent:
# a second run reuses the cluster, role and database. Everything but the final `export` line goes to stderr
# so the output can be eval'ed. Settings: DISBURSE_PG_DIR (data dir), DISBURSE_PG_PORT.
set -euo pipefail

PGDIR="${DISBURSE_PG_DIR:-/tmp/disburse-pg}"
PORT="${DISBURSE_PG_PORT:-54329}"
ROLE=disburse
PASSWORD=disburse
DB=disburse
SOCKDIR="$PGDIR/socket"

log() { echo "postgres.sh: $*" >&2; }

find_bindir() {
    # The newest installed major version (Debian puts binaries outside PATH).
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

BINDIR="$(find_bindir)"
if [ -z "$BINDIR" ] || [ ! -x "$BINDIR/initdb" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        log "postgresql is not installed and installing it needs root"; exit 1
    fi
    log "installing postgresql (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update >&2
    apt-get install -y --no-install-recommends postgresql >&2
    BINDIR="$(find_bindir)"
fi

# initdb and the server refuse to run as root: run them as the `postgres` system user the package created.
if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/sh postgres
    as_pg() { runuser -u postgres -- "$@"; }
    mkdir -p "$PGDIR"
    chown postgres: "$PGDIR"
else
    as_pg() { "$@"; }
    mkdir -p "$PGDIR"
fi

if [ ! -s "$PGDIR/data/PG_VERSION" ]; then
    log "initialising a cluster in $PGDIR/data"
    as_pg mkdir -p "$PGDIR/data" "$SOCKDIR"
    # Local socket connections as the server's owner are trusted (setup only); TCP needs the password.
    as_pg "$BINDIR/initdb" -D "$PGDIR/data" -U postgres -E UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=scram-sha-256 >&2
fi
as_pg mkdir -p "$SOCKDIR"

if ! as_pg "$BINDIR/pg_ctl" -D "$PGDIR/data" status >/dev/null 2>&1; then
    log "starting the server on localhost:$PORT"
    # fsync off: a test server whose data is disposable; it makes CREATE DATABASE per test cheap.
    as_pg "$BINDIR/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w -t 60 start \
        -o "-p $PORT -k $SOCKDIR -c listen_addresses=localhost -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >&2
fi

psql_admin() { as_pg "$BINDIR/psql" -h "$SOCKDIR" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA "$@"; }

if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" != "1" ]; then
    log "creating role $ROLE"
    # CREATEDB: the test fixtures create and drop one database per test.
    psql_admin -c "CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD'"
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != "1" ]; then
    log "creating database $DB"
    psql_admin -c "CREATE DATABASE $DB OWNER $ROLE"
fi

echo "export DISBURSE_TEST_POSTGRES_URL=postgresql+psycopg://$ROLE:$PASSWORD@localhost:$PORT/$DB"
