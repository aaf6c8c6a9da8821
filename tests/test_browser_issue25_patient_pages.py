"""Issue 25's smaller items on the patient pages, in a real browser (Debian's Chromium)
against the live server, at 1280 and 360 px where layout matters. Each test failed before
its fix (the revert that shows it is named in its docstring)."""

import json
import re
from datetime import timedelta

import pytest
import responses
from playwright.sync_api import Page, expect

from bookings.models import Booking, BookingStatus
from bookings.services import clinic_today
from notifications import sender
from notifications.models import Channel, Notification, Status
from tests.support.factories import UserFactory
from tests.support.pages_helpers import DECLINED, VISA, give_profile
from tests.support.scheduling import appointment_service, practitioner, slot

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    pytest.mark.usefixtures("default_cancellation_policy"),
]

PASSWORD = "correct-horse-battery-staple"  # every factory-made user's
WIDTHS = pytest.mark.parametrize("width", [1280, 360], ids=["desktop", "phone"])
FITS = "document.documentElement.scrollWidth <= window.innerWidth"


@pytest.fixture
def patient(db):
    user = UserFactory()
    give_profile(user, gender="male", full_name="Ravi Kumar")
    return user


@pytest.fixture
def sized(browser, live_server, request):
    """sized(width) -> a page of a fresh context that wide (the `page` fixture is 1280)."""
    contexts = []

    def make(width: int) -> Page:
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": width, "height": 800}
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    yield make
    for context in contexts:
        context.close()


def log_in(page: Page, user) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def expect_step(page: Page, number: int, name: str) -> None:
    """Four steps on every page of a booking, `number` the current one."""
    steps = page.get_by_role("list", name="Booking steps").get_by_role("listitem")
    expect(steps).to_have_count(4)
    current = page.locator('.steps [aria-current="step"]')
    expect(current).to_have_count(1)
    expect(current).to_contain_text(f"{number} {name}")


def day_link(day) -> str:
    return f"{day:%a} {day.day} {day:%b}"


@WIDTHS
def test_the_steps_stay_four_and_each_button_says_where_it_goes(
    sized, shot, patient, service_priced, width
):
    """Reverts: templates/bookings/book.html, book_slot.html, review.html and
    booking_detail.html with their own three steps each (1-2-3 of "Services, Review,
    Result", then 1-2-3 of "Services, Day and time, Review") and book.html's one
    "Continue to review" button, which led to the day and time step."""
    consult = appointment_service("900.00", name="Browser Consultation")
    doctor = practitioner(consult, name="Dr. Browser Iyer")
    day = clinic_today() + timedelta(days=2)
    slot(doctor, day=day, at=(10, 0))
    service_priced("300.00", name="Browser ECG")
    page = sized(width)
    log_in(page, patient)

    # An appointment: services, day and time, review, result: 1, 2, 3, 4 of four.
    page.goto("/book/")
    expect_step(page, 1, "Services and patient")
    page.get_by_label("Browser Consultation").check()
    expect(page.get_by_role("button", name="Continue to review")).to_have_count(0)
    page.get_by_role("button", name="Continue to day and time").click()
    expect(page.get_by_role("heading", name="Choose a day and time")).to_be_visible()
    expect_step(page, 2, "Day and time")
    page.get_by_role("link", name=day_link(day)).click()
    page.get_by_label("10:00").check()
    shot(page, "time")
    page.get_by_role("button", name="Continue to review and pay").click()
    expect(page.get_by_role("heading", name="Review and pay")).to_be_visible()
    expect_step(page, 3, "Review and pay")
    page.get_by_label("Card number").fill(VISA)
    page.get_by_role("button", name="Confirm & Pay").click()
    expect(page.get_by_role("heading", name="Booking confirmed")).to_be_visible()
    expect_step(page, 4, "Result")
    assert page.evaluate(FITS)

    # A walk-in: the same four, step 2 said to be not needed; "Continue to review" is true.
    page.goto("/book/")
    page.get_by_label("Browser ECG").check()
    page.get_by_role("button", name="Continue to review").click()
    expect(page.get_by_role("heading", name="Review and pay")).to_be_visible()
    expect_step(page, 3, "Review and pay")
    expect(page.locator(".steps li").nth(1)).to_have_text("2 Day and time (not needed: walk in)")
    shot(page, "walk-in-review")
    page.get_by_label("Card number").fill(VISA)
    page.get_by_role("button", name="Confirm & Pay").click()
    expect(page.get_by_role("heading", name="Booking confirmed")).to_be_visible()
    expect_step(page, 4, "Result")
    assert Booking.objects.filter(status=BookingStatus.CONFIRMED).count() == 2


