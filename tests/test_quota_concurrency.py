"""Many patients race for the last discounts at once, each on its own connection."""

from decimal import Decimal

import pytest

from bookings.models import Booking, BookingStatus
from payments.models import Payment, PaymentStatus
from portal.flows import start_booking
from portal.ops.invariants import find_violations
from quotas.models import DiscountQuota, QuotaReservation
from tests.support.factories import ADULT_BIRTHDAY
from tests.support.racing import at_once

RACERS = 50
LIMIT = 10


@pytest.mark.django_db(transaction=True)
def test_fifty_parallel_eligible_bookings_get_exactly_the_limit_of_discounts(
    user, service_priced, set_default_limit
):
    set_default_limit(LIMIT)
    mri = service_priced("2500.00")

    def book():
        start_booking(
            user=user,
            patient_name="Racer",
            gender="male",
            date_of_birth=ADULT_BIRTHDAY,
            service_ids=[mri.pk],
            payment_token="tok_visa",
        )

    at_once([book] * RACERS)

    bookings = Booking.objects.all()
    assert bookings.count() == RACERS
    assert bookings.filter(status=BookingStatus.CONFIRMED).count() == RACERS
    assert bookings.filter(discount_applied=True).count() == LIMIT
    assert bookings.filter(quota_exhausted=True).count() == RACERS - LIMIT
    quota = DiscountQuota.objects.get()
    assert (quota.used, quota.limit) == (LIMIT, LIMIT)
    assert QuotaReservation.objects.filter(released_at__isnull=True).count() == LIMIT
    assert Payment.objects.filter(status=PaymentStatus.CAPTURED).count() == RACERS
    assert Payment.objects.filter(amount=Decimal("2200.00")).count() == LIMIT
    assert find_violations() == []
