"""Chromium at 360 px: a patient finds the receipt on the booking's page and downloads it."""

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from billing.models import Document
from portal.flows import start_booking
from tests.support.factories import ADULT_BIRTHDAY
from tests.support.pages_helpers import give_profile

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PASSWORD = "correct-horse-battery-staple"


def test_a_patient_downloads_the_receipt_on_a_phone(page: Page, user, service_priced, tmp_path):
    give_profile(user, gender="female", full_name="Asha Verma")
    service = service_priced("650.00", name="Browser lipid profile")
    booking = start_booking(
        user=user,
        patient_name="Asha Verma",
        gender="female",
        date_of_birth=ADULT_BIRTHDAY,
        service_ids=[service.pk],
        payment_token="tok_visa",
    )
    number = Document.objects.get(booking=booking).number

    page.set_viewport_size({"width": 360, "height": 800})
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    page.goto(f"/bookings/{booking.pk}/")

    link = page.get_by_role("link", name="Download the receipt (₹650.00)")
    expect(link).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # nothing runs off
    with page.expect_download() as arriving:
        link.click()
    saved = tmp_path / "receipt.pdf"
    arriving.value.save_as(saved)

    assert arriving.value.suggested_filename == f"{number.replace('/', '-')}.pdf"
    text = PdfReader(saved).pages[0].extract_text()
    assert number in text and "Browser lipid profile" in text and "₹650.00" in text
