"""The last step: a confirmation code and the booking confirmed.

It sends nothing itself: `notifications` hears BookingConfirmed and writes the
e-mail and SMS into its outbox, which the worker sends.
"""

import logging
import secrets
from datetime import datetime
from uuid import UUID

from django.db import IntegrityError
from django.utils import timezone

from bookings import events
from bookings.models import Booking, BookingStatus

logger = logging.getLogger("saga")

# No 0/O, 1/I/L: a code read out over the phone at reception must not be misheard.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8


def generate_confirmation_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def confirm_booking(
    *, correlation_id: UUID, booking_id: UUID, appointment_start: datetime | None
) -> None:
    for _attempt in range(5):
        try:
            _confirm(
                correlation_id,
                code=generate_confirmation_code(),
                booking_id=booking_id,
                appointment_start=appointment_start,
            )
            return
        except IntegrityError as error:
            if "confirmation_code" not in str(error):
                raise
            continue  # two bookings drew the same code: draw again
    raise RuntimeError("could not draw a unique confirmation code")


def _confirm(
    correlation_id: UUID, *, code: str, booking_id: UUID, appointment_start: datetime | None
) -> None:
    # No AuditLog row: BookingConfirmed is the record (DESIGN.md, Logs).
    with events.saga_step("confirmations", correlation_id):
        # One conditional UPDATE on the current state (DESIGN.md, terminal states are
        # exclusive): a compensation marks the booking `compensating` by the mirror
        # UPDATE, so whichever of the two commits second changes no row.
        confirmable = Booking.objects.filter(
            pk=booking_id, status=BookingStatus.PENDING, compensating=False
        )
        if not confirmable.update(
            status=BookingStatus.CONFIRMED, confirmation_code=code, updated_at=timezone.now()
        ):
            return  # failed, or being compensated: it must not be confirmed now
        events.emit(
            events.BookingConfirmed(
                confirmation_code=code, booking_id=booking_id, appointment_start=appointment_start
            ),
            correlation_id=correlation_id,
        )
