"""Writing the outbox rows: on BookingConfirmed (receiver or sweep), and superseding them."""

import logging
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from bookings import events
from bookings.models import Booking, BookingStatus, SagaEvent
from notifications.messages import REFUND_NOTE_OCCURRENCE
from notifications.models import Channel, Kind, Notification, Status

logger = logging.getLogger("notifications")

REMINDERS = ((Kind.REMINDER_24H, timedelta(hours=24)), (Kind.REMINDER_2H, timedelta(hours=2)))
# How far back the sweep looks in the event log (a confirmation older than this is moot).
SWEEP_WINDOW = timedelta(days=7)


# Every booking gets a row on each channel; the sender, reading the patient's profile at
# send time, supersedes one with no address (no e-mail, no phone yet): so the step that
# writes them needs nothing but its event, and a phone added later still gets reminders.
CHANNELS = (Channel.EMAIL, Channel.SMS)


def planned_for_confirmed(
    *, booking_id: UUID | str, appointment_start: datetime | None, now: datetime
) -> list[Notification]:
    """The confirmation now, and the reminders still ahead of a future appointment."""
    planned = [(Kind.CONFIRMATION, now)]
    start = appointment_start
    if start is not None and start > now:
        # A reminder whose moment has passed (booked 5 h ahead: no "tomorrow" reminder) is skipped.
        planned += [(kind, start - before) for kind, before in REMINDERS if start - before > now]
    return [
        Notification(booking_id=booking_id, kind=kind, channel=channel, due_at=due_at)
        for kind, due_at in planned
        for channel in CHANNELS
    ]


def write_confirmation(
    *,
    correlation_id: UUID,
    booking_id: UUID | str,
    appointment_start: datetime | None,
    now: datetime | None = None,
) -> None:
    """The notifications step, from BookingConfirmed's payload: idempotent (the unique
    key ignores rows already there)."""
    now = now or timezone.now()
    with events.saga_step("notifications", correlation_id):
        # ON CONFLICT DO NOTHING: rows already written (receiver, sweep, replay) stay as they are.
        Notification.objects.bulk_create(
            planned_for_confirmed(
                booking_id=booking_id, appointment_start=appointment_start, now=now
            ),
            ignore_conflicts=True,
        )


def write_for_confirmed(*, correlation_id: UUID, now: datetime | None = None) -> None:
    """The same rows for a confirmed booking known only by its saga (the sweep)."""
    booking = (
        Booking.objects.filter(correlation_id=correlation_id, status=BookingStatus.CONFIRMED)
        .only("pk", "appointment_start")
        .first()
    )
    if booking is not None:
        write_confirmation(
            correlation_id=correlation_id,
            booking_id=booking.pk,
            appointment_start=booking.appointment_start,
            now=now,
        )


def write_payment_due(
    *, correlation_id: UUID, expires_at: datetime, now: datetime | None = None
) -> None:
    """On PaymentAwaited: one "finish your payment" message per channel, due a little
    later (PAYMENT_NUDGE_MINUTES, at most half the hold), so a patient who pays at once
    gets none: the sender supersedes it once the booking no longer awaits payment.
    Idempotent like the confirmation's (one row per booking, kind and channel)."""
    now = now or timezone.now()
    booking = (
        Booking.objects.filter(correlation_id=correlation_id, status=BookingStatus.AWAITING_PAYMENT)
        .only("pk")
        .first()
    )
    if booking is None:
        return  # paid or expired already: nothing to finish
    due_at = now + min(timedelta(minutes=settings.PAYMENT_NUDGE_MINUTES), (expires_at - now) / 2)
    with events.saga_step("notifications.payment_due", correlation_id):
        Notification.objects.bulk_create(
            [
                Notification(booking=booking, kind=Kind.PAYMENT_DUE, channel=channel, due_at=due_at)
                for channel in CHANNELS
            ],
            ignore_conflicts=True,
        )


def write_for_cancelled(*, correlation_id: UUID, now: datetime | None = None) -> None:
    """On BookingCancelled: the pending confirmation and reminders are superseded and the
    cancellation notice is written, in one step (idempotent like the confirmation's)."""
    now = now or timezone.now()
    booking = (
        Booking.objects.filter(correlation_id=correlation_id, status=BookingStatus.CANCELLED)
        .only("pk")
        .first()
    )
    if booking is None:
        return
    with events.saga_step("notifications.cancelled", correlation_id):
        supersede_pending(
            booking_id=booking.pk,
            kinds=(Kind.CONFIRMATION, Kind.REMINDER_24H, Kind.REMINDER_2H),
        )
        Notification.objects.bulk_create(
            [
                Notification(booking=booking, kind=Kind.CANCELLATION, channel=channel, due_at=now)
                for channel in CHANNELS
            ],
            ignore_conflicts=True,
        )


def write_for_rescheduled(
    *, correlation_id: UUID, number: int, now: datetime | None = None
) -> None:
    """On BookingRescheduled (the `number`-th move): the pending reminders of earlier
    times are superseded, and the notice of the move and the new time's reminders are
    written with `occurrence = number`, in one step (idempotent per move). A reminder
    of an earlier time that a worker already holds is refused by the sender."""
    now = now or timezone.now()
    booking = (
        Booking.objects.filter(
            correlation_id=correlation_id, status=BookingStatus.CONFIRMED, reschedules=number
        )
        .only("pk", "appointment_start")
        .first()
    )
    if booking is None:
        return  # moved again since, or cancelled: a later step writes what is wanted
    with events.saga_step("notifications.rescheduled", correlation_id):
        Notification.objects.filter(
            booking_id=booking.pk,
            kind__in=(Kind.REMINDER_24H, Kind.REMINDER_2H, Kind.RESCHEDULED),
            status=Status.PENDING,
            occurrence__lt=number,
        ).update(status=Status.SUPERSEDED, last_error="superseded: booking moved")
        planned = [(Kind.RESCHEDULED, now)]
        start = booking.appointment_start
        assert start is not None  # a booking moved to a slot has its times
        planned += [(kind, start - before) for kind, before in REMINDERS if start - before > now]
        Notification.objects.bulk_create(
            [
                Notification(
                    booking=booking, kind=kind, channel=channel, due_at=due_at, occurrence=number
                )
                for kind, due_at in planned
                for channel in CHANNELS
            ],
            ignore_conflicts=True,
        )


