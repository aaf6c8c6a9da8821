"""The same request sent twice (a double click) makes one booking and one charge."""

import pytest

from bookings.models import Booking
from payments.models import Payment, SimulatedGatewayCharge
from portal.flows import start_booking
from tests.support.factories import ADULT_BIRTHDAY
from tests.support.racing import at_once

pytestmark = pytest.mark.usefixtures("commits")


def submit(user, service, key):
    return start_booking(
        user=user,
        patient_name="Asha Verma",
        gender="female",
        date_of_birth=ADULT_BIRTHDAY,
        service_ids=[service.pk],
        payment_token="tok_visa",
        request_key=key,
    )


def test_a_repeated_request_key_returns_the_first_booking(user, service_priced):
    service = service_priced("500.00")
    first = submit(user, service, "form-123")
    again = submit(user, service, "form-123")
    assert again.pk == first.pk
    assert Booking.objects.count() == 1
    assert Payment.objects.count() == 1


def test_the_same_key_from_another_user_is_another_booking(user, service_priced):
    from tests.support.factories import UserFactory

    service = service_priced("500.00")
    mine = submit(user, service, "form-123")
    theirs = submit(UserFactory(), service, "form-123")
    assert mine.pk != theirs.pk


@pytest.mark.django_db(transaction=True)  # threads, or a dropped connection
def test_parallel_duplicates_make_one_booking_and_one_charge(user, service_priced):
    service = service_priced("2500.00")
    results = at_once([lambda: submit(user, service, "double-click").pk] * 8)

    assert len(set(results)) == 1
    assert Booking.objects.count() == 1
    assert Payment.objects.count() == 1
    assert SimulatedGatewayCharge.objects.count() == 1
    assert Booking.objects.get().status == "confirmed"
