#!/usr/bin/env bash
# A throwaway PostgreSQL server on loopback for tests and benchmarks (Debian bookworm).
#
# Usage: scripts/postgres.sh up|down|start|stop|restart|url [NAME]
#   up       install postgresql if missing, initdb a cluster under $TMPDIR/herald-postgres-NAME (owned by the
#            postgres user when run as root), start it on a free loopback port, create a fresh database, and
#            print `export HERALD_TEST_POSTGRES_URL=...` lines for eval.
#   stop / start / restart   stop or start the same server (the data stays): the restart test uses these.
#   url      print the URL again.     down   stop the server and delete its folder.
# NAME (default "test") lets several servers run side by side.
set -euo pipefail

cmd="${1:-}"
name="${2:-test}"
base="${TMPDIR:-/tmp}/herald-postgres-${name}"
data="$base/data"
log="$base/server.log"

if [[ $(id -u) -eq 0 ]]; then
    as_owner() { runuser -u postgres -- "$@"; }
else
    as_owner() { "$@"; }
fi

bindir() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    [[ -n "$dir" ]] || { echo "herald: PostgreSQL is not installed" >&2; exit 1; }
    echo "$dir"
}

install_if_missing() {
    if ! ls -d /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
        echo "herald: installing postgresql" >&2
        local sudo=""
        [[ $(id -u) -eq 0 ]] || sudo="sudo"
        export DEBIAN_FRONTEND=noninteractive
        # A mirror that does not answer once is asked again before the tests are given up on.
        local attempt
        for attempt in 1 2 3; do
            if $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends postgresql >/dev/null
            then
                return 0
            fi
            echo "herald: installing postgresql failed (attempt $attempt of 3)" >&2
            sleep $((attempt * 5))
        done
        exit 1
    fi
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start() {
    local bin port
    bin=$(bindir)
    port=$(cat "$base/port")
    as_owner "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 \
        -o "-p $port -k $base -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200" start \
        </dev/null >/dev/null 2>>"$base/pg_ctl.log"
}

running() {
    as_owner "$(bindir)/pg_ctl" -D "$data" status </dev/null >/dev/null 2>&1
}

# What went wrong, on stderr: the caller's output is for `eval`.
explain() {
    echo "herald: PostgreSQL under $base: $1" >&2
    local file
    for file in "$base/initdb.log" "$base/pg_ctl.log" "$log"; do
        [[ -s "$file" ]] || continue
        echo "--- $file (last lines)" >&2
        tail -n 20 "$file" >&2
    done
}

# `up`'s start: the free port found earlier may have been taken since (another test's listener), so a start that
# fails is tried again on a new port, three times in all.
start_on_a_free_port() {
    local attempt
    for attempt in 1 2 3; do
        start && return 0
        ! running || return 0
        explain "start $attempt of 3 failed on port $(cat "$base/port")"
        free_port >"$base/port"
    done
    return 1
}

stop() {
    local bin
    bin=$(bindir)
    if [[ -f "$data/postmaster.pid" ]]; then
        as_owner "$bin/pg_ctl" -D "$data" -m fast -w -t 60 stop </dev/null >/dev/null 2>>"$base/pg_ctl.log"
    fi
}

print_url() {
    local port db
    port=$(cat "$base/port")
    db=$(cat "$base/database")
    echo "export HERALD_TEST_POSTGRES_URL='postgres://herald:herald-test-pw@127.0.0.1:${port}/${db}?sslmode=disable'"
    echo "export HERALD_TEST_POSTGRES_SCRIPT='$(cd "$(dirname "$0")" && pwd)/postgres.sh'"
}

case "$cmd" in
up)
    install_if_missing
    bin=$(bindir)
    if [[ ! -f "$data/PG_VERSION" ]]; then
        rm -rf "$base"
        mkdir -p "$base"
        [[ $(id -u) -ne 0 ]] || chown postgres:postgres "$base"
        pwfile="$base/pw"
        echo "herald-test-pw" >"$pwfile"
        [[ $(id -u) -ne 0 ]] || chown postgres:postgres "$pwfile"
        if ! as_owner "$bin/initdb" -D "$data" -U herald --pwfile="$pwfile" --auth-local=trust \
            --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$base/initdb.log" 2>&1; then
            explain "initdb failed"
            exit 1
        fi
        free_port >"$base/port"
    fi
    # A postmaster.pid left by a server that was killed says nothing: ask pg_ctl whether one runs.
    if ! running && ! start_on_a_free_port; then
        explain "the server does not start"
        exit 1
    fi
    db="herald_test_$(date +%s)_$$"
    if ! as_owner "$bin/createdb" -h "$base" -p "$(cat "$base/port")" -U herald "$db" 2>>"$base/pg_ctl.log"; then
        explain "createdb $db failed"
        exit 1
    fi
    echo "$db" >"$base/database"
    print_url
    ;;
start) start ;;
stop) stop ;;
restart) stop; start ;;
url) print_url ;;
down)
    stop || true
    rm -rf "$base"
    ;;
*)
    echo "usage: $0 up|down|start|stop|restart|url [NAME]" >&2
    exit 2
    ;;
esac
# A last line callers can check without relying on the exit status (a comment, so `eval` ignores it).
echo "# postgres.sh $cmd ok"
