"""Sending the outbox: claim, re-check, call the provider, record. Any number of workers.

At-least-once, never a double send in the common failure:
- a worker claims rows with SELECT … FOR UPDATE SKIP LOCKED and a conditional UPDATE
  pending → sending (attempts + 1), so two workers never take the same row;
- it re-checks the booking under a row lock held through the provider call, so a
  cancellation request either commits first (the reminder is superseded, never sent,
  though the booking stays "confirmed" until its refund is done) or waits for the send
  to finish (sent before anyone asked to cancel);
- after the provider answers it records `sent` and the provider's id; a provider error
  puts the row back to pending with a later due time (backoff), and after
  NOTIFICATION_MAX_ATTEMPTS it is `failed`, for staff to see and resend;
- a row left in `sending` (the worker died during the call) cannot tell whether the
  message went out. For a backend that accepts an idempotency key it is tried again
  with the same key (the provider drops the duplicate); a backend whose provider has a
  status API is asked (sent: recorded; never received: tried again; no answer: asked
  again later); only for the others is it marked `failed` for staff to decide
  (`delivery_unknown`, counted on the admin's front page): a patient may miss a
  message we can see, but never gets it twice.
"""

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from bookings.models import Booking, BookingStatus
from notifications import messages
from notifications.models import Channel, Kind, Notification, SenderLease, Status

logger = logging.getLogger("notifications")

# The booking status each kind is still wanted in (the cancellation saga sets "cancelled").
WANTED_STATUS: dict[str, BookingStatus] = {
    Kind.CONFIRMATION: BookingStatus.CONFIRMED,
    Kind.REMINDER_24H: BookingStatus.CONFIRMED,
    Kind.REMINDER_2H: BookingStatus.CONFIRMED,
    Kind.CANCELLATION: BookingStatus.CANCELLED,
    Kind.RESCHEDULED: BookingStatus.CONFIRMED,
    Kind.REFUND: BookingStatus.CANCELLED,
    # Only while still waiting: paid (or expired) meanwhile, it is superseded.
    Kind.PAYMENT_DUE: BookingStatus.AWAITING_PAYMENT,
}
REMINDER_KINDS = (Kind.REMINDER_24H, Kind.REMINDER_2H)
# Not wanted once a cancellation is requested: the booking stays "confirmed" until the
# saga's last step (after the refund), but the patient has already cancelled.
CANCELLATION_SUPERSEDES = (Kind.CONFIRMATION, *REMINDER_KINDS, Kind.RESCHEDULED)
INTERRUPTED = (
    "interrupted while sending (the worker stopped during the provider call): it may or "
    "may not have reached the patient; resend from the admin if needed"
)
RETRIED_WITH_ITS_KEY = (
    "interrupted while sending; tried again with the same idempotency key (the provider "
    "drops a duplicate)"
)
NEVER_RECEIVED = "interrupted while sending; the provider says it never got it: tried again"
FOUND_AT_THE_PROVIDER = "interrupted while sending; the provider says it got it"
# A provider that cannot answer about a row for this long: staff decide after all.
LOOK_UP_GIVES_UP_AFTER = timedelta(days=1)


@dataclass
class SendSummary:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    superseded: int = 0
    released: int = 0  # stuck in "sending": tried again (idempotent provider) or failed

    def as_line(self) -> str:
        return " ".join(f"{k}={v}" for k, v in self.__dict__.items())

    def add(self, other: "SendSummary") -> None:
        for field, value in other.__dict__.items():
            setattr(self, field, getattr(self, field) + value)


WATCH_LEASE = "outbox"


def watch(*, seconds: float, poll: float) -> tuple[SendSummary, bool]:
    """Send what is due, then keep looking every `poll` seconds for `seconds` more.

    So a confirmation goes out within about `poll` seconds of the step that wrote it,
    and the booking request enqueues nothing (its only cost is the outbox rows). One
    watch at a time on all hosts (a lease): a run that finds it taken sends what is due
    once and returns. Returns the summary and whether this run held the watch (the
    worker's task then queues the next one: tasks.py).
    """
    summary = send_due()
    held_until = _take_lease(seconds=seconds)
    if held_until is None:
        return summary, False
    try:
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            time.sleep(poll)
            summary.add(send_due(release=False))
    finally:
        # Only our own lease: a watch that outlived it (a stall) may find another watch
        # took it since, and must not free that one.
        SenderLease.objects.filter(pk=WATCH_LEASE, held_until=held_until).update(
            held_until=timezone.now()
        )
    return summary, True


