"""The patient journey in a real headless Chromium (Debian's), against the live server."""

import pytest
from playwright.sync_api import Page, expect

from bookings.models import Booking, BookingStatus
from bookings.services import clinic_today
from payments.models import Payment
from portal.flows import start_booking
from quotas.services import quota_for_day
from tests.support.factories import UserFactory
from tests.support.pages_helpers import DECLINED, VISA, fill_sign_up, give_profile

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PASSWORD = "correct-horse-battery-staple"


def log_in(page: Page, shot, user) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    shot(page, "login")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def choose_and_review(page: Page, shot, *service_names: str) -> None:
    page.goto("/book/")
    for name in service_names:
        page.get_by_label(name).check()
    shot(page, "book")
    page.get_by_role("button", name="Continue to review").click()
    expect(page.get_by_role("heading", name="Review and pay")).to_be_visible()
    shot(page, "review")


@pytest.fixture
def patient(db):
    user = UserFactory()
    give_profile(user, gender="female", full_name="Asha Verma")
    return user


def test_sign_up_book_pay_and_see_the_confirmation(page: Page, shot, service_priced):
    service_priced("750.00", name="Browser blood panel")
    service_priced("400.00", name="Browser eye check")

    page.goto("/")
    expect(page.get_by_text("Browser blood panel")).to_be_visible()
    expect(page.get_by_text("discounts left today", exact=False)).to_be_visible()
    shot(page, "home")

    page.get_by_role("link", name="Sign up").first.click()
    fill_sign_up(page)
    shot(page, "signup")
    page.get_by_role("button", name="Sign up").click()

    expect(page).to_have_url("/book/")
    expect(page.get_by_label("Patient's full name")).to_have_value("Meera Nair")
    expect(page.get_by_label("Female", exact=True)).to_be_checked()
    page.get_by_label("Browser blood panel").check()
    page.get_by_label("Browser eye check").check()
    shot(page, "book")
    page.get_by_role("button", name="Continue to review").click()

    base_row = page.get_by_role("row", name="Base price")
    expect(base_row).to_contain_text("₹1,150.00")
    expect(page.get_by_role("row", name="Expected to pay")).to_contain_text("₹1,012.00")
    expect(page.get_by_text("subject to today's remaining discounts")).to_be_visible()
    page.get_by_label("Card number").fill(VISA)
    shot(page, "review")
    page.get_by_role("button", name="Confirm & Pay").click()

    expect(page.get_by_role("heading", name="Booking confirmed")).to_be_visible()
    booking = Booking.objects.get()
    assert booking.status == BookingStatus.CONFIRMED
    expect(page).to_have_url(f"/bookings/{booking.pk}/")
    expect(page.get_by_label("Confirmation code")).to_have_text(booking.confirmation_code)
    timeline = page.locator(".timeline-entry")
    expect(timeline).to_have_count(4)  # asked for, paid, confirmed, what happens next
    expect(timeline.first).to_contain_text("You asked for")
    expect(timeline.last).to_contain_text("What happens next")
    expect(timeline.first.locator("time")).to_contain_text("IST")
    shot(page, "result-confirmed")

    page.get_by_role("link", name="My bookings", exact=True).click()
    expect(page.get_by_text("Confirmed", exact=True)).to_be_visible()
    shot(page, "my-bookings")
    page.get_by_role("link", name="Meera Nair").click()
    expect(page.get_by_role("heading", name="Booking confirmed")).to_be_visible()
    shot(page, "result-from-my-bookings")


def test_a_declined_card_fails_with_compensation_and_no_discount_used(
    page: Page, shot, patient, service_priced
):
    service_priced("1500.00", name="Browser MRI")  # eligible: above ₹1000
    used_before = quota_for_day(clinic_today()).used
    log_in(page, shot, patient)
    choose_and_review(page, shot, "Browser MRI")
    expect(page.get_by_text("Eligible for the 12% discount")).to_be_visible()
    page.get_by_label("Card number").fill(DECLINED)
    page.get_by_role("button", name="Confirm & Pay").click()

    expect(page.get_by_role("heading", name="you were not charged")).to_be_visible()
    expect(page.get_by_text("The card was declined by the bank.").first).to_be_visible()
    expect(page.locator(".timeline")).not_to_contain_text("Compensation")
    shot(page, "result-failed")
    assert Booking.objects.get().status == BookingStatus.FAILED
    assert quota_for_day(clinic_today()).used == used_before

    page.get_by_role("button", name="Try again with another card").click()
    expect(page.get_by_role("heading", name="Review and pay")).to_be_visible()
    shot(page, "retry-review")


