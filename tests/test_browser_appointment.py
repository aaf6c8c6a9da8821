"""Booking a slot end to end in headless Chromium, at 360 px and on a desktop, with and
without JavaScript: the time chosen is on the result page."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from bookings.models import Booking, BookingStatus
from bookings.services import clinic_today
from tests.support.factories import UserFactory
from tests.support.pages_helpers import VISA, give_profile
from tests.support.scheduling import appointment_service, practitioner, slot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PASSWORD = "correct-horse-battery-staple"


@pytest.mark.parametrize(
    ("width", "javascript"),
    [(360, True), (360, False), (1280, True), (1280, False)],
    ids=["phone", "phone-nojs", "desktop", "desktop-nojs"],
)
def test_book_a_slot_and_see_its_time(browser, live_server, shot, width, javascript):
    user = UserFactory()
    give_profile(user)
    consult = appointment_service("900.00", name="Browser Consultation")
    doctor = practitioner(consult, name="Dr. Browser Iyer", specialty="Cardiologist")
    day = clinic_today() + timedelta(days=2)
    slot(doctor, day=day, at=(9, 0))
    half_past_ten = slot(doctor, day=day, at=(10, 30))

    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": width, "height": 800},
        java_script_enabled=javascript,
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.goto("/book/")
        page.get_by_label("Browser Consultation").check()
        # Named for where it goes (without JavaScript it cannot know what was ticked).
        to_time = "Continue to day and time" if javascript else "Continue"
        page.get_by_role("button", name=to_time, exact=True).click()

        expect(page.get_by_role("heading", name="Choose a day and time")).to_be_visible()
        page.get_by_role("link", name=f"{day:%a} {day.day} {day:%b}").click()
        expect(page.get_by_text("Dr. Browser Iyer")).to_be_visible()
        page.get_by_label("10:30").check()
        shot(page, "time")
        if javascript:  # nothing wider than the screen, at 360 px too
            assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.get_by_role("button", name="Continue to review and pay").click()

        expect(page.get_by_role("heading", name="Review and pay")).to_be_visible()
        expect(page.get_by_text("10:30–10:45 IST")).to_be_visible()
        page.get_by_label("Card number").fill(VISA)
        page.get_by_role("button", name="Confirm & Pay").click()

        expect(page.get_by_role("heading", name="Booking confirmed")).to_be_visible()
        expect(page.get_by_text("10:30 IST with Dr. Browser Iyer").first).to_be_visible()
        expect(page.get_by_role("link", name="Add to calendar")).to_be_visible()
        shot(page, "result")
    finally:
        context.close()
    booking = Booking.objects.get()
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.appointment_start == half_past_ten.start
