"""Issue 25's staff side in Chromium: the desk's booking form at 360 px and 1280 px
(no sideways scrolling, the buttons on screen, prices and the total live, card at the
counter and no test tokens), and a practitioner's own day."""

from decimal import Decimal

import pytest
import time_machine
from playwright.sync_api import expect

from bookings.models import Booking, BookingStatus
from bookings.services import clinic_today
from payments.models import PaymentMethod
from pricing.models import CancellationPolicy
from tests.support.admin_helpers import STAFF_PASSWORD, staff_member
from tests.support.scheduling import appointment_service, clinic_time, practitioner, slot

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def sign_in(page, username: str) -> None:
    page.goto("/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", STAFF_PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#user-tools")).to_be_visible()


def fits(page, width: int) -> None:
    """Nothing wider than the screen: no sideways scrolling, every button on screen."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for button in page.locator("#content button:visible, #content input[type=submit]").all():
        box = button.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, box


@pytest.fixture
def noon(request):
    travel = time_machine.travel(clinic_time(clinic_today(), 12), tick=True)
    travel.start()
    request.addfinalizer(travel.stop)


@pytest.mark.parametrize("width", [360, 1280])
def test_the_desk_books_a_card_at_the_counter_on_a_form_that_fits(
    page, shot, service_priced, noon, width
):
    service_priced("350.00", name="Desk Blood Count")
    service_priced("800.00", name="Desk Lipid Panel")
    staff_member("Reception", username="rekha")
    page.set_viewport_size({"width": width, "height": 800})
    sign_in(page, "rekha")
    page.goto("/admin/front-desk/book/")
    expect(page.locator("#content")).to_contain_text("₹350.00")
    expect(page.locator("#content")).not_to_contain_text("tok_")
    fits(page, width)
    shot(page, f"desk-form-{width}")

    page.fill("#id_patient_name", "Gopal Menon")
    page.select_option("#id_gender", "male")
    page.fill("#id_date_of_birth", "1980-05-01")
    page.fill("#id_phone", "98123 45678")
    page.get_by_label("Desk Blood Count").check()
    page.get_by_label("Desk Lipid Panel").check()
    expect(page.locator("#running-total-amount")).to_have_text("₹1,150.00")  # live
    page.get_by_label("Card at the counter").check()
    fits(page, width)
    page.locator("input[type=submit][value=Book]").click()
    expect(page.locator(".messagelist")).to_contain_text("Booked Gopal Menon")
    expect(page.locator(".messagelist")).not_to_contain_text("Collect")
    booking = Booking.objects.get(patient_name="Gopal Menon")
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.payment.method == PaymentMethod.COUNTER_CARD


def test_the_total_without_javascript_at_360_px(browser, live_server, service_priced, noon):
    service_priced("350.00", name="Desk Blood Count")
    staff_member("Reception", username="rekha")
    context = browser.new_context(
        base_url=live_server.url, java_script_enabled=False, viewport={"width": 360, "height": 800}
    )
    page = context.new_page()
    try:
        sign_in(page, "rekha")
        page.goto("/admin/front-desk/book/")
        page.get_by_label("Desk Blood Count").check()
        page.click("#update-total")
        expect(page.locator("#running-total-amount")).to_have_text("₹350.00")
        fits(page, 360)
    finally:
        context.close()


@pytest.mark.parametrize("width", [360, 1280])
def test_a_practitioner_sees_their_day_and_marks_a_visit_completed(page, shot, book, noon, width):
    consult = appointment_service()
    rao = practitioner(consult, name="Dr. Browser Rao")
    other = practitioner(consult, name="Dr. Browser Iyer")
    rao.user = staff_member("Practitioner", username="dr.rao")
    rao.save()
    mine = book(services=[consult], slot=slot(rao, day=clinic_today(), at=(15, 0)))
    theirs = book(services=[consult], slot=slot(other, day=clinic_today(), at=(15, 0)))
    page.set_viewport_size({"width": width, "height": 800})
    sign_in(page, "dr.rao")
    page.click("text=Today's patients")
    row = page.locator("tr.visit", has_text=mine.confirmation_code)
    expect(row).to_contain_text("15:00")
    expect(row).to_contain_text("Expected")
    expect(page.locator("#content")).not_to_contain_text(theirs.confirmation_code)
    fits(page, width)
    shot(page, f"my-day-{width}")
    row.get_by_role("button", name="Mark completed").click()
    expect(page.locator(".messagelist")).to_contain_text("visit completed")
    expect(page.locator("tr.visit", has_text=mine.confirmation_code)).to_contain_text(
        "Visit completed"
    )
    mine.refresh_from_db()
    assert mine.status == BookingStatus.COMPLETED and mine.visit_finished_at is not None


@pytest.mark.parametrize("width", [360, 1280])
def test_the_manager_sees_the_difference_then_publishes_the_policy(page, shot, width):
    staff_member("Clinic manager", username="meena")  # runs the seeding migrations' code
    versions = CancellationPolicy.objects.count()
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "meena")
    page.goto("/admin/pricing/cancellationpolicy/add/")
    fee = page.locator("input[name='tiers-1-fee']")
    expect(fee).to_have_value("100.00")
    fee.fill("150.00")
    page.locator("input[name=_save]").click()
    changes = page.locator("#policy-changes")
    expect(changes).to_contain_text(
        "At least 6 h before: 100% back, fee ₹100.00 → 100% back, fee ₹150.00"
    )
    assert CancellationPolicy.objects.count() == versions  # shown, not yet published
    shot(page, f"policy-review-{width}")

    page.locator("#publish").click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    newest = CancellationPolicy.objects.order_by("-pk").first()
    assert [(t.min_hours_before, t.fee) for t in newest.tiers.all()] == [
        (24, Decimal("0.00")),
        (6, Decimal("150.00")),
        (2, Decimal("0.00")),
    ]

    # Every tier removed: refused, nothing published. (The admin's script turns a new
    # version's "Delete" boxes into remove links and keeps one row, left blank here; the
    # no-script page's boxes get NO_TIER_LEFT, tests/test_admin_cancellation.py.)
    page.goto("/admin/pricing/cancellationpolicy/add/")
    removes = page.locator("a.inline-deletelink:visible")
    expect(page.locator("input[name='tiers-2-min_hours_before']")).to_have_value("2")
    while removes.count():
        removes.first.click()
    for field in page.locator("#tiers-group input[type=number]:visible").all():
        field.fill("")
    page.locator("input[name=_save]").click()
    expect(page.locator(".errornote")).to_be_visible()
    expect(page.locator("#publish")).to_have_count(0)
    assert CancellationPolicy.objects.count() == versions + 1


@pytest.mark.parametrize("width", [360, 1280])
def test_the_front_page_tells_todays_visits_apart_from_bookings_made_today(
    page, shot, book, service_priced, noon, width
):
    from datetime import timedelta

    lab = service_priced("350.00", name="Glance Blood Test")
    consult = appointment_service()
    doctor = practitioner(consult, name="Dr. Glance Shah")
    booked_before = book(services=[lab])  # today's walk-in, booked (as if) yesterday
    Booking.objects.filter(pk=booked_before.pk).update(
        clinic_day=clinic_today() - timedelta(days=1)
    )
    for_tomorrow = book(services=[consult], slot=slot(doctor))  # made today, visits tomorrow
    both = book(services=[lab])  # made today for today
    assert {b.status for b in (booked_before, for_tomorrow, both)} == {BookingStatus.CONFIRMED}
    Booking.objects.filter(pk=both.pk).update(status=BookingStatus.COMPLETED)  # checked in
    staff_member("Reception", username="rekha")
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "rekha")
    visits = page.locator("#glance-visits")
    expect(visits.locator(".figure")).to_have_text("2")
    expect(visits).to_contain_text("Confirmed: 1")
    expect(visits).to_contain_text("Completed (checked in): 1")
    made = page.locator("#glance-bookings")
    expect(made).to_contain_text("Bookings made today")
    expect(made.locator(".figure")).to_have_text("2")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, f"front-page-{width}")
