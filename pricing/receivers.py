from uuid import UUID

from bookings import events
from pricing import services


def on_booking_requested(event: events.BookingRequested, correlation_id: UUID) -> None:
    services.calculate_price(correlation_id=correlation_id, requested=event)
