"""The day close in a real browser: the clinic manager at a 1280 px desk sees every
receptionist's drawer; a receptionist on a 360 px phone sees their own, without scrolling
sideways."""

from decimal import Decimal

import pytest
import time_machine
from playwright.sync_api import expect

from bookings.services import clinic_today
from payments.models import Refund
from portal.flows import book_at_front_desk, cancel_booking
from tests.support.admin_helpers import STAFF_PASSWORD, staff_member
from tests.support.factories import MedicalServiceFactory


def cash_walk_in(receptionist: str, price: str, phone: str):
    return book_at_front_desk(
        receptionist=receptionist,
        patient_name="Gopal Menon",
        gender="male",
        date_of_birth=clinic_today().replace(year=1975),
        phone=phone,
        service_ids=[MedicalServiceFactory(price=Decimal(price)).pk],
        payment_token="cash",
        day=clinic_today(),
    )


def log_in(page, username: str) -> None:
    page.goto("/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", STAFF_PASSWORD)
    page.click("input[type=submit]")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("default_cancellation_policy")
def test_the_manager_and_a_receptionist_close_the_day(page, shot):
    staff_member("Reception", username="rekha")
    staff_member("Reception", username="rohit")
    staff_member("Clinic manager", username="meera")
    cash_walk_in("rekha", "650.00", "+919800000011")
    refunded = cash_walk_in("rekha", "250.00", "+919800000012")
    cancel_booking(booking=refunded, actor="rekha", by_staff=True, reason="came twice")
    cash_walk_in("rohit", "400.00", "+919800000013")

    log_in(page, "meera")
    page.click("#day-close-link a")
    table = page.locator("#day-close")
    expect(table.locator("tr[data-receptionist=rekha] .should-hold")).to_have_text("₹650.00")
    expect(table.locator("tr[data-receptionist=rohit] .should-hold")).to_have_text("₹400.00")
    expect(page.locator("#day-close-total")).to_contain_text("₹1,050.00")
    shot(page, "1-manager-1280")

    page.set_viewport_size({"width": 360, "height": 740})
    page.context.clear_cookies()
    log_in(page, "rekha")
    page.click("#day-close-link a")
    expect(page.locator("tr[data-receptionist=rekha]")).to_contain_text("₹900.00")
    expect(page.locator("tr[data-receptionist=rekha] .should-hold")).to_have_text("₹650.00")
    expect(page.locator("tr[data-receptionist=rohit]")).to_have_count(0)
    expect(page.locator("#day-close-total")).to_have_count(0)
    table_box = page.locator("#day-close table").bounding_box()
    assert table_box is not None and table_box["x"] + table_box["width"] <= 360
    shot(page, "2-receptionist-360")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("default_cancellation_policy")
def test_a_receptionist_on_a_phone_hands_back_a_patients_cash_refund(page, shot):
    """The patient paid cash at the desk and cancelled from their account: the refund
    waits at the desk; the receptionist hands it over and their drawer pays it out."""
    staff_member("Reception", username="rekha")
    walk_in = cash_walk_in("rekha", "300.00", "+919800000014")
    with time_machine.travel(clinic_today().isoformat() + "T00:00:01+05:30"):
        cancel_booking(booking=walk_in, actor="patient", by_staff=False, reason="ill")
    owed = f"₹{Refund.objects.get().amount:,}"

    page.set_viewport_size({"width": 360, "height": 740})
    log_in(page, "rekha")
    page.goto("/admin/front-desk/")
    waiting = page.locator("#refunds-to-hand-back")
    row = waiting.locator(f"tr[data-code='{walk_in.confirmation_code}']")
    expect(row).to_contain_text(owed)
    for shown in (waiting, row.get_by_role("button")):  # all of it on screen, no scrolling
        box = shown.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 360
    # The practitioners' wide tables scroll inside their boxes, not the whole page.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "3-refund-waiting-360")
    row.get_by_role("button", name="Handed back in cash").click()

    expect(page.locator(".messagelist")).to_contain_text(f"{owed} handed back in cash")
    expect(page.locator("#refunds-to-hand-back")).to_have_count(0)
    page.goto("/admin/day-close/")
    expect(page.locator("tr[data-receptionist=rekha]")).to_contain_text("1 refund")
    expect(page.locator("tr[data-receptionist=rekha] .should-hold")).to_have_text(
        f"₹{Decimal('300.00') - Refund.objects.get().amount:,}"
    )
    shot(page, "4-handed-back-360")
