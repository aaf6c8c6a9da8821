from uuid import UUID

from bookings import events
from confirmations import services


def on_payment_completed(event: events.PaymentCompleted, correlation_id: UUID) -> None:
    services.confirm_booking(
        correlation_id=correlation_id,
        booking_id=event.booking_id,
        appointment_start=event.appointment_start,
    )
