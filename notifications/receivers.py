import logging
from uuid import UUID

from bookings import events
from notifications import services

logger = logging.getLogger("notifications")


def on_booking_confirmed(event: events.BookingConfirmed, correlation_id: UUID) -> None:
    # Never raises: a crash here would compensate (refund) a paid, confirmed booking.
    # The sweep writes the rows later from the event log.
    try:
        services.write_confirmation(
            correlation_id=correlation_id,
            booking_id=event.booking_id,
            appointment_start=event.appointment_start,
        )
    except Exception:
        logger.exception("notifications not written yet correlation_id=%s", correlation_id)


def on_payment_awaited(event: events.PaymentAwaited, correlation_id: UUID) -> None:
    # Never raises: a crash here must not undo a booking that is waiting to be paid.
    try:
        services.write_payment_due(correlation_id=correlation_id, expires_at=event.expires_at)
    except Exception:
        logger.exception("payment reminder not written correlation_id=%s", correlation_id)


def on_booking_cancelled(event: events.BookingCancelled, correlation_id: UUID) -> None:
    # Never raises, like the confirmation's: the sweep writes the notice later.
    try:
        services.write_for_cancelled(correlation_id=correlation_id)
    except Exception:
        logger.exception("cancellation notice not written yet correlation_id=%s", correlation_id)


def on_booking_rescheduled(event: events.BookingRescheduled, correlation_id: UUID) -> None:
    # Never raises: the move is done; the sweep writes the rows later from the event log.
    try:
        services.write_for_rescheduled(correlation_id=correlation_id, number=event.number)
    except Exception:
        logger.exception("reschedule notice not written yet correlation_id=%s", correlation_id)