@WIDTHS
def test_the_services_say_which_need_a_time(sized, shot, patient, service_priced, width):
    """Reverts: templates/bookings/home.html and book.html without
    _service_kind.html (nothing told a consultation from a walk-in test)."""
    appointment_service("2200.00", name="Browser Echo", duration_minutes=30)
    service_priced("350.00", name="Browser CBC")
    page = sized(width)
    for path in ("/", "/book/"):
        if path == "/book/":
            log_in(page, patient)
        page.goto(path)
        echo = page.locator(".service, .service-choice").filter(has_text="Browser Echo")
        cbc = page.locator(".service, .service-choice").filter(has_text="Browser CBC")
        expect(echo.locator(".service-kind")).to_have_text("Needs an appointment time (30 minutes)")
        expect(cbc.locator(".service-kind")).to_have_text("Walk in: no appointment time needed")
        expect(echo.locator(".service-kind")).to_be_visible()
        assert page.evaluate(FITS)
        shot(page, path.strip("/") or "home")


def contrast_of(page: Page, selector: str) -> float:
    """WCAG's contrast ratio of the element's text against its nearest background."""
    return page.evaluate(
        """(selector) => {
        const element = document.querySelector(selector);
        const rgb = (text) => text.match(/[\\d.]+/g).map(Number);
        let holder = element, background = null;
        while (holder) {
            const colour = rgb(getComputedStyle(holder).backgroundColor);
            if (colour.length < 4 || colour[3] > 0) { background = colour; break; }
            holder = holder.parentElement;
        }
        const luminance = ([r, g, b]) => {
            const linear = (c) => {
                c /= 255;
                return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
            };
            return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
        };
        const [a, b] = [luminance(rgb(getComputedStyle(element).color)), luminance(background)];
        return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    }""",
        selector,
    )


@WIDTHS
def test_the_day_buttons_count_free_times_readably(sized, shot, patient, width):
    """Reverts: scheduling.selectors.days_with_free_slots summing free places (capacity
    less booked, every practitioner's) and _slot_picker.html's grey "(N free)" on the
    blue button (1.03:1)."""
    consult = appointment_service("900.00", name="Browser Consultation")
    iyer = practitioner(consult, name="Dr. Browser Iyer")
    rao = practitioner(consult, name="Dr. Browser Rao")
    day = clinic_today() + timedelta(days=2)
    slot(iyer, day=day, at=(9, 0), capacity=3)  # one time, three places
    slot(rao, day=day, at=(9, 0))  # the same time with someone else
    slot(rao, day=day, at=(9, 30))
    slot(rao, day=day, at=(10, 0), capacity=2, booked=2)  # full: not free
    page = sized(width)
    log_in(page, patient)
    page.goto("/book/")
    page.get_by_label("Browser Consultation").check()
    page.get_by_role("button", name="Continue to day and time").click()

    button = page.get_by_role("link", name=day_link(day))
    expect(button).to_have_text(f"{day_link(day)} (2 free times)")  # 09:00 and 09:30
    ratio = contrast_of(page, ".button--day .day-free")
    assert ratio >= 4.5, f"the count's contrast is {ratio:.2f}:1"
    assert page.evaluate(FITS)
    shot(page, "days")
    button.click()
    expect(page.locator(".slot-option")).to_have_text(["09:00", "09:00", "09:30"])


