from uuid import UUID

from bookings import events, services


def on_compensation_triggered(event: events.CompensationTriggered, correlation_id: UUID) -> None:
    services.fail_booking(correlation_id=correlation_id, reason=event.reason)


def on_cancellation_requested(event: events.CancellationRequested, correlation_id: UUID) -> None:
    services.mark_cancelled(
        correlation_id=correlation_id, reason=event.reason, refund_amount=event.refund_amount
    )
