"""Issue 25 in Chromium: after closing, a fasting lab test is booked for tomorrow morning
(the review page offers the open days, not today), and the cancellation terms are read
before paying; at 1280 and 360 px."""

from datetime import UTC, date, datetime, time

import pytest
import time_machine
from playwright.sync_api import Page, expect

from bookings.models import Booking, BookingStatus
from scheduling.models import OpeningHours
from tests.support.factories import UserFactory
from tests.support.pages_helpers import VISA, give_profile
from tests.test_browser_patient import PASSWORD

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    pytest.mark.clinic_hours,
    pytest.mark.usefixtures("default_cancellation_policy"),
]

FRIDAY_EVENING = datetime(2026, 12, 4, 15, 46, tzinfo=UTC)  # 21:16 IST, as in the issue


@pytest.mark.parametrize("width", [1280, 360])
def test_after_closing_a_lab_test_is_booked_for_tomorrow_morning(
    page: Page, shot, service_priced, request, width
):
    for weekday in range(7):
        OpeningHours.objects.update_or_create(
            weekday=weekday, defaults={"opens": time(8), "closes": time(17), "closed": weekday == 6}
        )
    evening = time_machine.travel(FRIDAY_EVENING, tick=True)
    evening.start()
    request.addfinalizer(evening.stop)
    service_priced("300.00", name="Browser fasting glucose")
    user = UserFactory()
    give_profile(user, gender="female", full_name="Asha Verma")
    page.set_viewport_size({"width": width, "height": 900})

    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto("/book/")
    page.get_by_label("Browser fasting glucose").check()
    page.get_by_role("button", name="Continue to review").click()
    expect(page.get_by_role("heading", name="Review and pay")).to_be_visible()

    day = page.get_by_label("Day of your visit")
    expect(day).to_be_visible()
    expect(day).to_have_value("2026-12-05")  # Saturday first: today closed at 17:00
    expect(day.locator("option:checked")).to_have_text("Saturday 5 December, 08:00–17:00")
    offered = day.locator("option").all_inner_texts()
    assert offered[:3] == [
        "Saturday 5 December, 08:00–17:00",
        "Monday 7 December, 08:00–17:00",  # Sunday closed
        "Tuesday 8 December, 08:00–17:00",
    ]
    terms = page.locator(".cancellation-terms")
    expect(terms).to_contain_text("If you cancel")
    expect(terms).to_contain_text(
        "Cancelled at least 24 hours before the visit: everything you paid comes back."
    )
    expect(terms).to_contain_text("Later than that: nothing comes back.")
    # Nothing wider than the screen at 360 px.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, f"walk-in-day-{width}")

    page.get_by_label("Card number").fill(VISA)
    page.get_by_role("button", name="Confirm & Pay").click()
    expect(page.get_by_text("Confirmed", exact=False).first).to_be_visible()
    booking = Booking.objects.get()
    assert (booking.status, booking.visit_date) == (BookingStatus.CONFIRMED, date(2026, 12, 5))
