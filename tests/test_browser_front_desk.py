"""The front desk in a real browser: a receptionist checks a patient in and books a
walk-in paid in cash."""

from datetime import timedelta

import pytest
import time_machine
from playwright.sync_api import expect

from bookings.models import AuditLog, Booking, BookingStatus
from bookings.services import clinic_today
from payments.models import Payment, PaymentMethod
from scheduling.models import Slot
from tests.support.admin_helpers import STAFF_PASSWORD, staff_member
from tests.support.scheduling import appointment_service, clinic_time, practitioner


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_receptionist_checks_a_patient_in_and_books_a_walk_in_paid_in_cash(
    page, shot, book, service_priced, request
):
    consult = appointment_service()
    doctor = practitioner(consult, name="Dr. Browser Nair")
    late = clinic_time(clinic_today(), 18)  # still to come at noon
    # Run at noon IST today whatever the hour (later, the slot would be past).
    noon = time_machine.travel(clinic_time(clinic_today(), 12), tick=True)
    noon.start()
    request.addfinalizer(noon.stop)
    today_slot = Slot.objects.create(
        practitioner=doctor, start=late, end=late + timedelta(minutes=15), capacity=2
    )
    booked = book(services=[consult], slot=today_slot)
    assert booked.status == BookingStatus.CONFIRMED
    blood_test = service_priced("350.00", name="Browser Blood Test")
    staff_member("Reception", username="rekha")

    page.goto("/admin/")
    page.fill("#id_username", "rekha")
    page.fill("#id_password", STAFF_PASSWORD)
    page.click("input[type=submit]")
    page.goto("/admin/front-desk/")
    expect(page.locator("#content")).to_contain_text("Dr. Browser Nair")
    row = page.locator("tr", has_text=booked.patient_name)
    expect(row).to_contain_text("Confirmed")
    shot(page, "1-front-desk-today")

    row.locator("button[value=check_in]").click()
    expect(page.locator(".messagelist")).to_contain_text("marked Completed")
    expect(page.locator("tr", has_text=booked.patient_name)).to_contain_text("Completed")
    expect(page.locator("tr", has_text=booked.patient_name).locator("button")).to_have_count(0)
    shot(page, "2-checked-in")
    booked.refresh_from_db()
    assert booked.status == BookingStatus.COMPLETED
    assert AuditLog.objects.get(action="booking.checked_in").actor == "rekha"

    # A walk-in for a blood test, paid in cash.
    page.click("text=Book a walk-in or telephone patient")
    page.fill("#id_patient_name", "Gopal Menon")
    page.select_option("#id_gender", "male")
    page.fill("#id_date_of_birth", "1975-03-09")
    page.fill("#id_phone", "98765 43210")
    page.check(f"input[name=services][value='{blood_test.pk}']")
    page.check("input[name=payment][value=cash]")
    shot(page, "3-walk-in-form")
    page.click("input[type=submit][value=Book]")
    expect(page.locator(".messagelist")).to_contain_text("Collect ₹350.00 in cash")
    shot(page, "4-walk-in-booked")

    walk_in = Booking.objects.get(patient_name="Gopal Menon")
    assert walk_in.status == BookingStatus.CONFIRMED and walk_in.visit_date == clinic_today()
    assert Payment.objects.get(booking=walk_in).method == PaymentMethod.CASH
    assert AuditLog.objects.get(action="booking.front_desk").actor == "rekha"

    # Found again by phone.
    page.fill("#q", "9876543210")
    page.click("button:text('Search')")
    results = page.locator("#search-results")
    expect(results).to_contain_text("Gopal Menon")
    expect(results).to_contain_text("+919876543210")
    shot(page, "5-found-by-phone")
    # The walk-in is on the day's list beside the appointments, found by phone too, and
    # checked in there; no "No-show" before the clinic has closed.
    walk_ins = page.locator("#walk-ins")
    expect(walk_ins).to_contain_text("Gopal Menon")
    expect(walk_ins).to_contain_text(walk_in.confirmation_code)
    expect(walk_ins.locator("button[value=no_show]")).to_have_count(0)
    walk_ins.locator("tr", has_text="Gopal Menon").locator("button[value=check_in]").click()
    expect(page.locator(".messagelist")).to_contain_text(
        f"Gopal Menon ({walk_in.confirmation_code}) marked Completed"
    )
    expect(page.locator("#walk-ins tr", has_text="Gopal Menon")).to_contain_text("Completed")
    shot(page, "6-walk-in-checked-in")
    walk_in.refresh_from_db()
    assert walk_in.status == BookingStatus.COMPLETED
