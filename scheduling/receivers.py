from uuid import UUID

from bookings import events
from scheduling import services


def on_compensation_triggered(event: events.CompensationTriggered, correlation_id: UUID) -> None:
    services.release_slot(correlation_id=correlation_id)


def on_cancellation_requested(event: events.CancellationRequested, correlation_id: UUID) -> None:
    services.release_on_cancellation(correlation_id=correlation_id)
