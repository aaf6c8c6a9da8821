from uuid import UUID

from bookings import events
from payments import services


def on_discount_quota_reserved(event: events.DiscountQuotaReserved, correlation_id: UUID) -> None:
    services.charge_booking(correlation_id=correlation_id, final_price=event.final_price)


def on_compensation_triggered(event: events.CompensationTriggered, correlation_id: UUID) -> None:
    services.reverse_payment(correlation_id=correlation_id)


def on_cancellation_requested(event: events.CancellationRequested, correlation_id: UUID) -> None:
    services.refund_cancellation(
        correlation_id=correlation_id,
        refund_amount=event.refund_amount,
        cancelled_by_staff=event.actor if event.by_staff else "",
    )
