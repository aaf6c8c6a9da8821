"""Documents a crash left unissued, issued from the event log (run by resume_sagas).

billing issues a receipt on PaymentCompleted after confirmations, and a refund note on
PaymentRefunded. A process that dies after the confirmation (or the refund) committed
but before billing's step leaves no pending saga to resume, so, as the notifications
sweep does for the outbox, this looks in the log for the payments and refunds with no
ReceiptIssued yet and hands their logged event to billing's receiver again. A second
host doing the same at once is harmless: one document per payment (or refund) is a
unique constraint, and the loser's step, its number with it, is rolled back.
"""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.utils import timezone

from billing import receivers
from billing.services import RECEIPT_OCCURRENCE, REFUND_NOTE_OCCURRENCE, WAS_CONFIRMED
from bookings import events
from bookings.models import Booking, SagaEvent

BATCH = 500


def issue_missing_documents(*, now: datetime | None = None) -> int:
    """Hand billing the PaymentCompleted (of bookings that confirmed) and PaymentRefunded
    events, quiet for SAGA_TIMEOUT_SECONDS, that have no ReceiptIssued. Returns how many."""
    quiet_since = (now or timezone.now()) - timedelta(seconds=settings.SAGA_TIMEOUT_SECONDS)
    handed = 0
    steps: tuple[tuple[type[events.Payload], int, Callable[[Any, UUID], None]], ...] = (
        (events.PaymentCompleted, RECEIPT_OCCURRENCE, receivers.on_payment_completed),
        (events.PaymentRefunded, REFUND_NOTE_OCCURRENCE, receivers.on_payment_refunded),
    )
    for event, occurrence, receiver in steps:
        issued = SagaEvent.objects.filter(
            event_type=events.ReceiptIssued.name, occurrence=occurrence
        ).values("correlation_id")
        confirmed = Booking.objects.filter(status__in=WAS_CONFIRMED).values("correlation_id")
        missing = (
            SagaEvent.objects.filter(event_type=event.name, created_at__lt=quiet_since)
            .filter(correlation_id__in=confirmed)
            .exclude(correlation_id__in=issued)
            .order_by("created_at")[:BATCH]
        )
        for row in missing:
            receiver(events.payload_of(row, event), row.correlation_id)
            handed += 1
    return handed
