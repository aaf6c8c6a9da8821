"""Reads of the kernel's rows that several apps need."""

from uuid import UUID

from django.db.models import QuerySet

from bookings.models import SagaEvent


def saga_events(correlation_id: UUID) -> QuerySet[SagaEvent]:
    """A saga's events in the order they happened."""
    return SagaEvent.objects.filter(correlation_id=correlation_id).order_by("sequence")
