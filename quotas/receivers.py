from uuid import UUID

from bookings import events
from quotas import services


def on_pricing_calculated(event: events.PricingCalculated, correlation_id: UUID) -> None:
    services.reserve_discount(correlation_id=correlation_id, priced=event)


def on_compensation_triggered(event: events.CompensationTriggered, correlation_id: UUID) -> None:
    services.release_discount(correlation_id=correlation_id)


def on_cancellation_requested(event: events.CancellationRequested, correlation_id: UUID) -> None:
    services.release_on_cancellation(correlation_id=correlation_id, requested_on=event.requested_on)