def test_validation_errors_show_inline_and_keep_what_was_typed(
    page: Page, shot, patient, service_priced
):
    page.goto("/accounts/signup/")
    page.get_by_label("Username").fill("x")
    page.get_by_role("button", name="Sign up").click()
    expect(page.locator("#id_email_error")).to_have_text("This field is required.")
    expect(page.get_by_label("Username")).to_have_value("x")
    shot(page, "signup-errors")

    service_priced("300.00", name="Browser ECG")
    log_in(page, shot, patient)
    page.goto("/book/")
    page.get_by_label("Patient's full name").fill("")
    page.get_by_role("button", name="Continue to review").click()
    expect(page.locator("#id_services_error")).to_have_text("Choose at least one service.")
    expect(page.locator("#id_patient_name_error")).to_have_text("This field is required.")
    expect(page.get_by_role("alert")).to_contain_text("2 problems")
    shot(page, "book-errors")

    choose_and_review(page, shot, "Browser ECG")
    page.get_by_label("Card number").fill("1111 2222 3333 4444")
    page.get_by_role("button", name="Confirm & Pay").click()
    expect(page.locator("#id_card_number_error")).to_contain_text("This card is not accepted")
    expect(page.get_by_label("Card number")).to_have_value("1111 2222 3333 4444")
    shot(page, "review-errors")
    assert Booking.objects.count() == 0


def test_double_click_on_confirm_and_pay_makes_one_booking(
    page: Page, shot, patient, service_priced
):
    service_priced("600.00", name="Browser X-ray")
    log_in(page, shot, patient)
    choose_and_review(page, shot, "Browser X-ray")
    page.get_by_label("Card number").fill(VISA)
    page.get_by_role("button", name="Confirm & Pay").dblclick()
    # A pending answer refreshes itself until the saga has ended.
    expect(page.get_by_role("heading", name="Booking confirmed")).to_be_visible()
    shot(page, "double-click-result")
    assert Booking.objects.count() == 1
    assert Payment.objects.count() == 1

    # Back: the finished draft is gone, so the browser lands on the booking just made.
    page.go_back()
    expect(page.get_by_role("heading", name="Booking confirmed")).to_be_visible()
    expect(page.get_by_text("Choose the services to book first.")).to_have_count(0)
    shot(page, "after-back")
    assert Booking.objects.count() == 1


def test_the_same_payment_form_sent_twice_at_once_books_and_charges_once(
    page: Page, shot, patient, service_priced
):
    """Chromium may fold a double click into one navigation; this sends both for sure."""
    service_priced("1600.00", name="Browser CT")
    log_in(page, shot, patient)
    choose_and_review(page, shot, "Browser CT")
    page.get_by_label("Card number").fill(VISA)
    landed = page.evaluate(
        """async () => {
            const form = document.querySelector("form[method=post] #id_card_number").form;
            const send = () => fetch(form.action, {method: "POST", body: new FormData(form)});
            const answers = await Promise.all([send(), send()]);
            return answers.map((answer) => new URL(answer.url).pathname);
        }"""
    )
    booking = Booking.objects.get()
    assert landed == [f"/bookings/{booking.pk}/"] * 2
    assert Payment.objects.count() == 1
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert quota_for_day(clinic_today()).used == 1  # one discount taken, not two
    page.goto(landed[0])
    expect(page.get_by_role("heading", name="Booking confirmed")).to_be_visible()
    shot(page, "result")


def assert_no_horizontal_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"{page.url} is {width}px wide"


