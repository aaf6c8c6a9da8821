#!/usr/bin/env bash
# `make run`: the web server and the background worker together, stopped together.
# Ctrl-C (or either process exiting) stops both. RUN_ADDR picks the address;
# RUNSERVER_ARGS adds runserver options (the tests pass --noreload).
set -uo pipefail
PY=${PY:-.venv/bin/python}
# How long the worker may take to finish the task in hand before it is killed.
WORKER_STOP_SECONDS=${WORKER_STOP_SECONDS:-20}

# The worker runs in a session of its own, so a terminal's Ctrl-C reaches only this
# script, which then sends the worker exactly one SIGTERM. A Ctrl-C reaching qcluster
# as well made it hear SIGINT and SIGTERM at once, and django-q2's signal handler is
# not re-entrant: it could hang in its stop routine (django-q2 issue #346).
setsid "$PY" manage.py qcluster &
worker=$!
# shellcheck disable=SC2086
"$PY" manage.py runserver ${RUNSERVER_ARGS:-} "${RUN_ADDR:-127.0.0.1:8000}" &
web=$!

stop() {
    trap - INT TERM EXIT
    kill -TERM "$web" "$worker" 2>/dev/null
    # Both are bounded: a web server that does not stop (a request hanging in a thread)
    # must not keep Ctrl-C waiting any more than a worker busy with its task.
    for _ in $(seq $((WORKER_STOP_SECONDS * 10))); do
        kill -0 "$web" 2>/dev/null || kill -0 "$worker" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$web" 2>/dev/null; then
        echo "run-dev: the web server did not stop within ${WORKER_STOP_SECONDS} s; killing it" >&2
        kill -KILL "$web" 2>/dev/null
    fi
    if kill -0 "$worker" 2>/dev/null; then
        echo "run-dev: the worker did not stop within ${WORKER_STOP_SECONDS} s; killing it" >&2
        kill -KILL -- "-$worker" 2>/dev/null  # its whole group: sentinel, pusher, workers
    fi
    wait "$web" 2>/dev/null
    wait "$worker" 2>/dev/null
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT
wait -n "$web" "$worker"  # the first to stop takes the other with it
