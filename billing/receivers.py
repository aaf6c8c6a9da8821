from uuid import UUID

from billing import services
from bookings import events


def on_payment_completed(event: events.PaymentCompleted, correlation_id: UUID) -> None:
    services.issue_receipt(
        correlation_id=correlation_id,
        booking_id=event.booking_id,
        payment_id=event.payment_id,
        amount=event.amount,
        method=event.method,
        instrument=event.instrument,
    )


def on_payment_refunded(event: events.PaymentRefunded, correlation_id: UUID) -> None:
    services.issue_refund_note(
        correlation_id=correlation_id, refund_id=event.refund_id, amount=event.amount
    )
