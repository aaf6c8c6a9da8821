#!/usr/bin/env bash
# `make run`: the web server, the background worker and the Razorpay stand-in together,
# stopped together. Ctrl-C (or any of them exiting) stops all. RUN_ADDR picks the
# address; RUNSERVER_ARGS adds runserver options (the tests pass --noreload);
# STANDIN_ADDR the stand-in's (default: a free port).
set -uo pipefail
PY=${PY:-.venv/bin/python}
# How long the worker may take to finish the task in hand before it is killed.
WORKER_STOP_SECONDS=${WORKER_STOP_SECONDS:-20}
RUN_ADDR=${RUN_ADDR:-127.0.0.1:8000}
export SITE_URL=${SITE_URL:-http://$RUN_ADDR}

# Paying online without keys or internet: unless RAZORPAY_API_BASE_URL is set (your own
# Razorpay test keys, see docs/payments.md), the app pays through the local stand-in
# (payments/razorpay_standin), with keys made up for this run. Development only: with
# DEBUG off the stand-in refuses to start and `manage.py check` refuses its URL
# (payments.E005).
standin=""
if [ -z "${RAZORPAY_API_BASE_URL:-}" ]; then
    STANDIN_ADDR=${STANDIN_ADDR:-127.0.0.1:$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
    export PAYMENT_GATEWAY=razorpay
    export RAZORPAY_KEY_ID=rzp_test_standin
    RAZORPAY_KEY_SECRET=${RAZORPAY_KEY_SECRET:-$("$PY" -c "import secrets; print(secrets.token_hex(16))")}
    RAZORPAY_WEBHOOK_SECRET=${RAZORPAY_WEBHOOK_SECRET:-$("$PY" -c "import secrets; print(secrets.token_hex(16))")}
    export RAZORPAY_KEY_SECRET RAZORPAY_WEBHOOK_SECRET
    export RAZORPAY_API_BASE_URL="http://$STANDIN_ADDR"
    export RAZORPAY_CHECKOUT_JS_URL="http://$STANDIN_ADDR/v1/checkout.js"
    "$PY" manage.py razorpay_standin --addr "$STANDIN_ADDR" \
        --webhook-url "http://$RUN_ADDR/webhooks/razorpay" &
    standin=$!
fi

# The worker runs in a session of its own, so a terminal's Ctrl-C reaches only this
# script, which then sends the worker exactly one SIGTERM. A Ctrl-C reaching qcluster
# as well made it hear SIGINT and SIGTERM at once, and django-q2's signal handler is
# not re-entrant: it could hang in its stop routine (django-q2 issue #346).
setsid "$PY" manage.py qcluster &
worker=$!
# shellcheck disable=SC2086
"$PY" manage.py runserver ${RUNSERVER_ARGS:-} "$RUN_ADDR" &
web=$!

stop() {
    trap - INT TERM EXIT
    kill -TERM "$web" "$worker" $standin 2>/dev/null
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
    if [ -n "$standin" ] && kill -0 "$standin" 2>/dev/null; then
        kill -KILL "$standin" 2>/dev/null  # it holds nothing worth waiting for
    fi
    wait "$web" 2>/dev/null
    wait "$worker" 2>/dev/null
    [ -z "$standin" ] || wait "$standin" 2>/dev/null
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT
# shellcheck disable=SC2086
wait -n "$web" "$worker" $standin  # the first to stop takes the others with it