def test_try_again_after_a_decline_says_the_time_was_released(page: Page, shot, patient):
    """Reverts: portal/web/bookings.booking_retry sending the patient to "Choose a day and
    time" without a word, booking_detail offering "Try again" on an attempt booked since,
    and booking_detail.html's "Discount −₹186.00" and "Booked on" for a failed one."""
    consult = appointment_service("1550.00", name="Browser Consultation")  # 12% off: ₹186
    doctor = practitioner(consult, name="Dr. Browser Iyer")
    day = clinic_today() + timedelta(days=2)
    ten = slot(doctor, day=day, at=(10, 0))
    log_in(page, patient)
    page.goto("/book/")
    page.get_by_label("Browser Consultation").check()
    page.get_by_role("button", name="Continue to day and time").click()
    page.get_by_role("link", name=day_link(day)).click()
    page.get_by_label("10:00").check()
    page.get_by_role("button", name="Continue to review and pay").click()
    page.get_by_label("Card number").fill(DECLINED)
    page.get_by_role("button", name="Confirm & Pay").click()

    expect(page.get_by_role("heading", name="you were not charged")).to_be_visible()
    amounts = page.locator("section").filter(has=page.get_by_role("heading", name="Amounts"))
    expect(amounts).not_to_contain_text("−₹186.00")
    expect(amounts).not_to_contain_text("Booked on")
    expect(amounts.get_by_role("row", name="Discount offered, not used")).to_contain_text("₹186.00")
    expect(amounts.get_by_role("row", name="Not charged")).to_contain_text("₹1,364.00")
    expect(amounts).to_contain_text("Tried on")
    shot(page, "declined")
    declined_url = page.url

    page.get_by_role("button", name="Try again with another card").click()
    expect(page.get_by_role("heading", name="Review and pay")).to_be_visible()
    when = f"{day:%a} {day.day} {day:%b}, 10:00 IST"
    expect(page.get_by_role("status")).to_contain_text(
        f"The time you had chosen, {when}, was released when the payment did not go "
        "through. It is still free, so it is chosen again for you"
    )
    expect(page.locator(".appointment-when")).to_contain_text("10:00–10:15 IST")
    shot(page, "retry")
    page.get_by_label("Card number").fill(VISA)
    page.get_by_role("button", name="Confirm & Pay").click()
    expect(page.get_by_role("heading", name="Booking confirmed")).to_be_visible()
    made = Booking.objects.get(status=BookingStatus.CONFIRMED)
    assert made.appointment_start == ten.start

    # The old attempt no longer offers "Try again": it points to the booking made.
    page.goto(declined_url)
    expect(page.get_by_role("button", name="Try again")).to_have_count(0)
    expect(page.locator(".made-after")).to_contain_text("You booked these services since")
    page.get_by_role("link", name=f"booking {made.confirmation_code}").click()
    expect(page.get_by_role("heading", name="Booking confirmed")).to_be_visible()
    shot(page, "made-after")