def test_pages_fit_a_360px_phone_screen(page: Page, shot, patient, service_priced):
    page.set_viewport_size({"width": 360, "height": 780})
    service_priced("1234567.00", name="Browser full-body scan with a rather long name indeed")
    for url, name in [
        ("/", "home"),
        ("/accounts/signup/", "signup"),
        ("/accounts/login/", "login"),
        ("/accounts/password_reset/", "password-reset"),
        ("/no-such-page/", "404"),
    ]:
        page.goto(url)
        assert_no_horizontal_scroll(page)
        shot(page, f"phone-{name}")

    log_in(page, shot, patient)
    page.goto("/book/")
    assert_no_horizontal_scroll(page)
    shot(page, "phone-book")
    choose_and_review(page, shot, "Browser full-body scan")
    assert_no_horizontal_scroll(page)
    shot(page, "phone-review")
    page.get_by_label("Card number").fill(DECLINED)
    page.get_by_role("button", name="Confirm & Pay").click()
    expect(page.get_by_role("heading", name="you were not charged")).to_be_visible()
    assert_no_horizontal_scroll(page)
    shot(page, "phone-result")
    page.goto("/bookings/")
    assert_no_horizontal_scroll(page)
    shot(page, "phone-my-bookings")
    page.goto("/accounts/password_change/")
    assert_no_horizontal_scroll(page)
    shot(page, "phone-password-change")


def test_keyboard_users_can_skip_to_the_content(page: Page, shot):
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    assert skip.evaluate("el => getComputedStyle(el).outlineStyle") == "solid"  # visible focus
    shot(page, "skip-link-focused")
    skip.press("Enter")
    page.keyboard.press("Tab")  # the next stop is inside the main content, past the menu
    inside_main = page.evaluate("document.querySelector('main').contains(document.activeElement)")
    assert inside_main


def test_the_last_discount_taken_before_pay_charges_nothing_and_offers_the_new_price(
    page: Page, shot, patient, service_priced
):
    from quotas.models import DiscountQuota
    from quotas.services import ensure_day
    from tests.support.factories import ADULT_BIRTHDAY

    mri = service_priced("3000.00", name="Browser MRI")  # eligible: above ₹1000
    ensure_day(clinic_today())
    DiscountQuota.objects.filter(day=clinic_today()).update(limit=1, used=0)
    log_in(page, shot, patient)
    choose_and_review(page, shot, "Browser MRI")
    expect(page.get_by_role("row", name="Expected to pay")).to_contain_text("₹2,640.00")
    expect(page.get_by_text("1 left now")).to_be_visible()
    # Another patient takes the day's last discount while this page is open.
    other = start_booking(
        user=UserFactory(),
        patient_name="Someone Else",
        gender="male",
        date_of_birth=ADULT_BIRTHDAY,
        service_ids=[mri.pk],
        payment_token="tok_visa",
    )
    other.refresh_from_db()
    assert other.discount_applied
    page.get_by_label("Card number").fill(VISA)
    page.get_by_role("button", name="Confirm & Pay").click()

    expect(page.get_by_role("heading", name="Booking not made")).to_be_visible()
    expect(page.get_by_text("The price went up before the payment").first).to_be_visible()
    expect(page.locator(".new-price")).to_contain_text("₹3,000.00")
    shot(page, "price-changed")
    mine = Booking.objects.get(user=patient)
    assert (mine.status, mine.failure_reason) == (BookingStatus.FAILED, "price_changed")
    assert not Payment.objects.filter(booking=mine).exists()  # nothing charged

    page.get_by_role("button", name="Review and pay the new price").click()
    expect(page.get_by_role("row", name="Expected to pay")).to_contain_text("₹3,000.00")
    expect(page.get_by_text("today's discounts are all used up")).to_be_visible()
    shot(page, "new-price-review")
    page.get_by_label("Card number").fill(VISA)
    page.get_by_role("button", name="Confirm & Pay ₹3,000.00").click()

    expect(page.get_by_role("heading", name="Booking confirmed")).to_be_visible()
    paid = Booking.objects.get(user=patient, status=BookingStatus.CONFIRMED)
    assert paid.final_price == 3000
    shot(page, "new-price-confirmed")
