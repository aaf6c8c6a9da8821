"""A patient cancels from the booking page, seeing exactly what comes back first."""

from decimal import Decimal

import pytest
import time_machine

from bookings.models import Booking
from payments.models import Refund
from tests.support.clock import MORNING

pytestmark = pytest.mark.usefixtures("commits", "default_cancellation_policy", "morning")


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
    assert 'name="expected_refund" value="2100.00"' in confirm  # what the page shows
    done = client.post(
        f"/bookings/{booking.pk}/cancel/",
        {"reason": "better", "expected_refund": "2100.00"},
        follow=True,
    )

    assert "You get ₹2,100.00 back; ₹100.00 fee." in confirm
    assert "Your booking is cancelled. ₹2,100.00 was refunded to your card." in done.text
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


def test_past_a_tier_edge_the_lower_refund_is_shown_again_not_taken(client, user, book):
    booking = book(prices=("2500.00",))  # a walk-in: ₹2,200.00 paid, its visit ends at midnight
    client.force_login(user)
    with time_machine.travel(MORNING.replace(hour=17, minute=59), tick=False):
        confirm = client.get(f"/bookings/{booking.pk}/cancel/").text
    assert 'name="expected_refund" value="2100.00"' in confirm  # 6 hours' notice: less ₹100

    # The patient confirms a minute later: under 6 hours, half comes back.
    with time_machine.travel(MORNING.replace(hour=18, minute=0, second=30), tick=False):
        again = client.post(
            f"/bookings/{booking.pk}/cancel/",
            {"reason": "better", "expected_refund": "2100.00"},
        )
    assert again.status_code == 200
    assert "Less comes back now than the page showed: ₹1,100.00, not ₹2,100.00" in again.text
    assert "You get ₹1,100.00 back." in again.text
    assert 'name="expected_refund" value="1100.00"' in again.text
    assert ">better</textarea>" in again.text  # the reason kept
    assert Booking.objects.get(pk=booking.pk).status == "confirmed"
    assert not Refund.objects.exists()

    with time_machine.travel(MORNING.replace(hour=18, minute=1), tick=False):
        done = client.post(
            f"/bookings/{booking.pk}/cancel/",
            {"reason": "better", "expected_refund": "1100.00"},
            follow=True,
        )
    assert "Your booking is cancelled. ₹1,100.00 was refunded to your card." in done.text
    assert Refund.objects.get().amount == Decimal("1100.00")


def test_a_confirmation_without_the_amount_it_showed_cancels_nothing(client, user, book):
    booking = book(prices=("2500.00",))
    client.force_login(user)

    again = client.post(f"/bookings/{booking.pk}/cancel/", {"reason": "better"})

    assert again.status_code == 200
    assert "your booking is not cancelled yet" in again.text
    assert 'name="expected_refund" value="2100.00"' in again.text
    assert Booking.objects.get(pk=booking.pk).status == "confirmed"


def test_more_back_than_shown_is_no_reason_to_stop(client, user, book):
    booking = book(prices=("2500.00",))
    client.force_login(user)
    client.post(f"/bookings/{booking.pk}/cancel/", {"expected_refund": "2000.00"})
    assert Refund.objects.get().amount == Decimal("2100.00")


def test_a_partly_refunded_booking_says_how_much_of_what_was_paid_came_back(client, user, book):
    """Issue 25: a cancelled booking showed "₹2,200.00" beside "Cancelled", not what came
    back; the quote said "100.00% of ₹2,200.00"."""
    booking = book(prices=("2500.00",))  # ₹2,200.00 paid; this morning a ₹100.00 fee
    client.force_login(user)
    confirm = client.get(f"/bookings/{booking.pk}/cancel/").text
    said = "At least 6 hours before the visit: all of ₹2,200.00 comes back, less a ₹100.00 fee."
    assert said in confirm
    assert "100.00%" not in confirm
    client.post(f"/bookings/{booking.pk}/cancel/", {"expected_refund": "2100.00"})

    listed = client.get("/bookings/").text
    assert "₹2,100.00 of ₹2,200.00 refunded" in listed
    page = client.get(f"/bookings/{booking.pk}/")
    assert page.context["refund"] == {"amount": Decimal("2100.00"), "status": "refunded"}
    assert 'class="total refund-row"><th scope="row">Refunded</th>' in page.text


@pytest.mark.parametrize(
    ("method", "said"),
    [
        ("card", "₹2,100.00 was refunded to your card."),
        ("online", "₹2,100.00 was refunded to the account you paid from."),
        ("cash", "₹2,100.00 was given back in cash at the desk."),
    ],
)
def test_a_cancelled_booking_says_where_the_money_goes_back(client, user, book, method, said):
    from portal.flows import cancel_booking

    booking = book(prices=("2500.00",))
    cancel_booking(booking=booking, actor=user.username, by_staff=False, reason="plans")
    # Only the words depend on how it was paid (each method's refund has tests of its own).
    booking.payment.__class__.objects.filter(pk=booking.payment.pk).update(method=method)
    client.force_login(user)

    page = client.get(f"/bookings/{booking.pk}/").text

    assert said in page


@pytest.mark.parametrize(
    ("method", "patient_said", "staff_said"),
    [
        ("card", "₹2,100.00 went back to your card.", "₹2,100.00 back to the card."),
        (
            "online",
            "₹2,100.00 went back to the account you paid from.",
            "₹2,100.00 back to the paying account (Razorpay).",
        ),
        ("cash", "₹2,100.00 was given back in cash at the desk.", "₹2,100.00 handed back in cash."),
    ],
)
def test_the_story_of_a_refund_says_where_the_money_went(
    user, book, method, patient_said, staff_said
):
    from portal.flows import cancel_booking
    from portal.presentation import staff_story, timeline

    booking = book(prices=("2500.00",))
    cancel_booking(booking=booking, actor=user.username, by_staff=False, reason="plans")
    booking.payment.__class__.objects.filter(pk=booking.payment.pk).update(method=method)
    booking = Booking.objects.get(pk=booking.pk)

    assert [e.detail for e in timeline(booking) if e.title == "Refund made"] == [patient_said]
    assert [e.detail for e in staff_story(booking) if e.title == "Refund made"] == [staff_said]
