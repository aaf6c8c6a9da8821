"""The admin in the clinic's words (issue 17): no rule numbers or reason codes for
Reception; ids, events and payloads folded into "Technical details" for managers only."""

import re

import pytest
from django.urls import reverse

from tests.support.admin_helpers import staff_member

DEVELOPER_WORDS = ("rule R1", "rule R2", "base_price_above_threshold", "card_declined")


def login(client, group: str):
    client.force_login(staff_member(group))
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("group", ["Reception", "Clinic manager"])
def test_the_app_names_are_plain_words(client, group):
    page = login(client, group).get(reverse("admin:index")).text
    assert "Prices and refunds" in page and "Discounts per day" in page
    assert "(rule R" not in page


@pytest.mark.usefixtures("commits")
def test_reception_reads_a_booking_in_words_without_technical_details(client, book):
    booking = book(prices=("2500.00",))
    declined = book(prices=("600.00",), payment_token="tok_chargeDeclined")
    reception = login(client, "Reception")
    page = reception.get(reverse("admin:bookings_booking_change", args=[booking.pk])).text
    assert "₹300.00 off (12%), because the base price is above ₹1,000.00." in page
    assert "What happened" in page and "Booking confirmed" in page
    assert "Walk-in (no appointment)" in page
    for hidden in (*DEVELOPER_WORDS, str(booking.correlation_id), "Technical details"):
        assert hidden not in page
    assert "Saga events" not in page and reverse("admin:bookings_auditlog_changelist") not in page

    failed = reception.get(reverse("admin:bookings_booking_change", args=[declined.pk])).text
    assert "The card was declined by the bank." in failed
    assert "card_declined" not in failed


@pytest.mark.usefixtures("commits")
def test_the_manager_finds_ids_events_and_audit_rows_in_a_collapsed_part(client, book):
    booking = book(prices=("2500.00",))
    page = (
        login(client, "Clinic manager")
        .get(reverse("admin:bookings_booking_change", args=[booking.pk]))
        .text
    )
    fieldset = page[page.index("Technical details") - 400 :]
    assert re.search(r'<fieldset class="module aligned collapse', fieldset)
    assert str(booking.correlation_id) in fieldset
    assert '<details class="module" id="technical-details">' in page  # closed by default
    details = page[page.index('id="technical-details"') :]
    assert "BookingConfirmed" in details and "<pre" in details  # the raw payloads
    assert reverse("admin:bookings_auditlog_changelist") in details


@pytest.mark.django_db
def test_receptions_front_page_lists_the_desk_and_nothing_technical(client):
    page = login(client, "Reception").get(reverse("admin:index")).text
    assert reverse("front_desk") in page
    for lists in ("bookings/booking/", "bookings/patientprofile/", "quotas/discountquota/"):
        assert f"/admin/{lists}" in page
    assert "payments/refund/" in page and "notifications/notification/" in page
    for technical in ("sagaevent", "auditlog", "simulatedgatewaycharge", "django_q", "axes"):
        assert f"/{technical}/" not in page and f"/admin/{technical}" not in page


@pytest.mark.django_db
def test_the_manager_keeps_the_technical_lists(client):
    page = login(client, "Clinic manager").get(reverse("admin:index")).text
    for technical in ("sagaevent", "auditlog", "simulatedgatewaycharge"):
        assert f"/{technical}/" in page