def test_try_again_when_the_released_time_was_taken_says_so(page: Page, shot, patient, book):
    """Revert: portal/web/bookings.booking_retry as before (the slot step, no word)."""
    consult = appointment_service("900.00", name="Browser Consultation")
    doctor = practitioner(consult, name="Dr. Browser Iyer")
    day = clinic_today() + timedelta(days=2)
    ten = slot(doctor, day=day, at=(10, 0))
    slot(doctor, day=day, at=(11, 0))
    failed = book(services=[consult], slot=ten, payment_token="tok_chargeDeclined", by=patient)
    someone = UserFactory()
    book(services=[consult], slot=ten, by=someone)  # takes the time given back
    log_in(page, patient)
    page.goto(f"/bookings/{failed.pk}/")
    page.get_by_role("button", name="Try again with another card").click()

    expect(page.get_by_role("heading", name="Choose a day and time")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(
        "was released when the payment did not go through, and someone has taken it since"
    )
    expect(page.get_by_text(re.compile(r"^Free times on "))).to_be_visible()  # that day
    expect(page.locator(".slot-option")).to_have_text(["11:00"])
    shot(page, "taken")


@responses.activate
def test_a_cancelled_booking_and_its_sms_say_what_came_back(page: Page, shot, book, settings):
    """Reverts: my_bookings.html and booking_detail.html showing "₹900.00" beside
    "Cancelled"; templates/notifications/en/cancellation_sms.txt without the refund;
    portal/flows.cancellation_quote's "100.00% of ₹900.00 comes back"."""
    settings.SMS_BACKEND = "notifications.sms.Msg91Backend"
    settings.MSG91_URL = "https://msg91.test/api/v2/sendsms"
    responses.post(settings.MSG91_URL, json={"type": "success", "message": "req-1"})
    responses.add_passthru(re.compile(r"http://(localhost|127\.0\.0\.1)"))
    user = UserFactory()
    profile = give_profile(user, gender="male", full_name="Ravi Kumar")
    profile.phone = "+919812345678"
    profile.save()
    consult = appointment_service("900.00", name="Browser Consultation")
    doctor = practitioner(consult, name="Dr. Browser Iyer")
    day = clinic_today() + timedelta(days=3)  # the full refund tier
    booking = book(services=[consult], slot=slot(doctor, day=day, at=(9, 0)), by=user)
    sender.send_due()  # the confirmation's e-mail and SMS, out of the way

    log_in(page, user)
    page.goto(f"/bookings/{booking.pk}/cancel/")
    expect(page.get_by_text("all of ₹900.00 comes back.")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("100.00%")
    page.get_by_role("button", name="Cancel the booking").click()
    expect(page.get_by_role("heading", name="Booking cancelled")).to_be_visible()
    expect(page.get_by_role("row", name="Refunded")).to_contain_text("₹900.00")
    shot(page, "detail")
    page.goto("/bookings/")
    row = page.locator(".booking-list > li").first
    expect(row.locator(".refund")).to_have_text("₹900.00 refunded")
    shot(page, "list")

    responses.calls.reset()
    sender.send_due()
    sms = Notification.objects.get(booking=booking, kind="cancellation", channel=Channel.SMS)
    assert sms.status == Status.SENT
    sent = json.loads(responses.calls[0].request.body)["sms"][0]["message"]
    assert sent == (
        f"Booking {booking.confirmation_code} for Asha Verma is cancelled. "
        "₹900.00 was refunded to your card."
    )


@WIDTHS
def test_a_long_service_name_breaks_between_words_at_360px(
    sized, shot, patient, service_priced, width
):
    """Revert: the .service-name and .service-choice-name rule in static/css/site.css
    (body's overflow-wrap: anywhere split "Echocardiogra/m" at 360 px)."""
    service_priced(
        "2200.00",
        name="Browser 2D Echocardiogram",
        description="Ultrasound of the heart with a cardiologist's report.",
    )
    page = sized(width)
    log_in(page, patient)
    for path in ("/book/", "/"):
        page.goto(path)
        lines = page.evaluate(
            """() => {
            const main = document.querySelector("main");
            const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
            while (walker.nextNode()) {
                const text = walker.currentNode.textContent;
                const at = text.indexOf("Echocardiogram");
                if (at < 0) continue;
                const range = document.createRange();
                range.setStart(walker.currentNode, at);
                range.setEnd(walker.currentNode, at + "Echocardiogram".length);
                return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
            }
            return 0;
        }"""
        )
        assert lines == 1, f"'Echocardiogram' runs over {lines} lines on {path} at {width} px"
        assert page.evaluate(FITS)
        shot(page, path.strip("/") or "home")
