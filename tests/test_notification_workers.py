"""Real worker processes on one PostgreSQL: killed mid-send (SIGKILL), or two at once.

Sends are counted by fake providers in a file (tests/support/fake_providers.py), the
only thing that survives a killed process besides the database.
"""

import signal
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from bookings.models import PatientProfile
from notifications import sender
from notifications.models import Channel, Kind, Notification, Status
from tests.support import servers
from tests.support.fake_providers import sends

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


def test_a_cancellation_racing_the_worker_never_lets_a_cancelled_booking_get_its_reminder(
    book, settings
):
    """Cancellation (simulated: the booking leaves `confirmed` by a conditional UPDATE and
    its pending reminders are superseded in the same transaction; the cancellation saga
    comes from another branch) races the sender. At the moment the provider is called,
    the booking must still be confirmed as every other connection sees it."""
    import threading

    from django.db import connection, transaction

    from bookings.models import Booking, BookingStatus
    from notifications import messages, services

    seen_at_send: list[str] = []
    real_deliver = messages.deliver

    def deliver_and_look(notification, message):
        # What any other connection sees right now (committed state).
        result = []
        looker = threading.Thread(
            target=lambda: (
                result.append(
                    Booking.objects.filter(pk=notification.booking_id)
                    .values_list("status", flat=True)
                    .get()
                ),
                connection.close(),
            )
        )
        looker.start()
        looker.join()
        seen_at_send.append(result[0])
        return real_deliver(notification, message)

    messages.deliver = deliver_and_look
    try:
        outcomes = Counter()
        for _ in range(15):
            booking = book()
            start = timezone.now() + timedelta(hours=3)
            Booking.objects.filter(pk=booking.pk).update(
                appointment_start=start, appointment_end=start + timedelta(minutes=20)
            )
            Notification.objects.filter(booking=booking).update(
                status=Status.SENT, sent_at=timezone.now()
            )
            Notification.objects.create(
                booking=booking,
                kind=Kind.REMINDER_2H,
                channel=Channel.EMAIL,
                due_at=timezone.now(),
            )
            barrier = threading.Barrier(2)

            def cancel(booking=booking, barrier=barrier):
                barrier.wait()
                with transaction.atomic():
                    if Booking.objects.filter(pk=booking.pk, status=BookingStatus.CONFIRMED).update(
                        status=BookingStatus.CANCELLED
                    ):
                        services.supersede_pending(
                            booking_id=booking.pk, kinds=(Kind.REMINDER_24H, Kind.REMINDER_2H)
                        )
                connection.close()

            def work(barrier=barrier):
                barrier.wait()
                sender.send_due()
                connection.close()

            threads = [threading.Thread(target=cancel), threading.Thread(target=work)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            reminder = Notification.objects.get(booking=booking, kind=Kind.REMINDER_2H)
            outcomes[reminder.status] += 1
            booking.refresh_from_db()
            assert booking.status == BookingStatus.CANCELLED  # the cancellation always lands
    finally:
        messages.deliver = real_deliver

    assert set(outcomes) <= {Status.SENT, Status.SUPERSEDED}
    assert outcomes[Status.SENT] == len(seen_at_send)
    # Whenever a reminder went out, the booking was still confirmed for everyone.
    assert set(seen_at_send) <= {BookingStatus.CONFIRMED}, seen_at_send


def test_a_cancellation_committed_after_the_claim_stops_the_reminder(book):
    from bookings.models import Booking, BookingStatus

    booking = book()
    start = timezone.now() + timedelta(hours=3)
    Booking.objects.filter(pk=booking.pk).update(
        appointment_start=start, appointment_end=start + timedelta(minutes=20)
    )
    Notification.objects.filter(booking=booking).delete()
    reminder = Notification.objects.create(
        booking=booking, kind=Kind.REMINDER_2H, channel=Channel.EMAIL, due_at=timezone.now()
    )

    assert sender.claim_due(now=timezone.now(), limit=10) == [reminder.pk]
    Booking.objects.filter(pk=booking.pk, status=BookingStatus.CONFIRMED).update(
        status=BookingStatus.CANCELLED
    )

    assert sender.send_one(reminder.pk) == "superseded"
    reminder.refresh_from_db()
    assert reminder.status == Status.SUPERSEDED and reminder.sent_at is None
