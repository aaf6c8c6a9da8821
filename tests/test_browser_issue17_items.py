"""Issue 17, item by item, in a real browser (Debian's Chromium) against the live server:
the items whose fix had only Django test-client tests so far. Each test failed against the
old behaviour (the revert that showed it is named in the docstring)."""

import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from bookings.models import Booking, BookingStatus
from bookings.services import clinic_today
from notifications import sender
from tests.support.admin_helpers import STAFF_PASSWORD, staff_member
from tests.support.pages_helpers import DECLINED, VISA, fill_sign_up, give_profile

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PASSWORD = STAFF_PASSWORD  # every factory-made user's


@pytest.fixture
def patient(user):
    give_profile(user, gender="female", full_name="Asha Verma")
    return user


def log_in(page: Page, user) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def staff_log_in(page: Page, username: str) -> None:
    page.goto("/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", STAFF_PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#user-tools")).to_be_visible()


def test_running_total_is_live_with_javascript_and_on_request_without(
    page: Page, browser, live_server, shot, patient, service_priced
):
    """Revert: templates/bookings/book.html as before 905f3b1 (no total, no descriptions)."""
    service_priced("600.00", name="Browser ECG", description="A browser-test rhythm trace")
    service_priced("700.00", name="Browser Echo", description="A browser-test heart scan")
    log_in(page, patient)
    page.goto("/book/")
    expect(page.get_by_text("A browser-test rhythm trace")).to_be_visible()  # where one chooses
    expect(page.get_by_text("A browser-test heart scan")).to_be_visible()
    total = page.locator("#running-total-amount")
    expect(total).to_have_text("₹0.00")
    expect(page.get_by_role("button", name="Update total")).to_be_hidden()  # JS does it
    page.get_by_label("Browser ECG").check()
    expect(total).to_have_text("₹600.00")
    expect(page.locator("#running-total-note")).to_contain_text("The discount applies above")
    page.get_by_label("Browser Echo").check()
    expect(total).to_have_text("₹1,300.00")
    expect(page.locator("#running-total-note")).to_contain_text("eligible for the 12% discount")
    shot(page, "live-total")

    # Without JavaScript: the booking still works, and "Update total" asks the server.
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        plain = context.new_page()
        log_in(plain, patient)
        plain.goto("/book/")
        plain.get_by_label("Browser ECG").check()
        plain.get_by_label("Browser Echo").check()
        expect(plain.locator("#running-total-amount")).to_have_text("₹0.00")
        plain.get_by_role("button", name="Update total").click()
        expect(plain.locator("#running-total-amount")).to_have_text("₹1,300.00")
        expect(plain.get_by_label("Browser ECG")).to_be_checked()  # the choice is kept
        expect(plain.get_by_label("Browser Echo")).to_be_checked()
        expect(plain.get_by_role("alert")).to_have_count(0)  # no error for untouched fields
        shot(plain, "no-js-total")
        plain.get_by_role("button", name="Continue to review").click()
        expect(plain.get_by_role("heading", name="Review and pay")).to_be_visible()
    finally:
        context.close()


def test_my_bookings_shows_failed_attempts_as_not_charged_folded_under_the_booking(
    page: Page, shot, patient, book, service_priced
):
    """Revert: templates/bookings/my_bookings.html as before 905f3b1 (a failed row per
    attempt, "(not charged)" only for screen readers)."""
    ecg = service_priced("572.00", name="Browser ECG")
    book(services=[ecg], payment_token="tok_chargeDeclined")
    book(services=[ecg], payment_token="tok_chargeDeclined")
    made = book(services=[ecg])
    book(prices=("980.00",), payment_token="tok_chargeDeclined")  # never retried
    log_in(page, patient)
    page.goto("/bookings/")

    rows = page.locator(".booking-list > li")
    expect(rows).to_have_count(2)  # the lone attempt and the booking made; retries folded
    lone_row, made_row = rows.nth(0), rows.nth(1)
    expect(lone_row.get_by_text("₹980.00 not charged")).to_be_visible()  # said to everyone
    expect(lone_row.get_by_text("Payment failed")).to_be_visible()
    expect(made_row.get_by_text("Confirmed", exact=True)).to_be_visible()
    expect(made_row).to_contain_text(made.confirmation_code)
    folded = made_row.locator("details.attempts")
    expect(folded.locator("summary")).to_have_text(
        "2 earlier attempts that did not go through (not charged)"
    )
    attempts = folded.locator("li")
    expect(attempts.first).to_be_hidden()  # collapsed until asked for
    shot(page, "folded")
    folded.locator("summary").click()
    expect(attempts).to_have_count(2)
    for i in range(2):
        expect(attempts.nth(i)).to_be_visible()
        expect(attempts.nth(i)).to_contain_text("₹572.00 not charged")
    shot(page, "unfolded")
    assert Booking.objects.filter(status=BookingStatus.FAILED).count() == 3


def test_try_again_retries_that_bookings_own_services_not_the_newest_draft(
    page: Page, shot, patient, book, service_priced
):
    """Revert: booking_retry in portal/views.py redirecting to the review with the
    session's draft as before 905f3b1 (the declined ECG led to the MRI)."""
    ecg = service_priced("572.00", name="Browser ECG")
    service_priced("6500.00", name="Browser MRI")
    failed = book(services=[ecg], payment_token="tok_chargeDeclined")
    log_in(page, patient)
    # A newer draft for something else, left at its review.
    page.goto("/book/")
    page.get_by_label("Browser MRI").check()
    page.get_by_role("button", name="Continue to review").click()
    expect(page.get_by_role("row", name="Base price")).to_contain_text("₹6,500.00")

    page.goto(f"/bookings/{failed.pk}/")
    page.get_by_role("button", name="Try again with another card").click()
    expect(page.get_by_role("heading", name="Review and pay")).to_be_visible()
    main = page.locator("main")
    expect(main).to_contain_text("Browser ECG")
    expect(main).not_to_contain_text("Browser MRI")
    expect(page.get_by_role("row", name="Base price")).to_contain_text("₹572.00")
    shot(page, "retry-review")
    page.get_by_label("Card number").fill(VISA)
    page.get_by_role("button", name="Confirm & Pay").click()
    expect(page.get_by_role("heading", name="Booking confirmed")).to_be_visible()
    retried = Booking.objects.get(user=patient, status=BookingStatus.CONFIRMED)
    assert [item.name for item in retried.items.all()] == ["Browser ECG"]


MACHINERY = ("Compensation", "UNDO", "Discount reserved", "given back", "pool", "Price worked out")


def test_what_happened_speaks_plainly_to_the_patient_and_managers_keep_the_full_trail(
    page: Page, browser, live_server, shot, patient, service_priced
):
    """Revert: portal/presentation.py's _describe as before 905f3b1 (every saga step in
    the patient's timeline: "Compensation started [UNDO]", "Discount reserved", ...)."""
    service_priced("1500.00", name="Browser MRI")  # eligible: a discount is held, then freed
    log_in(page, patient)
    page.goto("/book/")
    page.get_by_label("Browser MRI").check()
    page.get_by_role("button", name="Continue to review").click()
    page.get_by_label("Card number").fill(DECLINED)
    page.get_by_role("button", name="Confirm & Pay").click()
    expect(page.get_by_role("heading", name="you were not charged")).to_be_visible()

    timeline = page.locator(".timeline")
    titles = timeline.locator(".timeline-entry strong")
    expect(titles).to_have_text(
        ["You asked for", "Payment did not go through", "Booking not made", "What happens next"]
    )
    expect(timeline).to_contain_text("Browser MRI")
    expect(timeline).to_contain_text("You were not charged.")
    for word in MACHINERY:
        expect(timeline).not_to_contain_text(word)
    shot(page, "patient-timeline")
    booking = Booking.objects.get(user=patient)

    # The clinic manager still reads every event of the saga, folded away until asked for.
    staff_member("Clinic manager", username="dr_rao")
    context = browser.new_context(base_url=live_server.url)
    try:
        admin = context.new_page()
        staff_log_in(admin, "dr_rao")
        admin.goto(f"/admin/bookings/booking/{booking.pk}/change/")
        technical = admin.locator("#technical-details")
        expect(technical).not_to_have_attribute("open", re.compile(".*"))
        events = admin.locator("#saga-events")
        expect(events).to_be_hidden()
        technical.locator("summary").click()
        expect(events).to_be_visible()
        for event in ("PricingCalculated", "DiscountQuotaReserved", "CompensationTriggered"):
            expect(events).to_contain_text(event)
        expect(events).to_contain_text("DiscountQuotaReleased")
        shot(admin, "manager-trail")
    finally:
        context.close()


def test_sign_up_reports_every_problem_at_once_in_a_summary_linked_to_the_fields(page: Page, shot):
    """Reverts: SignUpForm.clean in portal/forms.py as before 905f3b1 (password strength
    only once the rest is right), and templates/bookings/_form_errors.html as before
    905f3b1 (a count without links)."""
    page.goto("/accounts/signup/")
    fill_sign_up(page, email="not-an-address", password="12345678")
    page.get_by_role("button", name="Sign up").click()

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Please correct the 2 problems below.")
    links = summary.get_by_role("link")
    expect(links).to_have_text(["Email", "Password"])
    expect(links.nth(0)).to_have_attribute("href", "#id_email")
    expect(links.nth(1)).to_have_attribute("href", "#id_password")
    expect(page.locator("#id_password_error")).to_contain_text("entirely numeric")
    expect(page.get_by_label("Full name")).to_have_value("Meera Nair")  # what was typed stays
    shot(page, "one-round")
    links.nth(1).click()
    expect(page).to_have_url(re.compile("#id_password$"))
    expect(page.locator("#id_password")).to_be_in_viewport()

    # Fixing both in the second round signs the patient up.
    page.get_by_label("Email").fill("meera@example.in")
    page.get_by_label("Password", exact=True).fill("a-long-unusual-passphrase")
    page.get_by_label("Password (again)").fill("a-long-unusual-passphrase")
    page.get_by_role("button", name="Sign up").click()
    expect(page).to_have_url(re.compile("/book/(#.*)?$"))


def test_date_of_birth_pickers_offer_no_future_day(page: Page, patient):
    """Revert: DateOfBirthField.widget_attrs in portal/forms.py removed (no `max`)."""
    today = clinic_today().isoformat()
    page.goto("/accounts/signup/")
    expect(page.get_by_label("Date of birth")).to_have_attribute("max", today)
    log_in(page, patient)
    page.goto("/book/")
    expect(page.get_by_label("Date of birth")).to_have_attribute("max", today)


def test_the_email_writes_money_as_the_pages_do(page: Page, shot, patient, service_priced):
    """Revert: templates/notifications/en/confirmation.txt printing ₹{{ amount }} (the
    "₹6500.00" the issue saw) instead of the shared |inr formatter."""
    service_priced("6500.00", name="Browser MRI")
    log_in(page, patient)
    page.goto("/book/")
    page.get_by_label("Browser MRI").check()
    page.get_by_role("button", name="Continue to review").click()
    page.get_by_label("Card number").fill(VISA)
    page.get_by_role("button", name="Confirm & Pay").click()
    expect(page.get_by_role("heading", name="Booking confirmed")).to_be_visible()
    amounts = page.locator("table.amounts")
    expect(amounts).to_contain_text("₹6,500.00")  # base
    expect(amounts).to_contain_text("₹5,720.00")  # paid, 12% off

    assert sender.send_due().sent == 1
    body = mail.outbox[0].body
    assert "Browser MRI: ₹6,500.00" in body
    assert re.search(r"Paid:\s+₹5,720\.00", body), body
    assert "6500" not in body and "5720" not in body


def test_bookings_today_and_the_discount_filter_leave_out_failed_attempts(
    page: Page, shot, book, set_default_limit
):
    """Revert: portal/dashboard.py, portal/templatetags/clinic_admin.py and the
    DiscountAppliedFilter in portal/admin.py as before 4bc222d."""
    set_default_limit(10)
    book(prices=("2500.00",))  # confirmed, with a discount
    book(prices=("400.00",))  # confirmed, no discount
    book(prices=("1500.00",), payment_token="tok_chargeDeclined")  # its discount went back
    staff_member("Reception", username="meera")
    staff_log_in(page, "meera")

    bookings = page.locator("#glance-bookings")
    expect(bookings.locator(".figure")).to_have_text("2")
    expect(bookings.locator("li.attempts")).to_have_text("Attempts not charged: 1")
    expect(bookings).not_to_contain_text("Failed:")
    expect(page.locator("#glance-discounts .figure")).to_have_text("1 of 10")
    shot(page, "glance")

    page.goto("/admin/bookings/booking/")
    page.locator("#changelist-filter a[href*='discount_applied__exact=1']").click()
    expect(page).to_have_url(re.compile("discount_applied__exact=1"))
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)  # as "1 of 10" on the front page
    expect(rows.first).to_contain_text("₹2,200.00")
    shot(page, "discount-filter")


