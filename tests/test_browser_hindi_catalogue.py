"""Issue 25 in Chromium at 360 px: a patient switches the pages to Hindi and sees the
catalogue's Hindi (service name and description, the practitioner's specialty) and
dates in CLDR's Hindi (day and month names, full and abbreviated), without scrolling
sideways."""

from datetime import timedelta

import pytest
from babel import Locale
from django.utils import timezone
from playwright.sync_api import Page, expect

from bookings.services import clinic_today
from portal.flows import start_booking
from tests.support.factories import ADULT_BIRTHDAY, UserFactory
from tests.support.pages_helpers import give_profile
from tests.support.scheduling import appointment_service, practitioner, slot
from tests.test_browser_patient import assert_no_horizontal_scroll, log_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

CLDR = Locale.parse("hi")
NAME_HI, DESCRIPTION_HI = "एमआरआई स्कैन (परीक्षण)", "रिपोर्ट के साथ घुटने का एमआरआई (परीक्षण)।"


def next_thursday():
    """Thursday: Django's own Hindi misspelt it ("गुरूवार"), so the page fails without
    the project's catalogue whatever the month."""
    day = clinic_today() + timedelta(days=1)
    return day + timedelta(days=(3 - day.weekday()) % 7)


def test_a_hindi_page_shows_the_hindi_catalogue_and_cldr_dates_at_360px(page: Page, shot):
    mri = appointment_service(
        "6500.00",
        name="Test MRI Scan",
        description="MRI of one region with report.",
        name_hi=NAME_HI,
        description_hi=DESCRIPTION_HI,
    )
    radiologist = practitioner(
        mri, name="Dr. Meera Nair", specialty="Radiologist", specialty_hi="रेडियोलॉजिस्ट"
    )
    visit = slot(radiologist, day=next_thursday(), at=(9, 30))
    patient = UserFactory()
    give_profile(patient, gender="female", full_name="Asha Verma")
    booking = start_booking(
        user=patient,
        patient_name="Asha Verma",
        gender="female",
        date_of_birth=ADULT_BIRTHDAY,
        service_ids=[mri.pk],
        payment_token="tok_visa",
        slot_id=visit.pk,
    )
    booking.refresh_from_db()
    assert booking.status == "confirmed"

    page.set_viewport_size({"width": 360, "height": 780})
    log_in(page, shot, patient)
    page.goto("/")
    page.get_by_role("button", name="हिन्दी").click()  # the footer's switch, a plain form
    expect(page.locator("html")).to_have_attribute("lang", "hi-IN")
    expect(page.get_by_text(NAME_HI)).to_be_visible()
    expect(page.get_by_text(DESCRIPTION_HI)).to_be_visible()
    assert page.get_by_text("Test MRI Scan").count() == 0
    assert_no_horizontal_scroll(page)
    shot(page, "hindi-home-360")

    start = timezone.localtime(booking.appointment_start)
    weekday, month = start.weekday(), start.month
    long_date = (
        f"{CLDR.days['format']['wide'][weekday]} {start.day} "
        f"{CLDR.months['format']['wide'][month]} {start.year}"
    )
    short_date = (
        f"{CLDR.days['format']['abbreviated'][weekday]} {start.day} "
        f"{CLDR.months['format']['abbreviated'][month]} {start.year}, 09:30"
    )
    page.goto(f"/bookings/{booking.pk}/")
    expect(page.locator(".appointment-when")).to_contain_text(long_date)
    expect(page.locator("main")).to_contain_text(NAME_HI)
    expect(page.locator("main")).to_contain_text("Dr. Meera Nair (रेडियोलॉजिस्ट)")
    assert_no_horizontal_scroll(page)
    shot(page, "hindi-booking-360")

    page.goto("/bookings/")
    expect(page.locator("main")).to_contain_text(NAME_HI)
    expect(page.locator("main")).to_contain_text(short_date)
    assert_no_horizontal_scroll(page)
    shot(page, "hindi-my-bookings-360")
