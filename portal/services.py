"""What the edge does across participants: starting a booking (and taking its slot)."""

from collections.abc import Sequence
from datetime import date

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from bookings.log_context import saga_log_context
from bookings.models import Booking, MedicalService
from bookings.services import initiate_booking
from payments.gateway import get_gateway
from scheduling.services import SlotUnavailable, check_slot_serves, take_slot

__all__ = ["SlotUnavailable", "start_booking"]


def start_booking(
    *,
    user: AbstractBaseUser,
    patient_name: str,
    gender: str,
    date_of_birth: date,
    service_ids: Sequence[int],
    payment_token: str,
    request_key: str | None = None,
    slot_id: int | None = None,
) -> Booking:
    """Check what only payments and scheduling can judge, then start the saga.

    The booking insert (with BookingRequested) and the slot's conditional UPDATE share
    one transaction: a full, past or unknown slot raises SlotUnavailable and leaves no
    booking behind. The saga runs when that transaction commits.
    """
    # Input validation only (the gateway is asked nothing else here): an unknown token
    # is the patient's mistake, to be told now, not a failed payment later.
    if not get_gateway().accepts(payment_token):
        raise ValidationError({"payment_token": f"Unknown payment token {payment_token!r}."})
    needing_slot = list(
        MedicalService.objects.filter(
            pk__in=list(service_ids), active=True, requires_appointment=True
        ).values_list("pk", flat=True)
    )
    if needing_slot and slot_id is None:
        raise ValidationError(
            {"slot_id": "These services need an appointment: choose a slot (GET /api/slots)."}
        )
    if not needing_slot and slot_id is not None:
        # Refused rather than ignored: a client sending a time believes it booked one.
        raise ValidationError(
            {"slot_id": "None of these services takes an appointment: they are walk-in."}
        )
    if slot_id is not None:
        check_slot_serves(slot_id=slot_id, service_ids=needing_slot)
    # The saga runs as this transaction commits, inside the log context, so every
    # step's log line names the booking (as bookings does for a walk-in alone).
    with saga_log_context(step="bookings.request") as log_fields, transaction.atomic():
        booking = initiate_booking(
            user=user,
            patient_name=patient_name,
            gender=gender,
            date_of_birth=date_of_birth,
            service_ids=service_ids,
            payment_token=payment_token,
            request_key=request_key,
        )
        log_fields.update(booking_id=str(booking.pk), correlation_id=str(booking.correlation_id))
        if slot_id is not None:
            take_slot(slot_id=slot_id, booking_id=booking.pk, correlation_id=booking.correlation_id)
    return booking