def _take_lease(*, seconds: float) -> datetime | None:
    """Take the watch if nobody holds it; return until when it is ours (None: taken)."""
    now = timezone.now()
    SenderLease.objects.bulk_create(
        [SenderLease(name=WATCH_LEASE, held_until=now)], ignore_conflicts=True
    )
    # Held a little past the watch, so a worker that died holding it frees it soon.
    held_until = now + timedelta(seconds=seconds + 30)
    taken = SenderLease.objects.filter(pk=WATCH_LEASE, held_until__lte=now).update(
        held_until=held_until
    )
    return held_until if taken else None


def send_due(
    *,
    now: datetime | None = None,
    batch: int = 1,
    rounds: int = 1000,
    max_seconds: float = 60,
    release: bool = True,
) -> SendSummary:
    """Send what is due until nothing is left (or `rounds` claims); first, unless
    `release` is false, settle rows a dead worker left "sending".

    One row per claim by default: a worker killed during a provider call then leaves
    only the row it was sending in "sending", never a claimed batch it had not started.
    """
    summary = SendSummary()
    if release:
        summary.released = release_stuck(now=now or timezone.now())
    started = time.monotonic()
    for _ in range(rounds):
        if time.monotonic() - started > max_seconds:
            break  # well inside the task timeout (Q_CLUSTER timeout); the next run goes on
        moment = now or timezone.now()
        claimed = claim_due(now=moment, limit=batch)
        if not claimed:
            break
        summary.claimed += len(claimed)
        for pk in claimed:
            outcome = send_one(pk, now=moment)
            setattr(summary, outcome, getattr(summary, outcome) + 1)
    return summary


def claim_due(*, now: datetime, limit: int) -> list[int]:
    """Mark up to `limit` due rows "sending" for this worker; return their ids."""
    with transaction.atomic():
        candidates = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(status=Status.PENDING, due_at__lte=now)
            .order_by("due_at")
            .values_list("pk", flat=True)[:limit]
        )
        # Conditional per row: on SQLite (no row locks) a row another worker took is skipped.
        return [
            pk
            for pk in candidates
            if Notification.objects.filter(pk=pk, status=Status.PENDING).update(
                status=Status.SENDING, attempts=F("attempts") + 1, claimed_at=now
            )
        ]


def send_one(pk: int, *, now: datetime | None = None) -> str:
    """Send one claimed row; return what became of it (a SendSummary field name)."""
    with transaction.atomic():
        notification = Notification.objects.get(pk=pk)
        # Held until the provider answered: a cancellation waits for us, or we see it.
        booking = (
            Booking.objects.select_for_update(no_key=True, of=("self",))
            .select_related("user__patient_profile")
            .get(pk=notification.booking_id)
        )
        reason = _not_wanted(notification, booking)
        if reason:
            _finish(notification, status=Status.SUPERSEDED, last_error=reason)
            return "superseded"
        try:
            message = messages.compose(notification, booking)
            if message is None:
                _finish(notification, status=Status.SUPERSEDED, last_error="no address")
                return "superseded"
            provider_id = messages.deliver(notification, message)
        except Exception as error:  # the provider's or ours: retried, then visible
            return _failed_attempt(notification, error, now=now or timezone.now())
        _finish(
            notification,
            status=Status.SENT,
            provider_message_id=provider_id[:255],
            sent_at=timezone.now(),
            last_error="",
        )
        logger.info(
            "notification sent id=%s kind=%s channel=%s",
            notification.pk,
            notification.kind,
            notification.channel,
            extra={"correlation_id": str(booking.correlation_id)},
        )
        return "sent"


