"""The admin's front page: today at a glance."""

import html
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from bookings.models import Booking, BookingStatus
from bookings.services import clinic_today
from portal.dashboard import today_at_a_glance
from tests.support.admin_helpers import staff_member


@pytest.mark.django_db(transaction=True)
def test_the_front_page_shows_today_at_a_glance(client, book, set_default_limit):
    set_default_limit(3)
    book(prices=("2500.00",))  # discounted: 2200.00 collected
    book(prices=("500.00",))  # no discount: 500.00 collected
    book(prices=("1500.00",), payment_token="tok_chargeDeclined")  # discount released
    client.force_login(staff_member("Reception"))

    response = client.get(reverse("admin:index"))

    assert response.status_code == 200
    glance = response.text[response.text.index('id="today-at-a-glance"') :]
    assert "Confirmed</a>: <strong>2</strong>" in glance
    assert "Failed</a>: <strong>1</strong>" in glance
    assert "Pending</a>: <strong>0</strong>" in glance
    assert "₹2,700.00" in glance
    assert "1 of 3" in glance  # discounts granted out of the limit
    assert "2 remaining today" in glance
    failed = glance[glance.index('id="glance-failed-payments"') :]
    assert '<p class="figure">1</p>' in failed
    # Every figure links to the rows behind it (a bad filter would redirect with ?e=1).
    links = re.findall(r'href="([^"]+)"', glance[: glance.index("</div>\n</div>")])
    # all bookings, one per status, revenue, discounts, failed payments
    assert len(links) == 1 + len(BookingStatus.values) + 3
    for link in links:
        assert client.get(html.unescape(link)).status_code == 200, link


@pytest.mark.django_db(transaction=True)
def test_the_glance_counts_only_today(book):
    kept = book(prices=("500.00",))
    moved = book(prices=("700.00",))
    Booking.objects.filter(pk=moved.pk).update(clinic_day=clinic_today() - timedelta(days=1))
    glance = today_at_a_glance(clinic_today())
    assert glance.bookings_by_status == {
        "pending": 0,
        "confirmed": 1,
        "failed": 0,
        "cancelled": 0,
        "completed": 0,
        "no_show": 0,
    }
    assert kept.status == "confirmed"


@pytest.mark.django_db
def test_before_the_first_booking_the_glance_shows_zeros_and_the_default_limit(
    set_default_limit,
):
    set_default_limit(25)
    glance = today_at_a_glance(clinic_today())
    assert glance.bookings_total == 0
    assert glance.revenue_collected == Decimal("0.00")
    assert (glance.discounts_granted, glance.discount_limit, glance.payments_failed) == (0, 25, 0)
