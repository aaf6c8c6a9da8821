"""The real worker (`manage.py qcluster`) on one PostgreSQL: killed mid-send (SIGKILL),
or two at once; and a cancellation racing the sender.

Sends are counted by fake providers in a file (tests/support/fake_providers.py), the
only thing that survives a killed process besides the database.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from uuid import UUID

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from bookings import events
from bookings.models import Booking, BookingStatus
from notifications import messages, sender
from notifications.models import Channel, Kind, Notification, Status
from notifications.tasks import start_watching
from payments.gateway import SimulatedGateway
from portal.flows import cancel_booking
from tests.support import servers
from tests.support.factories import PatientProfileFactory
from tests.support.fake_providers import senders, sends
from tests.support.racing import at_once
from tests.support.saga_hooks import delivery_stopped, hook_runs_first
from tests.support.scheduling import slot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
FAKES = "tests.support.fake_providers"
OUTBOX_STATES_IN_FLIGHT = (Status.PENDING, Status.SENDING)


@contextmanager
def qcluster(name: str, tmp_path: Path, send_log: Path, *, sms: str, **env: str):
    """The real worker (`manage.py qcluster`) on this test's database, in a session of its
    own (a crash kills only its group); stopped with SIGTERM on exit, as systemd would."""
    log_path = tmp_path / f"qcluster-{name}.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=servers.child_env(
                SEND_LOG=str(send_log),
                WORKER_NAME=name,
                EMAIL_BACKEND=f"{FAKES}.FileLogEmailBackend",
                SMS_BACKEND=f"{FAKES}.{sms}",
                # Short watches: a stop waits for the one in hand.
                NOTIFICATION_WATCH_SECONDS="1",
                NOTIFICATION_POLL_SECONDS="0.2",
                LOG_LEVEL="WARNING",
                **env,
            ),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    process.log_path = log_path
    try:
        yield process
    finally:
        if process.poll() is None:
            # Its main process only: it stops its own children (a SIGTERM reaching them
            # too could hang django-q2's stop routine, see scripts/run-dev.sh).
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                raise AssertionError(f"{name} ignored SIGTERM:\n{log_path.read_text()}") from None


def wait_until(done, *, process: subprocess.Popen, seconds: float) -> None:
    """Poll (readiness, not a timing assertion) until done(); fail after a bound."""
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, process.log_path.read_text()[-3000:]
        time.sleep(0.2)


def outbox_settled() -> bool:
    return not Notification.objects.filter(status__in=OUTBOX_STATES_IN_FLIGHT).exists()


def due_notifications(book, user, count: int) -> list[Notification]:
    """`count` due rows: one booking per e-mail + SMS pair (both channels)."""
    PatientProfileFactory(user=user, phone="+919812345678")
    for _ in range(count // 2):
        book()
    rows = list(Notification.objects.filter(status=Status.PENDING))
    assert len(rows) == count
    return rows


def test_two_workers_never_send_the_same_notification_twice(book, user, tmp_path):
    rows = due_notifications(book, user, 200)
    log = tmp_path / "sends.log"

    # One worker process each, and every send held at a gate until both workers are in
    # a provider call (two rows "sending"): both are sending at once, however slowly
    # either started (a loaded CI machine started "b" after "a" had sent all 200).
    gate = tmp_path / "open"
    both = dict(Q_WORKERS="1", FAKE_SEND_GATE=str(gate), FAKE_SEND_SECONDS="0.005")
    with (
        qcluster("a", tmp_path, log, sms="FileLogSms", **both) as a,
        qcluster("b", tmp_path, log, sms="FileLogSms", **both),
    ):
        # A worker holds at most two tasks (one running, one queued): with more watches
        # queued than that, the other gets one at once, not at the next minute's schedule.
        for _ in range(4):
            start_watching()
        wait_until(
            lambda: Notification.objects.filter(status=Status.SENDING).count() == 2,
            process=a,
            seconds=120,
        )
        gate.touch()
        wait_until(
            lambda: Notification.objects.filter(status=Status.SENT).count() == len(rows),
            process=a,
            seconds=120,
        )

    lines = sends(log)
    assert len(lines) == 200 and len(set(lines)) == 200, Counter(lines).most_common(3)
    # Both took part (the point of SKIP LOCKED): each sent some.
    by_worker = senders(log)
    assert set(by_worker) == {"a", "b"} and sum(by_worker.values()) == 200, by_worker


@pytest.mark.parametrize("crash", ["before_provider", "after_provider"])
@pytest.mark.parametrize(
    "sms", ["FileLogSms", "DedupingFileLogSms"], ids=["sms-without-keys", "sms-with-keys"]
)
def test_a_worker_killed_mid_send_leaves_every_row_sent_once_or_visibly_failed(
    book, user, tmp_path, crash, sms
):
    due_notifications(book, user, 2)  # one e-mail, one SMS
    log = tmp_path / "sends.log"

    # One worker process, so one send is in flight when the whole worker is SIGKILLed.
    crashing = dict(Q_WORKERS="1", CRASH_AT=crash, CRASH_MARKER=str(tmp_path / "died"))
    with qcluster("killed", tmp_path, log, sms=sms, **crashing) as killed:
        killed.wait(timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.log_path.read_text()[-3000:]
    stuck = Notification.objects.get(status=Status.SENDING)  # the row it was sending
    delivered_before = len(sends(log))
    assert delivered_before == (1 if crash == "after_provider" else 0)

    # Restarted once the sending timeout has passed (0 here: at once).
    with qcluster(
        "restarted", tmp_path, log, sms=sms, Q_WORKERS="1", NOTIFICATION_SENDING_TIMEOUT_SECONDS="0"
    ) as restarted:
        wait_until(outbox_settled, process=restarted, seconds=120)

    stuck.refresh_from_db()
    deliveries = Counter(sends(log))
    assert all(n == 1 for n in deliveries.values()), deliveries  # never twice
    rows = Notification.objects.all()
    assert {r.status for r in rows} <= {Status.SENT, Status.FAILED}  # none silently lost
    for row in rows:
        if row.status == Status.FAILED:
            assert "interrupted while sending" in row.last_error
    the_other = rows.exclude(pk=stuck.pk).get()
    assert the_other.status == Status.SENT  # a crash on one row does not hold back the rest
    if stuck.channel == Channel.SMS and sms == "DedupingFileLogSms":
        assert stuck.status == Status.SENT  # tried again with the same key: delivered once
    else:
        assert stuck.status == Status.FAILED  # cannot tell: staff decide, never a double send
    assert len(deliveries) == 1 + (crash == "after_provider" or stuck.status == Status.SENT)


class SlowRefundGateway(SimulatedGateway):
    """Keeps the cancellation "under way" (requested, still confirmed) for a while."""

    def refund(self, **kwargs) -> str:
        time.sleep(0.6)
        return super().refund(**kwargs)


def appointment_with_its_reminder_due(book, consult, doctor, *, at: tuple[int, int]) -> Booking:
    """A real booking of a slot tomorrow whose 2-hour e-mail reminder is due now (the only
    row the sender will pick up)."""
    booking = book(services=[consult], slot=slot(doctor, at=at))
    rows = Notification.objects.filter(booking=booking)
    reminder = rows.get(kind=Kind.REMINDER_2H, channel=Channel.EMAIL)
    rows.exclude(pk=reminder.pk).update(status=Status.SENT, sent_at=timezone.now())
    rows.filter(pk=reminder.pk).update(due_at=timezone.now())
    return booking


def committed_request_at(booking_id) -> datetime | None:
    """The booking's cancellation request as another connection sees it (committed only)."""
    seen = []

    def look() -> None:
        try:
            seen.append(
                Booking.objects.values_list("cancellation_requested_at", flat=True).get(
                    pk=booking_id
                )
            )
        finally:
            connection.close()

    looker = threading.Thread(target=look)
    looker.start()
    looker.join()
    return seen[0]


