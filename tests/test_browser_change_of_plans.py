"""A patient in headless Chromium cancels one booking and sees the refund, and moves
another to a new time (no inline scripts or styles: the page fixture fails on CSP)."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from bookings.models import Booking, BookingStatus
from bookings.services import clinic_today
from payments.models import Refund
from tests.support.factories import UserFactory
from tests.support.pages_helpers import give_profile
from tests.support.scheduling import appointment_service, practitioner, slot

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    pytest.mark.usefixtures("default_cancellation_policy"),
]

PASSWORD = "correct-horse-battery-staple"


def test_a_patient_cancels_one_booking_and_moves_another(page, shot, book):
    user = UserFactory()
    give_profile(user)
    consult = appointment_service("900.00", name="Browser Consultation")
    doctor = practitioner(consult, name="Dr. Browser Iyer")
    day = clinic_today() + timedelta(days=3)  # far enough ahead: the full refund tier
    to_cancel = book(services=[consult], slot=slot(doctor, day=day, at=(9, 0)), by=user)
    to_move = book(services=[consult], slot=slot(doctor, day=day, at=(10, 0)), by=user)
    later = slot(doctor, day=day, at=(16, 30))

    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.goto(f"/bookings/{to_cancel.pk}/")
    expect(page.get_by_text("If you cancel now you get ₹900.00 back.")).to_be_visible()
    page.get_by_role("link", name="Cancel this booking").click()
    expect(page.get_by_text("You get ₹900.00 back.")).to_be_visible()
    page.get_by_role("button", name="Cancel the booking").click()
    expect(
        page.get_by_text("Your booking is cancelled. ₹900.00 was refunded to your card.")
    ).to_be_visible()
    expect(page.get_by_role("heading", name="Booking cancelled")).to_be_visible()
    shot(page, "cancelled")

    page.goto(f"/bookings/{to_move.pk}/")
    page.get_by_role("link", name="Change time").click()
    expect(page.get_by_role("heading", name="Change the time")).to_be_visible()
    expect(page.get_by_text("You may change the time until")).to_be_visible()
    page.get_by_role("link", name=f"{day:%a} {day.day} {day:%b}").click()
    page.get_by_label("16:30").check()
    shot(page, "new-time")
    page.get_by_role("button", name="Move to this time").click()
    expect(page.get_by_text("Moved: the appointment is now")).to_be_visible()
    expect(page.get_by_text("16:30 IST with Dr. Browser Iyer").first).to_be_visible()
    shot(page, "moved")

    assert Booking.objects.get(pk=to_cancel.pk).status == BookingStatus.CANCELLED
    assert Refund.objects.get().amount == to_cancel.final_price
    moved = Booking.objects.get(pk=to_move.pk)
    assert (moved.status, moved.appointment_start) == (BookingStatus.CONFIRMED, later.start)
