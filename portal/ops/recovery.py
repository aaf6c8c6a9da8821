"""Resuming sagas that a crash left half-way (`manage.py resume_sagas`).

The event log is durable before each signal is sent, so a process that dies
between two steps leaves a pending booking whose last event was never acted on.
Receivers are idempotent, so sending that event again resumes the saga where it
stopped. Past the hard deadline the saga is compensated instead of resumed. A
failed booking that still holds a discount or money (a compensation receiver
crashed) has its compensation sent again.

Safe on several hosts at once: a stuck booking is claimed in a short transaction
with SELECT … FOR UPDATE SKIP LOCKED, and the claim touches its `updated_at`, so
another host sees it as active and leaves it alone for SAGA_TIMEOUT_SECONDS. Sagas
are claimed one at a time, each right before it is worked on: a run slowed down by
one saga (a gateway or a mail server that hangs) never holds stale claims on the
others. No lock is held while the saga's own steps run (they update the same row).
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from bookings import events
from bookings.log_context import saga_log_context
from bookings.models import AuditLog, Booking, BookingStatus, SagaEvent
from bookings.selectors import saga_events
from payments.models import Payment, PaymentMethod, PaymentStatus, Refund
from payments.services import settle_pending_refunds
from quotas.models import QuotaReservation

logger = logging.getLogger("saga.recovery")

RECOVERY_FAILED_STEP = "recovery"
DEADLINE_REASON = "saga_deadline_passed"


@dataclass
class RecoverySummary:
    """What one run of resume_sagas did."""

    claimed: int = 0
    resumed: int = 0  # the last event (or an unfinished compensation) sent again
    compensated: int = 0  # past the hard deadline: compensation started by recovery
    confirmed: int = 0
    failed: int = 0
    still_pending: int = 0
    errors: list[str] = field(default_factory=list)

    def as_line(self) -> str:
        return (
            f"claimed={self.claimed} resumed={self.resumed} compensated={self.compensated} "
            f"confirmed={self.confirmed} failed={self.failed} "
            f"still_pending={self.still_pending} errors={len(self.errors)}"
        )


def claim_stuck_bookings(
    *, now: datetime, limit: int, exclude: set[UUID] | frozenset[UUID] = frozenset()
) -> list[UUID]:
    """Claim up to `limit` unfinished sagas with no progress for SAGA_TIMEOUT_SECONDS.

    Unfinished: pending, or failed while still holding a discount or money.

    One short transaction: rows another host holds are skipped, and the ones taken
    are touched so that no other host takes them again until the timeout has passed.
    """
    stuck_before = now - timedelta(seconds=settings.SAGA_TIMEOUT_SECONDS)
    # A failed booking still holding a discount or money: a compensation receiver
    # crashed (bookings marks the booking failed even so, as the last receiver).
    holding = Q(pk__in=QuotaReservation.objects.filter(released_at__isnull=True).values("booking"))
    holding |= Q(
        pk__in=Payment.objects.filter(
            status__in=(PaymentStatus.CAPTURED, PaymentStatus.PENDING)
        ).values("booking")
    )
    unfinished = Q(status=BookingStatus.PENDING) | (Q(status=BookingStatus.FAILED) & holding)
    with transaction.atomic():
        ids = list(
            Booking.objects.select_for_update(skip_locked=True)
            .filter(unfinished, created_at__lte=stuck_before, updated_at__lte=stuck_before)
            .exclude(pk__in=exclude)
            .order_by("created_at")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            Booking.objects.filter(pk__in=ids).update(updated_at=now)
    return ids


def _paid_online(row: SagaEvent) -> bool:
    return (
        row.event_type == events.PaymentCompleted.name
        and events.payload_of(row, events.PaymentCompleted).method == PaymentMethod.ONLINE
    )


def resume_saga(booking_id: UUID, *, now: datetime) -> str:
    """Send the stuck saga's last event again, or compensate it past the hard deadline.

    Returns what was done: "resumed", "compensated" or "" (it had ended meanwhile).
    """
    booking = Booking.objects.only("pk", "status", "correlation_id", "created_at").get(
        pk=booking_id
    )
    if booking.status == BookingStatus.CONFIRMED:
        return ""
    correlation_id = booking.correlation_id
    log = list(saga_events(correlation_id))
    compensation = next((e for e in log if e.event_type == events.CompensationTriggered.name), None)
    last = log[-1] if log else None
    deadline = booking.created_at + timedelta(seconds=settings.SAGA_HARD_DEADLINE_SECONDS)
    if last is not None and _paid_online(last):
        # Paid after waiting up to PAYMENT_HOLD_MINUTES: the deadline runs from the
        # capture, or a confirmation that crashed would be undone and the money refunded.
        deadline = last.created_at + timedelta(seconds=settings.SAGA_HARD_DEADLINE_SECONDS)

    if compensation is not None:
        # Compensation had started (a failed booking always has it): finish it, each
        # participant undoing its own part once.
        action, sent = "resumed", compensation.event_type
    elif now >= deadline or last is None:
        action, sent = "compensated", events.CompensationTriggered.name
    else:
        # Forward: the last event is the one whose listener never finished. A payment
        # whose outcome is unknown is settled by payments asking the gateway by its
        # idempotency key (payments.services.charge_booking), never charged twice.
        action, sent = "resumed", last.event_type

    AuditLog.record(
        actor="system:recovery",
        action=f"saga.{action}",
        obj=booking,
        correlation_id=correlation_id,
        before={"status": booking.status, "last_event": last.event_type if last else None},
        after={"sent": sent},
    )
    logger.info(
        "saga recovery action=%s event=%s correlation_id=%s",
        action,
        sent,
        correlation_id,
        extra={"event": sent, "step": f"recovery.{action}"},
    )
    if compensation is not None:
        events.replay(compensation)
    elif action == "compensated":
        events.trigger_compensation(
            correlation_id=correlation_id, reason=DEADLINE_REASON, failed_step=RECOVERY_FAILED_STEP
        )
    else:
        assert last is not None  # no event logged: compensated above
        events.replay(last)
    return action


def resume_stuck_sagas(*, now: datetime | None = None) -> RecoverySummary:
    """Find every stuck saga, resume or compensate it, and say how each one ended.

    One saga at a time: each is claimed (and stamped with the time of its claim) right
    before it is worked on, so a claim is never older than the work on its saga. A
    batch claimed up front and stamped with the start of the run would look abandoned
    to another host once the run took longer than SAGA_TIMEOUT_SECONDS.
    `now` fixes the run's clock (tests); by default each claim reads the clock afresh.
    """
    summary = RecoverySummary()
    seen: set[UUID] = set()
    while True:
        claimed_at = now or timezone.now()
        claimed = claim_stuck_bookings(now=claimed_at, limit=1, exclude=seen)
        if not claimed:
            return summary
        booking_id = claimed[0]
        seen.add(booking_id)
        summary.claimed += 1
        _resume_one(booking_id, now=claimed_at, summary=summary)


def _resume_one(booking_id: UUID, *, now: datetime, summary: RecoverySummary) -> None:
    correlation_id = (
        Booking.objects.filter(pk=booking_id).values_list("correlation_id", flat=True).first()
    )
    with saga_log_context(booking_id=str(booking_id), correlation_id=str(correlation_id)):
        try:
            action = resume_saga(booking_id, now=now)
        except Exception as error:  # one broken saga must not stop the others
            logger.exception("saga recovery error correlation_id=%s", correlation_id)
            summary.errors.append(f"{booking_id}: {type(error).__name__}: {error}")
            action = ""
            connection.close_if_unusable_or_obsolete()  # a dead connection: reconnect next
    if action == "resumed":
        summary.resumed += 1
    elif action == "compensated":
        summary.compensated += 1
    status = Booking.objects.filter(pk=booking_id).values_list("status", flat=True).first()
    if status == BookingStatus.CONFIRMED:
        summary.confirmed += 1
    elif status == BookingStatus.FAILED:
        summary.failed += 1
    else:
        summary.still_pending += 1


def resume_stuck_cancellations(*, now: datetime | None = None) -> tuple[int, int]:
    """Finish cancellations a crash left half-way, and retry refunds not yet made.

    A cancellation requested (its event logged) but not ended after SAGA_TIMEOUT_SECONDS
    has its CancellationRequested sent again: every receiver is idempotent (one refund
    per saga, by a unique key and the gateway's idempotency key), so a host that runs
    this twice, or beside another, refunds nothing twice. So has that of a cancelled
    booking whose promised refund was never recorded (the payments step failed and
    bookings marked it cancelled even so). Returns (resumed, refunded).
    """
    now = now or timezone.now()
    quiet_since = now - timedelta(seconds=settings.SAGA_TIMEOUT_SECONDS)
    stuck = Booking.objects.filter(
        status=BookingStatus.CONFIRMED, cancellation_requested_at__lt=quiet_since
    ).values_list("correlation_id", flat=True)
    logged = SagaEvent.objects.filter(
        correlation_id__in=list(stuck), event_type=events.CancellationRequested.name
    )
    resumed = 0
    for event_row in [*logged, *_cancelled_without_their_refund(quiet_since=quiet_since)]:
        with saga_log_context(correlation_id=event_row.correlation_id, step="recovery"):
            events.replay(event_row)
        resumed += 1
    refunded = settle_pending_refunds(not_touched_since=quiet_since)
    return resumed, refunded


def _cancelled_without_their_refund(*, quiet_since: datetime) -> list[SagaEvent]:
    """CancellationRequested of cancelled bookings whose promised refund has no Refund row.

    bookings marks the booking cancelled as the saga's last step even when the payments
    step raised (twice: a database blip), so the booking is no longer `confirmed` and only
    its log says money is owed. Sending the event again lets payments record and make the
    refund (once per saga: a unique key and the gateway's idempotency key); the other
    receivers have done their part and change nothing.
    """
    cancelled = Booking.objects.filter(
        status=BookingStatus.CANCELLED, updated_at__lt=quiet_since
    ).values("correlation_id")
    rows = (
        SagaEvent.objects.filter(
            event_type=events.CancellationRequested.name, correlation_id__in=cancelled
        )
        .exclude(correlation_id__in=Refund.objects.values("correlation_id"))
        .exclude(payload__refund_amount="0.00")  # nothing promised: nothing owed
    )
    return [
        row
        for row in rows
        if events.payload_of(row, events.CancellationRequested).refund_amount > 0
    ]