def test_reception_reads_every_step_of_a_booking_in_plain_words_told_about_the_patient(
    page: Page, shot, book
):
    """Revert: render_change_form in portal/admin.py giving staff the patient's own timeline
    ("You asked for", "You were not charged"), as before this test, without the steps a
    patient does not need (the discount held, then given back)."""
    declined = book(prices=("1500.00",), payment_token="tok_chargeDeclined")
    staff_member("Reception", username="meera")
    staff_log_in(page, "meera")
    page.goto(f"/admin/bookings/booking/{declined.pk}/change/")

    story = page.locator("#booking-story")
    expect(story.locator("th")).to_have_text(
        [
            "Booking asked for",
            "Price worked out",
            "Discount held for the patient",
            "Payment did not go through",
            "Booking being undone",
            "Discount given back",
            "Booking not made",
        ]
    )
    expect(story).to_contain_text("₹1,500.00; discount due, as the base price is above ₹1,000.00")
    expect(story).to_contain_text("₹180.00 off, one of today's discounts; to pay ₹1,320.00.")
    expect(story).to_contain_text("The card was declined by the bank.")
    expect(story).to_contain_text(re.compile(r"\d{2}:\d{2}:\d{2} IST"))
    body = page.locator("#content")
    for words in ("You asked for", "You were", "Your code", "What happens next"):
        expect(story).not_to_contain_text(words)
    for technical in ("Compensation", "Quota", "card_declined", str(declined.correlation_id)):
        expect(body).not_to_contain_text(technical)
    expect(page.locator("#technical-details")).to_have_count(0)
    shot(page, "reception-story")
