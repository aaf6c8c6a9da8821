#!/usr/bin/env bash
# `make run`: the web server and the background worker together, stopped together.
# Ctrl-C (or either process exiting) stops both. RUN_ADDR picks the address;
# RUNSERVER_ARGS adds runserver options (the tests pass --noreload).
set -uo pipefail
PY=${PY:-.venv/bin/python}

"$PY" manage.py qcluster &
worker=$!
# shellcheck disable=SC2086
"$PY" manage.py runserver ${RUNSERVER_ARGS:-} "${RUN_ADDR:-127.0.0.1:8000}" &
web=$!

stop() {
    trap - INT TERM EXIT
    kill -TERM "$web" "$worker" 2>/dev/null
    wait "$web" "$worker" 2>/dev/null
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT
wait -n "$web" "$worker"  # the first to stop takes the other with it
