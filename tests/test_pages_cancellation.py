"""A patient cancels from the booking page, seeing exactly what comes back first."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from bookings.models import Booking
from payments.models import Refund

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("default_cancellation_policy"),
]

MORNING = datetime(2026, 12, 10, 8, 0, tzinfo=ZoneInfo("Asia/Kolkata"))


@pytest.fixture(autouse=True)
def morning():
    with time_machine.travel(MORNING, tick=True):
        yield


def test_the_booking_page_offers_cancelling_with_the_refund_in_words(client, user, book):
    booking = book(prices=("2500.00",))
    client.force_login(user)

    page = client.get(f"/bookings/{booking.pk}/").text

    assert "If you cancel now you get ₹2,100.00 back; ₹100.00 fee." in page
    assert "This holds until 10 Dec 2026, 18:00 IST." in page
    assert f'href="/bookings/{booking.pk}/cancel/"' in page


def test_the_patient_confirms_and_sees_the_refund(client, user, book):
    booking = book(prices=("2500.00",))
    client.force_login(user)

    confirm = client.get(f"/bookings/{booking.pk}/cancel/").text
    done = client.post(f"/bookings/{booking.pk}/cancel/", {"reason": "better"}, follow=True)

    assert "You get ₹2,100.00 back; ₹100.00 fee." in confirm
    assert "Your booking is cancelled. ₹2,100.00 is back on your card." in done.text
    assert "Booking cancelled" in done.text
    assert Booking.objects.get(pk=booking.pk).status == "cancelled"
    assert Refund.objects.get().status == "refunded"


def test_another_patients_booking_cannot_be_cancelled(client, book):
    from tests.support.factories import UserFactory

    booking = book(prices=("500.00",))
    client.force_login(UserFactory())
    assert client.post(f"/bookings/{booking.pk}/cancel/").status_code == 404
    assert Booking.objects.get(pk=booking.pk).status == "confirmed"


def test_a_failed_booking_offers_no_cancel_and_refuses_one(client, user, book):
    booking = book(prices=("500.00",), payment_token="tok_chargeDeclined")
    client.force_login(user)

    assert "Cancel this booking" not in client.get(f"/bookings/{booking.pk}/").text
    refused = client.post(f"/bookings/{booking.pk}/cancel/", follow=True)
    assert "This booking failed; nothing was charged." in refused.text
    assert not Refund.objects.exists()
