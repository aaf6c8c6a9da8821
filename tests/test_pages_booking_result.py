"""The result page and "My bookings": what happened, in plain words, to one's own bookings only."""

import pytest
from django.utils import timezone

from bookings.models import Booking, BookingStatus, SagaEvent
from bookings.money import format_inr as inr
from tests.support.factories import UserFactory

pytestmark = pytest.mark.usefixtures("commits")


def test_confirmed_result_shows_code_amounts_and_timeline_in_ist(client, user, book):
    booking = book(prices=("700.00", "500.00"))
    client.force_login(user)
    response = client.get(f"/bookings/{booking.pk}/")
    page = response.content.decode()
    assert "Booking confirmed" in page
    assert booking.confirmation_code in page
    assert "₹1,200.00" in page  # base
    assert "₹144.00" in page  # 12% discount
    assert "₹1,056.00" in page  # paid
    assert "because the base price is above ₹1,000.00" in page
    # The patient's story: what they asked for, what they paid, what happens next.
    titles = [entry.title for entry in response.context["timeline"]]
    assert titles == ["You asked for", "You paid", "Booking confirmed", "What happens next"]
    assert "Show your code at reception" in page
    assert "Discount reserved" not in page and "Price worked out" not in page
    first = SagaEvent.objects.filter(correlation_id=booking.correlation_id).earliest("sequence")
    ist = timezone.localtime(first.created_at)
    assert ist.utcoffset().total_seconds() == 5.5 * 3600
    assert f"{ist:%H:%M:%S} IST" in page


def test_declined_result_shows_reason_and_compensation_plainly(client, user, book):
    booking = book(prices=("1500.00",), payment_token="tok_chargeDeclined")
    client.force_login(user)
    response = client.get(f"/bookings/{booking.pk}/")
    page = response.content.decode()
    assert "you were not charged" in page
    assert "The card was declined by the bank." in page
    titles = [e.title for e in response.context["timeline"]]
    assert titles == [
        "You asked for",
        "Payment did not go through",
        "Booking not made",
        "What happens next",
    ]
    # The machinery stays in the admin's trail.
    for word in ("Compensation", "given back", "pool", "Undo", "reserved"):
        assert word not in page


def test_not_eligible_result_says_why_there_is_no_discount(client, user, book):
    booking = book(prices=("300.00",))
    client.force_login(user)
    page = client.get(f"/bookings/{booking.pk}/").content.decode()
    assert "No discount: the base price is not above ₹1,000.00" in page


def test_quota_exhausted_result_says_the_discounts_ran_out(client, user, book, set_default_limit):
    set_default_limit(0)
    booking = book(prices=("1500.00",))
    assert booking.quota_exhausted
    client.force_login(user)
    page = client.get(f"/bookings/{booking.pk}/").content.decode()
    assert "today&#x27;s discounts were all used up" in page
    assert "No discount left today" not in page  # the machinery's words stay in the admin


def test_another_patients_booking_is_not_found(client, book):
    booking = book()
    client.force_login(UserFactory())
    response = client.get(f"/bookings/{booking.pk}/")
    assert response.status_code == 404
    assert "We could not find that page" in response.content.decode()


def test_a_non_uuid_booking_id_is_not_found(client, user):
    client.force_login(user)
    assert client.get("/bookings/not-a-uuid/").status_code == 404
    assert client.get("/bookings/12345/").status_code == 404


def test_the_result_page_needs_a_login(client, book):
    booking = book()
    response = client.get(f"/bookings/{booking.pk}/")
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_a_pending_booking_refreshes_itself(client, user, book):
    booking = book()
    Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.PENDING)
    client.force_login(user)
    page = client.get(f"/bookings/{booking.pk}/").content.decode()
    assert "Processing your payment" in page
    assert '<meta http-equiv="refresh" content="3">' in page


def test_my_bookings_lists_only_mine_newest_first_with_links(client, user, book):
    first = book()
    second = book(payment_token="tok_chargeDeclined")
    other = book(by=UserFactory())
    client.force_login(user)
    response = client.get("/bookings/")
    listed = list(response.context["page"])
    assert listed == [second, first]
    page = response.content.decode()
    assert f"/bookings/{first.pk}/" in page and f"/bookings/{other.pk}/" not in page
    assert "Confirmed" in page and "Payment failed" in page
    # Visible to everyone, not only to screen readers.
    assert f"{inr(second.final_price)} not charged</span>" in page


def test_my_bookings_is_paginated_by_ten(client, user, book, service_priced):
    service = service_priced("100.00")
    for _ in range(12):
        book(services=[service])
    client.force_login(user)
    first_page = client.get("/bookings/")
    assert len(first_page.context["page"]) == 10
    assert "Page 1 of 2" in first_page.content.decode()
    second_page = client.get("/bookings/?page=2")
    assert len(second_page.context["page"]) == 2
    oldest = Booking.objects.order_by("created_at").first()
    assert list(second_page.context["page"])[-1] == oldest
    assert client.get("/bookings/?page=zzz").status_code == 200  # a bad page number is page 1


def test_my_bookings_when_empty_invites_to_book(client, user):
    client.force_login(user)
    assert "You have no bookings yet" in client.get("/bookings/").content.decode()


def test_my_bookings_shows_services_and_codes_in_a_constant_number_of_queries(
    client, user, book, service_priced
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    service = service_priced("100.00", name="Counted service")
    client.force_login(user)
    first = book(services=[service])
    with CaptureQueriesContext(connection) as one:
        page = client.get("/bookings/").content.decode()
    for _ in range(4):
        book(services=[service])
    with CaptureQueriesContext(connection) as five:
        client.get("/bookings/")
    assert len(five) == len(one)
    assert "Counted service" in page
    assert first.confirmation_code in page


def test_a_technical_failure_is_explained_without_jargon(client, user, book):
    booking = book()
    Booking.objects.filter(pk=booking.pk).update(
        status=BookingStatus.FAILED,
        compensating=True,
        confirmation_code=None,
        failure_reason="internal_error in confirmations",
    )
    client.force_login(user)
    page = client.get(f"/bookings/{booking.pk}/").content.decode()
    assert "A technical problem on our side stopped the booking" in page
    assert "internal_error" not in page
