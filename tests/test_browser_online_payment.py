"""Figure 8 of issue 23: a new patient pays online in Chromium at 360 px, JavaScript on
and off, under `make run`'s settings: scripts/run-dev.sh itself starts the app (a real
server), its worker and the Razorpay stand-in (a real process), here on this test's
PostgreSQL database; plus the page of a booking whose time ran out."""

import os
import re
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from bookings.models import Booking, BookingStatus
from payments.models import Payment, PaymentStatus
from payments.tasks import reconcile_online_payments
from portal.ops.invariants import find_violations
from tests.support import servers
from tests.support.pages_helpers import fill_sign_up

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

KEY_SECRET = "browser-test-key-secret"
WEBHOOK_SECRET = "browser-test-webhook-secret"
PHONE = {"width": 360, "height": 740}


@dataclass
class MakeRun:
    server: servers.Server
    standin: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"


@pytest.fixture
def make_run(tmp_path, settings) -> Iterator[MakeRun]:
    """scripts/run-dev.sh as `make run` starts it (DEBUG on, no Razorpay settings: it
    picks the stand-in), on this test's database; the secrets given so that this test
    process can ask the same stand-in too. Stopped (Ctrl-C) before the database is
    flushed."""
    port, standin_port = servers.free_port(), servers.free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in servers.TEST_ONLY_VARIABLES and not k.startswith(("RAZORPAY_", "PAYMENT_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="clinic_site.settings",
        DEBUG="true",
        DATABASE_URL=servers.database_url(),
        RUN_ADDR=f"127.0.0.1:{port}",
        STANDIN_ADDR=f"127.0.0.1:{standin_port}",
        RUNSERVER_ARGS="--noreload",
        RAZORPAY_KEY_SECRET=KEY_SECRET,
        RAZORPAY_WEBHOOK_SECRET=WEBHOOK_SECRET,
        LOG_LEVEL="WARNING",
    )
    log_path = tmp_path / "run.log"
    with open(log_path, "w") as log:
        launcher = subprocess.Popen(
            ["scripts/run-dev.sh"],
            cwd=servers.ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
    server = servers.Server(port=port, process=launcher, log_path=log_path)
    standin = f"http://127.0.0.1:{standin_port}"
    # This process asks the same stand-in (the expiry's reconciliation) as the app does.
    settings.PAYMENT_GATEWAY = "razorpay"
    settings.RAZORPAY_KEY_ID = "rzp_test_standin"
    settings.RAZORPAY_KEY_SECRET = KEY_SECRET
    settings.RAZORPAY_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.RAZORPAY_API_BASE_URL = standin
    try:
        servers._wait_until_listening(server)
        servers._wait_until_listening(
            servers.Server(port=standin_port, process=launcher, log_path=log_path)
        )
        yield MakeRun(server=server, standin=standin)
    finally:
        os.killpg(launcher.pid, signal.SIGINT)  # Ctrl-C
        try:
            launcher.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(launcher.pid, signal.SIGKILL)
            launcher.wait()


@pytest.fixture
def walk_in(service_priced):
    return service_priced("450.00", name="Online thyroid test", requires_appointment=False)


def phone_page(browser, run: MakeRun, *, javascript: bool) -> tuple[Page, list[str]]:
    context = browser.new_context(base_url=run.url, viewport=PHONE, java_script_enabled=javascript)
    page = context.new_page()
    page.set_default_timeout(20_000)
    refused: list[str] = []
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return page, refused


def sign_up_and_review(page: Page, shot, service_name: str) -> None:
    page.goto("/accounts/signup/")
    fill_sign_up(page)
    page.get_by_role("button", name="Sign up").click()
    page.get_by_label(service_name).check()
    page.get_by_role("button", name=re.compile(r"^Continue")).click()
    expect(page.get_by_role("heading", name="Review and pay")).to_be_visible()
    shot(page, "review")
    assert_fits(page)


def assert_fits(page: Page) -> None:
    """Nothing wider than the phone: no sideways scrolling at 360 px."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def pay_button(page: Page):
    return page.get_by_role("button", name="Pay ₹450.00 online (UPI, card, netbanking)")


def test_with_javascript_the_checkout_opens_over_the_review_page_and_confirms(
    browser, make_run, walk_in, shot
):
    page, refused = phone_page(browser, make_run, javascript=True)
    sign_up_and_review(page, shot, walk_in.name)
    pay_button(page).click()

    checkout = page.frame_locator("iframe[title='Razorpay Checkout']")
    expect(checkout.get_by_role("heading", name="Pay ₹450.00")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/book/review/$"))  # over the review page
    shot(page, "checkout")
    checkout.get_by_role("button", name="Pay by UPI").click()

    expect(page.get_by_role("heading", name="Booking confirmed")).to_be_visible()
    shot(page, "confirmed")
    assert_fits(page)
    booking = Booking.objects.get()
    expect(page).to_have_url(f"{make_run.url}/bookings/{booking.pk}/")
    expect(page.get_by_label("Confirmation code")).to_have_text(booking.confirmation_code)
    assert booking.status == BookingStatus.CONFIRMED
    assert Payment.objects.get(booking=booking).status == PaymentStatus.CAPTURED
    assert refused == []  # the policy let the checkout in, and nothing else was refused
    page.context.close()
    assert find_violations() == []


def test_without_javascript_the_patient_pays_at_the_hosted_page_and_returns_confirmed(
    browser, make_run, walk_in, shot
):
    page, _ = phone_page(browser, make_run, javascript=False)
    sign_up_and_review(page, shot, walk_in.name)
    pay_button(page).click()

    # The booking waits for its payment: until when, and how to finish.
    expect(page.get_by_role("heading", name="Waiting for your payment")).to_be_visible()
    booking = Booking.objects.get()
    until = timezone.localtime(Payment.objects.get(booking=booking).expires_at)
    expect(page.locator(".held-until")).to_contain_text(
        f"Your time is held until {until:%H:%M} IST"
    )
    shot(page, "waiting")
    assert_fits(page)
    pay_button(page).click()

    # The gateway's hosted page (the stand-in's), then back to the clinic by its form.
    expect(page.get_by_role("heading", name="Pay ₹450.00")).to_be_visible()
    assert page.url.startswith(make_run.standin)
    shot(page, "hosted-page")
    page.get_by_role("button", name="Pay by UPI").click()
    page.get_by_role("button", name="Back to the clinic").click()  # no script to post it

    expect(page.get_by_role("heading", name="Booking confirmed")).to_be_visible()
    shot(page, "confirmed")
    expect(page).to_have_url(f"{make_run.url}/bookings/{booking.pk}/")
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    expect(page.get_by_label("Confirmation code")).to_have_text(booking.confirmation_code)
    page.context.close()
    assert find_violations() == []


def test_a_booking_whose_time_ran_out_says_it_was_released_and_offers_to_try_again(
    browser, make_run, walk_in, shot
):
    page, _ = phone_page(browser, make_run, javascript=False)
    sign_up_and_review(page, shot, walk_in.name)
    pay_button(page).click()
    expect(page.get_by_role("heading", name="Waiting for your payment")).to_be_visible()
    booking = Booking.objects.get()

    # The hold runs out unpaid: the worker's reconciliation asks the stand-in (no payment)
    # and fails the booking; the waiting page refreshes by itself (no JavaScript).
    Payment.objects.filter(booking=booking).update(expires_at=timezone.now() - timedelta(seconds=1))
    reconcile_online_payments()
    booking.refresh_from_db()
    assert booking.failure_reason == "payment_expired"
    expect(page.locator(".failure-reason")).to_have_text(
        "The online payment did not arrive in time, so the time held for you was released.",
        timeout=40_000,
    )
    shot(page, "expired")
    assert_fits(page)

    page.get_by_role("button", name="Try again", exact=True).click()
    expect(page.get_by_role("heading", name="Review and pay")).to_be_visible()
    expect(pay_button(page)).to_be_visible()
    page.context.close()
    assert find_violations() == []
