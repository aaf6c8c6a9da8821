"""Issue 22, B3, measured: the real worker (`manage.py qcluster`) SIGKILLed during a send,
20 rounds; e-mail goes through django-anymail's Resend backend with the row's
Idempotency-Key to a stand-in of Resend's API at its HTTP boundary (records what it
received, drops a repeated key as Resend does). Figure: 0 lost, 0 duplicated.

Each round books 3 visits (3 confirmation e-mails due), starts a worker and has the
stand-in kill its whole process group at a chosen request of the round (seeded): before
the provider took the message, or after it took it and before the worker heard the
answer. The next round's worker settles the row the dead one left "sending"
(NOTIFICATION_SENDING_TIMEOUT_SECONDS=0: at once). A last worker, not killed, drains
what is left.
"""

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from notifications.models import Channel, Notification, Status
from tests.support import resend_standin, servers

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 20
BOOKINGS_PER_ROUND = 3


def start_worker(tmp_path: Path, name: str, api_url: str) -> subprocess.Popen:
    """The real worker, in a session of its own (its process group is what gets killed)."""
    log_path = tmp_path / f"qcluster-{name}.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=servers.child_env(
                EMAIL_BACKEND="notifications.email.ResendEmailBackend",
                ANYMAIL=json.dumps(
                    {"RESEND_API_KEY": resend_standin.API_KEY, "RESEND_API_URL": api_url}
                ),
                Q_WORKERS="1",
                NOTIFICATION_SENDING_TIMEOUT_SECONDS="0",
                NOTIFICATION_WATCH_SECONDS="1",
                NOTIFICATION_POLL_SECONDS="0.2",
                LOG_LEVEL="WARNING",
            ),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    process.log_path = log_path
    return process


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def e_mails():
    return Notification.objects.filter(channel=Channel.EMAIL)


def test_20_kill_rounds_during_sends_lose_nothing_and_send_nothing_twice(book, tmp_path):
    rng = random.Random(22)
    standin = resend_standin.ResendStandIn()
    worker: dict[str, subprocess.Popen] = {}
    standin.kill = lambda: os.killpg(worker["now"].pid, signal.SIGKILL)
    fates: list[str] = []

    with resend_standin.Server(standin) as server:
        for round_no in range(ROUNDS):
            for _ in range(BOOKINGS_PER_ROUND):
                book()  # no phone: its SMS row is superseded ("no address")
            # The rows this worker will send: the new ones and the one the last left.
            to_send = e_mails().filter(status__in=(Status.PENDING, Status.SENDING)).count()
            kill_at = standin.requests + rng.randint(1, to_send)
            fate = rng.choice(["die_before", "die_after"])
            standin.on_request = lambda n, kill_at=kill_at, fate=fate: fate if n == kill_at else ""
            worker["now"] = start_worker(tmp_path, f"round-{round_no}", server.url)
            try:
                worker["now"].wait(timeout=120)
            finally:
                stop(worker["now"])
            assert worker["now"].returncode == -signal.SIGKILL, worker["now"].log_path.read_text()[
                -3000:
            ]
            fates.append(fate)
            assert e_mails().filter(status=Status.SENDING).count() == 1  # left by the dead

        standin.on_request = lambda n: ""
        last = start_worker(tmp_path, "last", server.url)
        try:
            deadline = time.monotonic() + 120
            while e_mails().filter(status__in=(Status.PENDING, Status.SENDING)).exists():
                assert time.monotonic() < deadline, last.log_path.read_text()[-3000:]
                time.sleep(0.2)
        finally:
            stop(last)

    rows = list(e_mails())
    keys = {f"notification-{row.pk}" for row in rows}
    delivered = Counter(sent.idempotency_key for sent in standin.sent)
    lost = keys - set(delivered)
    duplicated = {key: n for key, n in delivered.items() if n > 1}
    print(
        f"\nB3 figure: {ROUNDS} kill rounds ({Counter(fates)}), {len(rows)} e-mails, "
        f"{len(standin.sent)} sent by the provider, {standin.replayed} repeats dropped by "
        f"their key, lost {len(lost)}, duplicated {len(duplicated)}, "
        f"left to staff {Counter(row.status for row in rows)[Status.FAILED]}"
    )
    assert len(fates) == ROUNDS
    assert len(rows) == ROUNDS * BOOKINGS_PER_ROUND
    assert lost == set() and duplicated == {}
    assert set(delivered) == keys
    assert {row.status for row in rows} == {Status.SENT}
    # Every row records the provider's id of the one message it sent.
    by_key = {sent.idempotency_key: sent.id for sent in standin.sent}
    assert {row.provider_message_id for row in rows} == set(by_key.values())
    # The kills after the provider took a message were real: their repeats were dropped.
    assert standin.replayed >= fates.count("die_after") > 0