@pytest.mark.usefixtures("default_cancellation_policy")
def test_a_cancellation_racing_the_worker_never_lets_a_cancelled_booking_get_its_reminder(
    book, consult, doctor, settings, monkeypatch
):
    """The patient cancels through the real service (a slow refund keeps the booking
    "confirmed" with its request committed for 0.6 s) while the sender picks the
    reminder up, at offsets from well before the request to inside that window."""
    settings.PAYMENT_GATEWAY = "tests.test_notification_workers.SlowRefundGateway"
    requested_seen_at_send: list[datetime | None] = []
    provider_done: dict[UUID, float] = {}
    request_heard: dict[UUID, float] = {}
    real_deliver = messages.deliver

    def slow_provider(notification, message):
        if notification.kind != Kind.REMINDER_2H:  # an earlier round's cancellation notice
            return real_deliver(notification, message)
        requested_seen_at_send.append(committed_request_at(notification.booking_id))
        time.sleep(0.3)  # a slow provider: a cancellation arriving now must wait for it
        provider_id = real_deliver(notification, message)
        provider_done[notification.booking_id] = time.monotonic()
        return provider_id

    def heard(*, correlation_id, **_):  # CancellationRequested is delivered after its commit
        request_heard[Booking.objects.get(correlation_id=correlation_id).pk] = time.monotonic()

    monkeypatch.setattr(messages, "deliver", slow_provider)
    cancel_at = 0.2
    outcomes = []
    with hook_runs_first(events.CancellationRequested, heard):
        for n, worker_at in enumerate([0, 0, 0.1, 0.25, 0.3, 0.4, 0.55, 0.7]):
            booking = appointment_with_its_reminder_due(book, consult, doctor, at=(9 + n, 0))

            def cancel(booking=booking):
                time.sleep(cancel_at)
                cancel_booking(booking=booking, actor="asha", by_staff=False, reason="ill")

            def work(worker_at=worker_at):
                time.sleep(worker_at)
                return sender.send_due()

            at_once([cancel, work])
            reminder = Notification.objects.filter(booking=booking).get(
                kind=Kind.REMINDER_2H, channel=Channel.EMAIL
            )
            outcomes.append((reminder.status, reminder.last_error))
            assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CANCELLED
            if booking.pk in provider_done:  # sent: finished before the request committed
                assert provider_done[booking.pk] < request_heard[booking.pk]

    sent = [o for o in outcomes if o[0] == Status.SENT]
    assert len(sent) == len(requested_seen_at_send) == len(provider_done)
    # Whenever the provider was called, no cancellation request was committed.
    assert requested_seen_at_send == [None] * len(sent)
    # Both orders happened: sent before the request, and superseded while the booking
    # was still "confirmed" with its request committed (the window the fix closes).
    assert sent, outcomes
    assert (Status.SUPERSEDED, "superseded: a cancellation is under way") in outcomes, outcomes
    assert {status for status, _ in outcomes} == {Status.SENT, Status.SUPERSEDED}


@pytest.mark.usefixtures("default_cancellation_policy")
def test_a_cancellation_stopped_right_after_its_request_still_stops_the_reminder(
    book, consult, doctor
):
    """The saga dies after the request commits (no refund, booking still "confirmed"):
    the sender supersedes the reminders, also one it had claimed before the request."""
    bookings = [
        appointment_with_its_reminder_due(book, consult, doctor, at=(hour, 0)) for hour in (9, 10)
    ]
    [claimed] = sender.claim_due(now=timezone.now(), limit=1)  # one worker got there first

    with delivery_stopped(events.CancellationRequested):  # the crash
        for b in bookings:
            cancel_booking(booking=b, actor="asha", by_staff=False, reason="ill")
    assert set(Booking.objects.values_list("status", flat=True)) == {BookingStatus.CONFIRMED}

    assert sender.send_one(claimed) == "superseded"
    assert sender.send_due().superseded == 1
    assert mail.outbox == []
    assert set(
        Notification.objects.filter(kind=Kind.REMINDER_2H, channel=Channel.EMAIL).values_list(
            "status", "last_error", "sent_at"
        )
    ) == {(Status.SUPERSEDED, "superseded: a cancellation is under way", None)}