def _not_wanted(notification: Notification, booking: Booking) -> str:
    if booking.status != WANTED_STATUS[notification.kind]:
        return f"superseded: booking is {booking.status}"
    if notification.kind in CANCELLATION_SUPERSEDES and booking.cancellation_requested_at:
        # Race-free: request_cancellation's UPDATE of this row waits for our row lock.
        return "superseded: a cancellation is under way"
    if notification.kind in REMINDER_KINDS and (
        booking.appointment_start is None or booking.appointment_start <= timezone.now()
    ):
        return "superseded: the appointment is no longer ahead"
    if notification.kind in (*REMINDER_KINDS, Kind.RESCHEDULED) and (
        notification.occurrence != booking.reschedules
    ):
        return "superseded: booking moved"  # a reminder of an earlier time
    return ""


def _finish(notification: Notification, **fields) -> None:
    # Only our own claim: a row released meanwhile (we were presumed dead) is not overwritten.
    Notification.objects.filter(pk=notification.pk, status=Status.SENDING).update(**fields)


def _failed_attempt(notification: Notification, error: Exception, *, now: datetime) -> str:
    logger.warning(
        "notification attempt failed id=%s attempts=%s",
        notification.pk,
        notification.attempts,
        exc_info=error,
    )
    text = f"{type(error).__name__}: {error}"[:2000]
    if notification.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
        _finish(notification, status=Status.FAILED, last_error=text)
        return "failed"
    backoff = settings.NOTIFICATION_RETRY_SECONDS * 2 ** (notification.attempts - 1)
    _finish(
        notification,
        status=Status.PENDING,
        last_error=text,
        due_at=now + timedelta(seconds=backoff),
    )
    return "retried"


def release_stuck(*, now: datetime) -> int:
    """Rows left "sending" by a worker that died: retried where the provider drops
    duplicates, settled by asking where it has a status API, else failed for staff."""
    stuck = Notification.objects.filter(
        status=Status.SENDING,
        claimed_at__lt=now - timedelta(seconds=settings.NOTIFICATION_SENDING_TIMEOUT_SECONDS),
    )
    released = 0
    for channel in Channel.values:
        rows = stuck.filter(channel=channel)
        if messages.backend_takes_idempotency_key(channel):
            released += rows.update(
                status=Status.PENDING, due_at=now, last_error=RETRIED_WITH_ITS_KEY
            )
        elif messages.backend_looks_up_sends(channel):
            released += _settle_by_asking(rows, now=now)
        else:
            released += rows.update(status=Status.FAILED, last_error=INTERRUPTED)
    return released


def _settle_by_asking(rows, *, now: datetime, limit: int = 100) -> int:
    """Ask the provider about each row, one row lock at a time (another worker skips it)."""
    settled = 0
    for pk in list(rows.values_list("pk", flat=True)[:limit]):
        with transaction.atomic():
            row = (
                Notification.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("booking")
                .filter(pk=pk, status=Status.SENDING)
                .first()
            )
            if row is None:
                continue
            assert row.claimed_at is not None  # set whenever a row is marked "sending"
            try:
                provider_id = messages.look_up(row, row.booking)
            except Exception as error:  # cannot tell now: asked again at the next release
                logger.warning("notification look-up failed id=%s", pk, exc_info=error)
                if row.claimed_at < now - LOOK_UP_GIVES_UP_AFTER:
                    settled += _finish_row(row, status=Status.FAILED, last_error=INTERRUPTED)
                continue
            if provider_id is None:
                settled += _finish_row(
                    row, status=Status.PENDING, due_at=now, last_error=NEVER_RECEIVED
                )
            else:
                settled += _finish_row(
                    row,
                    status=Status.SENT,
                    provider_message_id=provider_id[:255],
                    sent_at=now,
                    last_error=FOUND_AT_THE_PROVIDER,
                )
    return settled


def _finish_row(row: Notification, **fields) -> int:
    return Notification.objects.filter(pk=row.pk, status=Status.SENDING).update(**fields)


def delivery_unknown():
    """Rows whose send was interrupted and that no provider could settle: staff decide
    (resend or not). The admin's front page counts them."""
    return Notification.objects.filter(status=Status.FAILED, last_error=INTERRUPTED)


def resend(*, ids: list[int], now: datetime | None = None) -> int:
    """Staff's "resend" (admin action): a failed row gets a fresh set of attempts."""
    return Notification.objects.filter(pk__in=ids, status=Status.FAILED).update(
        status=Status.PENDING, attempts=0, due_at=now or timezone.now(), claimed_at=None
    )
