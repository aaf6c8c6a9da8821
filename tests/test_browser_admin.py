"""A staff member runs the day in a real browser: log in, lower today's limit, read a saga."""

import re

import pytest
from playwright.sync_api import expect

from bookings.models import AuditLog, SagaEvent
from bookings.services import clinic_today
from quotas.models import DiscountQuota
from tests.support.admin_helpers import STAFF_PASSWORD, staff_member


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_staff_lowers_todays_limit_and_reads_a_bookings_event_timeline(
    page, shot, book, set_default_limit
):
    set_default_limit(10)
    booking = book(prices=("2500.00",))  # takes one of today's discounts
    staff_member("Reception", username="meera")

    page.goto("/admin/")
    page.fill("#id_username", "meera")
    page.fill("#id_password", STAFF_PASSWORD)
    shot(page, "1-login")
    page.click("input[type=submit]")
    glance = page.locator("#today-at-a-glance")
    expect(glance).to_contain_text("1 of 10")
    expect(glance).to_contain_text("₹2,200.00")
    shot(page, "2-today-at-a-glance")

    # Lower today's limit, from the glance to the day's page.
    page.click("#glance-discounts a")
    page.click("text=(today)")
    expect(page.locator("#id_limit")).to_have_value("10")
    page.fill("#id_limit", "0")  # below the one already granted: refused
    page.click("input[name=_save]")
    expect(page.locator(".errorlist")).to_contain_text("1 discount is already granted")
    shot(page, "3-limit-below-used-refused")
    page.fill("#id_limit", "4")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("changed successfully")
    expect(page.locator("#result_list")).to_contain_text("(today)")
    shot(page, "4-limit-lowered")
    assert DiscountQuota.objects.get(day=clinic_today()).limit == 4
    entry = AuditLog.objects.get(action="quota.limit_changed")
    assert (entry.actor, entry.before["limit"], entry.after["limit"]) == ("meera", 10, 4)

    # Find the booking by its confirmation code and read its saga.
    page.goto("/admin/bookings/booking/")
    page.fill("#searchbar", booking.confirmation_code)
    page.press("#searchbar", "Enter")
    page.click(f"a[href*='{booking.pk}']")
    # Reception reads the booking's story in words; the saga's events are the manager's.
    story = page.locator("#booking-story")
    expect(story).to_be_visible()
    expect(story).to_contain_text("Booking confirmed")
    expect(page.locator("#technical-details")).to_have_count(0)
    shot(page, "5-booking-in-words")
    # The five of a card-paid walk-in, and its receipt (ReceiptIssued).
    assert SagaEvent.objects.filter(correlation_id=booking.correlation_id).count() == 6
    expect(page.locator("body")).to_contain_text("₹2,200.00")
    expect(page.locator("body")).to_contain_text(re.compile(r"\d{2}:\d{2}:\d{2} IST"))