def write_for_late_refund(*, correlation_id: UUID, booking_id: UUID, now: datetime) -> None:
    """The refund notice (with its note's link) of a cancelled booking whose refund was
    made after its cancellation e-mail went: idempotent, like the others."""
    with events.saga_step("notifications.refund", correlation_id):
        Notification.objects.bulk_create(
            [
                Notification(booking_id=booking_id, kind=Kind.REFUND, channel=channel, due_at=now)
                for channel in CHANNELS
            ],
            ignore_conflicts=True,
        )


def sweep_confirmed_without_notifications(*, now: datetime | None = None) -> int:
    """Write the rows a lost signal never wrote: the event log is the durable record.

    A process that dies between the BookingConfirmed commit and its signal leaves a
    confirmed booking that nothing will resume; this finds it by its event.
    """
    now = now or timezone.now()
    confirmed_events = SagaEvent.objects.filter(
        correlation_id=OuterRef("correlation_id"),
        event_type=events.BookingConfirmed.name,
        created_at__gte=now - SWEEP_WINDOW,
    )
    written = 0  # bookings whose rows the sweep wrote
    missing = (
        Booking.objects.filter(Exists(confirmed_events), status=BookingStatus.CONFIRMED)
        .exclude(Exists(Notification.objects.filter(booking=OuterRef("pk"))))
        .values_list("correlation_id", flat=True)
    )
    for correlation_id in missing:
        write_for_confirmed(correlation_id=correlation_id, now=now)
        logger.info("notifications sweep wrote the rows correlation_id=%s", correlation_id)
        written += 1
    cancelled_events = SagaEvent.objects.filter(
        correlation_id=OuterRef("correlation_id"),
        event_type=events.BookingCancelled.name,
        created_at__gte=now - SWEEP_WINDOW,
    )
    unnoticed = (
        Booking.objects.filter(Exists(cancelled_events), status=BookingStatus.CANCELLED)
        .exclude(
            Exists(Notification.objects.filter(booking=OuterRef("pk"), kind=Kind.CANCELLATION))
        )
        .values_list("correlation_id", flat=True)
    )
    for correlation_id in unnoticed:
        write_for_cancelled(correlation_id=correlation_id, now=now)
        logger.info("notifications sweep wrote the notice correlation_id=%s", correlation_id)
        written += 1
    moved = (
        Booking.objects.filter(
            Exists(
                SagaEvent.objects.filter(
                    correlation_id=OuterRef("correlation_id"),
                    event_type=events.BookingRescheduled.name,
                    occurrence=OuterRef("reschedules"),
                    created_at__gte=now - SWEEP_WINDOW,
                )
            ),
            status=BookingStatus.CONFIRMED,
        )
        .exclude(
            Exists(
                Notification.objects.filter(
                    booking=OuterRef("pk"),
                    kind=Kind.RESCHEDULED,
                    occurrence=OuterRef("reschedules"),
                )
            )
        )
        .values_list("correlation_id", "reschedules")
    )
    for correlation_id, number in moved:
        write_for_rescheduled(correlation_id=correlation_id, number=number, now=now)
        logger.info("notifications sweep wrote the move's rows correlation_id=%s", correlation_id)
        written += 1
    for correlation_id, booking_id in refunded_after_the_notice(now=now):
        write_for_late_refund(correlation_id=correlation_id, booking_id=booking_id, now=now)
        logger.info("notifications sweep wrote a refund notice correlation_id=%s", correlation_id)
        written += 1
    return written


def refunded_after_the_notice(*, now: datetime):
    """(saga, booking) of cancelled bookings whose refund note was issued after their
    cancellation e-mail was taken to be written (it could not link the note: the refund
    was still on its way), and that have no refund notice yet. A refund made during the
    cancellation (the usual case) is linked by the cancellation e-mail itself."""
    notes = SagaEvent.objects.filter(
        correlation_id=OuterRef("correlation_id"),
        event_type=events.ReceiptIssued.name,
        occurrence=REFUND_NOTE_OCCURRENCE,
        created_at__gte=now - SWEEP_WINDOW,
    )
    return (
        Booking.objects.filter(Exists(notes), status=BookingStatus.CANCELLED)
        .annotate(note_at=Subquery(notes.values("created_at")[:1]))
        .filter(
            Exists(
                Notification.objects.filter(
                    booking=OuterRef("pk"),
                    kind=Kind.CANCELLATION,
                    channel=Channel.EMAIL,
                    claimed_at__lt=OuterRef("note_at"),
                )
            )
        )
        .exclude(Exists(Notification.objects.filter(booking=OuterRef("pk"), kind=Kind.REFUND)))
        .values_list("correlation_id", "pk")
    )


def supersede_pending(*, booking_id: UUID, kinds: tuple[str, ...]) -> int:
    """Pending rows of a cancelled or moved booking: call inside the transaction that
    records the cancellation or the move. A row already "sending" is left to the
    sender, which re-checks the booking under a row lock before the provider call."""
    return Notification.objects.filter(
        booking_id=booking_id, kind__in=kinds, status=Status.PENDING
    ).update(status=Status.SUPERSEDED, last_error="superseded: booking changed")
