"""Real worker processes on one PostgreSQL: killed mid-send (SIGKILL), or two at once.

Sends are counted by fake providers in a file (tests/support/fake_providers.py), the
only thing that survives a killed process besides the database.
"""

import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from uuid import UUID

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from bookings import events
from bookings.models import Booking, BookingStatus, PatientProfile
from notifications import messages, sender
from notifications.models import Channel, Kind, Notification, Status
from payments.gateway import SimulatedGateway
from portal.services import cancel_booking
from tests.support import servers
from tests.support.fake_providers import sends
from tests.support.racing import at_once
from tests.support.saga_hooks import delivery_stopped, hook_runs_first
from tests.support.scheduling import slot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
EMAIL = "tests.support.fake_providers.FileLogEmailBackend"


def worker(mode: str, send_log: Path, *, sms: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.outbox_worker", mode],
        cwd=ROOT,
        env=servers.child_env(SEND_LOG=str(send_log), EMAIL_BACKEND=EMAIL, SMS_BACKEND=sms, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def due_notifications(book, user, count: int) -> list[Notification]:
    """`count` due rows: one booking per e-mail + SMS pair (both channels)."""
    PatientProfile.objects.create(
        user=user,
        full_name="Asha Verma",
        gender="female",
        date_of_birth="1990-01-01",
        phone="+919812345678",
    )
    for _ in range(count // 2):
        book()
    rows = list(Notification.objects.filter(status=Status.PENDING))
    assert len(rows) == count
    return rows


def test_two_workers_never_send_the_same_notification_twice(book, user, tmp_path):
    rows = due_notifications(book, user, 200)
    log = tmp_path / "sends.log"

    workers = [worker("run", log, sms="tests.support.fake_providers.FileLogSms") for _ in range(2)]
    outputs = [w.communicate(timeout=300) for w in workers]

    assert [w.returncode for w in workers] == [0, 0], outputs
    lines = sends(log)
    assert len(lines) == 200 and len(set(lines)) == 200, Counter(lines).most_common(3)
    assert Notification.objects.filter(status=Status.SENT).count() == len(rows)
    # Both took part (the point of SKIP LOCKED): each printed what it sent.
    sent_by = [int(out.split("sent=")[1].split()[0]) for out, _ in outputs]
    assert sum(sent_by) == 200 and min(sent_by) > 0, sent_by


@pytest.mark.parametrize("crash", ["die_before_provider", "die_after_provider"])
@pytest.mark.parametrize(
    "sms", ["FileLogSms", "DedupingFileLogSms"], ids=["sms-without-keys", "sms-with-keys"]
)
def test_a_worker_killed_mid_send_leaves_every_row_sent_once_or_visibly_failed(
    book, user, tmp_path, settings, crash, sms
):
    due_notifications(book, user, 2)  # one e-mail, one SMS
    log = tmp_path / "sends.log"
    sms_backend = f"tests.support.fake_providers.{sms}"

    killed = worker(crash, log, sms=sms_backend)
    killed.communicate(timeout=120)
    assert killed.returncode == -signal.SIGKILL
    stuck = Notification.objects.get(status=Status.SENDING)  # the row it was sending
    delivered_before = len(sends(log))
    assert delivered_before == (1 if crash == "die_after_provider" else 0)

    # Restarted after the sending timeout has passed.
    settings.NOTIFICATION_SENDING_TIMEOUT_SECONDS = 0
    restarted = worker("run", log, sms=sms_backend, NOTIFICATION_SENDING_TIMEOUT_SECONDS="0")
    out, err = restarted.communicate(timeout=120)
    assert restarted.returncode == 0, err

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
    assert len(deliveries) == 1 + (crash == "die_after_provider" or stuck.status == Status.SENT)


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
    assert {status for status, _ in outcomes} <= {Status.SENT, Status.SUPERSEDED}


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
