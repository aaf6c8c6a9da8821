"""What the edge does across participants: starting a booking."""

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError

from bookings.models import Booking
from bookings.services import initiate_booking
from payments.gateway import get_gateway


def start_booking(
    *,
    user: AbstractBaseUser,
    patient_name: str,
    gender: str,
    date_of_birth: date,
    service_ids: Sequence[int],
    payment_token: str,
    request_key: str | None = None,
    expected_total: Decimal | None = None,
) -> Booking:
    """Check what only payments can judge, then let bookings start the saga."""
    # Input validation only (the gateway is asked nothing else here): an unknown token
    # is the patient's mistake, to be told now, not a failed payment later.
    if not get_gateway().accepts(payment_token):
        raise ValidationError({"payment_token": f"Unknown payment token {payment_token!r}."})
    return initiate_booking(
        user=user,
        patient_name=patient_name,
        gender=gender,
        date_of_birth=date_of_birth,
        service_ids=service_ids,
        payment_token=payment_token,
        request_key=request_key,
        expected_total=expected_total,
    )
