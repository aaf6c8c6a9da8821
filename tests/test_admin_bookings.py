"""The bookings pages of the admin: list, filters, search, detail with the saga; read-only."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bookings.models import Booking, SagaEvent
from tests.support.admin_helpers import staff_member, superuser

CHANGELIST = "admin:bookings_booking_changelist"


@pytest.fixture
def bookings(book, set_default_limit):
    """One discounted, one at full price because the quota ran out, one declined."""
    set_default_limit(1)
    discounted = book(prices=("2500.00",))
    exhausted = book(prices=("1800.00",))
    declined = book(prices=("600.00",), payment_token="tok_chargeDeclined")
    return discounted, exhausted, declined


@pytest.fixture
def reception(client):
    client.force_login(staff_member("Reception"))
    return client


def listed(response) -> set[str]:
    """Ids of the bookings on a changelist page."""
    return set(re.findall(r"/admin/bookings/booking/([0-9a-f-]{36})/change/", response.text))


@pytest.mark.usefixtures("commits")
def test_the_list_shows_patient_services_status_money_in_rupees_code_and_ist_time(
    reception, bookings
):
    discounted, exhausted, declined = bookings
    response = reception.get(reverse(CHANGELIST))
    assert response.status_code == 200
    page = response.text
    assert "Asha Verma" in page
    assert discounted.items.get().name in page
    assert "₹2,200.00" in page  # 2500 less 12%
    assert "₹300.00 (12.00%)" in page  # under the price, in the same column
    assert "none: quota exhausted" in page
    assert "₹1,800.00" in page
    assert discounted.confirmation_code in page
    assert "IST" in page
    assert listed(response) == {str(b.pk) for b in bookings}


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status__exact": "confirmed"}, {0, 1}),
        ({"status__exact": "failed"}, {2}),
        ({"discount_applied__exact": "1"}, {0}),
        ({"quota_exhausted__exact": "1"}, {1}),
        ({"quota_exhausted__exact": "0"}, {0, 2}),
    ],
)
def test_each_filter_narrows_the_list(reception, bookings, query, expected):
    response = reception.get(reverse(CHANGELIST), query)
    assert response.status_code == 200
    assert listed(response) == {str(bookings[i].pk) for i in expected}


@pytest.mark.usefixtures("commits")
def test_the_clinic_day_filter_keeps_today_and_drops_other_days(reception, bookings):
    today = bookings[0].clinic_day
    Booking.objects.filter(pk=bookings[2].pk).update(clinic_day=today.replace(year=today.year - 1))
    response = reception.get(
        reverse(CHANGELIST),
        {"clinic_day__gte": today.isoformat(), "clinic_day__lt": "9999-12-31"},
    )
    assert response.status_code == 200
    assert listed(response) == {str(bookings[0].pk), str(bookings[1].pk)}
    assert reception.get(reverse(CHANGELIST), {"clinic_day": today.isoformat()}).status_code == 200


@pytest.mark.usefixtures("commits")
def test_search_finds_by_patient_name_code_booking_id_and_correlation_id(reception, book, bookings):
    other = book(prices=("400.00",))
    Booking.objects.filter(pk=other.pk).update(patient_name="Ravi Kumar")
    discounted = bookings[0]

    def search(term: str) -> set[str]:
        response = reception.get(reverse(CHANGELIST), {"q": term})
        assert response.status_code == 200
        return listed(response)

    assert search("ravi") == {str(other.pk)}
    assert search(discounted.confirmation_code.lower()) == {str(discounted.pk)}
    assert search(str(discounted.pk)) == {str(discounted.pk)}
    assert search(str(discounted.correlation_id)) == {str(discounted.pk)}
    assert search("no such patient") == set()


@pytest.mark.usefixtures("commits")
def test_the_detail_shows_items_payment_and_the_saga_events_in_order(client, bookings):
    declined = bookings[2]
    client.force_login(staff_member("Clinic manager"))  # the events are technical details
    response = client.get(reverse("admin:bookings_booking_change", args=[declined.pk]))
    assert response.status_code == 200
    page = response.text
    assert declined.items.get().name in page
    assert "₹600.00" in page
    assert "The card was declined by the bank." in page  # in words for everyone
    assert "card_declined" in page  # the code too, in the manager's technical details
    types = list(
        SagaEvent.objects.filter(correlation_id=declined.correlation_id)
        .order_by("sequence")
        .values_list("event_type", flat=True)
    )
    assert types[0] == "BookingRequested" and types[-1] == "BookingFailed"
    timeline = page[page.index('class="saga-timeline"') :]
    positions = [timeline.index(f"<strong>{t}</strong>") for t in types]
    assert positions == sorted(positions)
    # Read-only: no form inputs for the booking's own fields, no save or delete.
    assert 'name="final_price"' not in page
    assert 'name="_save"' not in page
    assert "deletelink" not in page


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("who", ["Reception", "superuser"])
def test_a_crafted_post_cannot_change_a_booking(client, bookings, who):
    client.force_login(superuser() if who == "superuser" else staff_member(who))
    booking = bookings[0]
    url = reverse("admin:bookings_booking_change", args=[booking.pk])
    response = client.post(
        url,
        {"status": "failed", "final_price": "1.00", "patient_name": "Changed", "_save": "Save"},
    )
    assert response.status_code == 403
    booking_after = Booking.objects.get(pk=booking.pk)
    assert (booking_after.status, booking_after.final_price, booking_after.patient_name) == (
        booking.status,
        booking.final_price,
        booking.patient_name,
    )


@pytest.mark.usefixtures("commits")
def test_bookings_can_be_neither_added_nor_deleted_even_by_a_superuser(client, bookings):
    client.force_login(superuser())
    booking = bookings[0]
    assert client.get(reverse("admin:bookings_booking_add")).status_code == 403
    delete_url = reverse("admin:bookings_booking_delete", args=[booking.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    bulk = client.post(
        reverse(CHANGELIST),
        {"action": "delete_selected", "_selected_action": [str(booking.pk)], "post": "yes"},
    )
    assert bulk.status_code in (200, 302)
    assert Booking.objects.filter(pk=booking.pk).exists()


@pytest.mark.usefixtures("commits")
def test_the_list_costs_the_same_queries_for_three_bookings_as_for_nine(reception, book):
    def page_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = reception.get(reverse(CHANGELIST))
        assert response.status_code == 200
        return len(queries)

    for _ in range(3):
        book(prices=("500.00", "700.00"))
    with_three = page_queries()
    for _ in range(6):
        book(prices=("500.00", "700.00"))
    assert page_queries() == with_three
    # Measured: 10 (session, user and permissions, counts, the date hierarchy, the
    # page and one prefetch of all its items). Raise only with a reason.
    assert with_three <= 10
