#!/usr/bin/env bash
# Run a command with DATABASE_URL pointing at a PostgreSQL server: the one in
# DATABASE_URL if set, else one on 127.0.0.1:5432 (user postgres), else a
# throwaway cluster started here from the local PostgreSQL binaries.
# The tests never run on SQLite.
set -euo pipefail
PY="${1:?usage: with-test-postgres.sh PYTHON ARGS...}"
# Each checkout tests in databases of its own name (pytest-django adds "test_"), so
# two checkouts, or a developer and CI, can test on one server at the same time.
checkout=$(cd "$(dirname "$0")/.." && pwd -P)
DB_NAME="clinic_$(printf '%s' "$checkout" | sha1sum | cut -c1-10)"

can_connect() {
  "$PY" - "$1" <<'PYEOF' >/dev/null 2>&1
import sys, psycopg
psycopg.connect(sys.argv[1], connect_timeout=3).close()
PYEOF
}

if [ -z "${DATABASE_URL:-}" ]; then
  if can_connect "postgresql://postgres@127.0.0.1:5432/postgres"; then
    export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB_NAME"
  else
    bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    [ -n "$bindir" ] || bindir=$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")
    if [ ! -x "$bindir/initdb" ]; then
      echo "No PostgreSQL found: set DATABASE_URL, or install the server (apt-get install postgresql)." >&2
      exit 1
    fi
    tmp=$(mktemp -d /tmp/clinic-pg.XXXXXX)
    port=55432
    run_as=()
    if [ "$(id -u)" = 0 ]; then chown postgres "$tmp"; run_as=(runuser -u postgres --); fi
    "${run_as[@]}" "$bindir/initdb" -D "$tmp/data" -U postgres --auth=trust >/dev/null
    "${run_as[@]}" "$bindir/pg_ctl" -D "$tmp/data" -l "$tmp/log" -w \
      -o "-p $port -k $tmp -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
    trap '"${run_as[@]}" "$bindir/pg_ctl" -D "$tmp/data" -m immediate stop >/dev/null; rm -rf "$tmp"' EXIT
    export DATABASE_URL="postgres://postgres@127.0.0.1:$port/$DB_NAME"
  fi
fi
echo "Tests use PostgreSQL at ${DATABASE_URL%%\?*}"
"$@"
