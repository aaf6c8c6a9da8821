"""Paying online on the patient pages, with the production Razorpay adapter talking to the
stand-in over HTTP: the review page's button and its Content-Security-Policy, the
JavaScript checkout's answer, the hosted page and the callback (no session needed, the
signature decides), the waiting page and the expired one, in English and Hindi."""

import re
from datetime import timedelta
from html import unescape
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from bookings.models import Booking, BookingStatus
from payments.models import Payment, PaymentStatus
from payments.tasks import reconcile_online_payments
from portal.ops.invariants import find_violations
from tests.support.pages_helpers import (
    details,
    expected_total_from,
    give_profile,
    request_key_from,
)
from tests.support.razorpay import hidden_fields, pay_at_hosted_page, razorpay  # noqa: F401

pytestmark = pytest.mark.usefixtures("commits")


@pytest.fixture
def patient(client, user):
    give_profile(user, gender="female", full_name="Asha Verma")
    client.force_login(user)
    return user


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in header.split(";") if part.strip())
    }


def review(client, *services):
    client.post("/book/", details(*services))
    return client.get("/book/review/")


def pay_form(page) -> dict:
    return {
        "request_key": request_key_from(page),
        "expected_total": expected_total_from(page),
    }


def book_without_javascript(client, *services) -> Booking:
    page = review(client, *services)
    response = client.post("/book/review/", pay_form(page))
    booking = Booking.objects.get()
    assert response.status_code == 302 and response.url == f"/bookings/{booking.pk}/"
    return booking


def hosted_form(page_html: str) -> tuple[str, dict]:
    """The waiting page's form to the gateway's hosted page: its action and fields."""
    action = re.search(r'<form method="post" action="([^"]+/v1/checkout/embedded)"', page_html)
    assert action, page_html
    start = page_html.index(action.group(0))
    form = page_html[start : page_html.index("</form>", start)]
    return unescape(action.group(1)), hidden_fields(form)


def test_the_review_page_offers_paying_online_and_allows_exactly_the_gateways_origins(
    client,
    patient,
    service_priced,
    razorpay,  # noqa: F811
    settings,
):
    page = review(client, service_priced("400.00", name="Online blood test"))
    html = page.content.decode()
    assert "Pay ₹400.00 online (UPI, card, netbanking)" in html
    assert 'name="card_number"' not in html  # the gateway takes no card token
    gateway = settings.RAZORPAY_API_BASE_URL
    assert f'<script src="{gateway}/v1/checkout.js"></script>' in html
    csp = policy(page)
    nonce = re.search(r'<script nonce="([^"]+)">', html).group(1)
    assert csp["script-src"] == ["'self'", f"'nonce-{nonce}'", gateway]
    assert csp["frame-src"] == [gateway]
    assert csp["form-action"] == ["'self'", gateway]
    assert csp["default-src"] == ["'self'"]


def test_razorpays_own_origins_come_from_the_settings(
    client,
    patient,
    service_priced,
    razorpay,  # noqa: F811
    settings,
):
    settings.RAZORPAY_CHECKOUT_JS_URL = "https://checkout.razorpay.com/v1/checkout.js"
    csp = policy(review(client, service_priced("400.00")))
    assert csp["script-src"][-1] == "https://checkout.razorpay.com"
    assert set(csp["frame-src"]) == {
        "https://checkout.razorpay.com",
        settings.RAZORPAY_API_BASE_URL,
    }


def test_with_the_simulated_gateway_the_card_stays_and_no_script_is_allowed(
    client, patient, service_priced
):
    page = review(client, service_priced("400.00"))
    html = page.content.decode()
    assert 'name="card_number"' in html and "online" not in html.lower().split("<main")[1]
    assert "<script" not in html
    assert policy(page)["script-src"] == ["'self'"]
    assert "frame-src" not in policy(page)


def test_without_javascript_the_patient_pays_at_the_hosted_page_and_returns_confirmed(
    client,
    patient,
    service_priced,
    razorpay,  # noqa: F811
    settings,
):
    booking = book_without_javascript(client, service_priced("400.00"))
    assert booking.status == BookingStatus.AWAITING_PAYMENT
    payment = Payment.objects.get(booking=booking)
    # Back to the review page: this booking, never a second one holding another time.
    assert client.get("/book/review/").url == f"/bookings/{booking.pk}/"
    waiting = client.get(f"/bookings/{booking.pk}/")
    html = waiting.content.decode()
    assert '<meta http-equiv="refresh" content="20">' in html
    until = timezone.localtime(payment.expires_at).strftime("%H:%M")
    assert f"Your time is held until {until} IST" in html
    # The timeline says so too, and what comes next.
    assert f"₹400.00 to pay online; your time is held until {until} IST." in html
    assert "Pay online before the time held for you runs out" in html
    assert policy(waiting)["form-action"] == ["'self'", settings.RAZORPAY_API_BASE_URL]

    url, fields = hosted_form(html)
    assert url == f"{settings.RAZORPAY_API_BASE_URL}/v1/checkout/embedded"
    assert fields["order_id"] == payment.order_id
    assert fields["key_id"] == razorpay.key_id
    assert fields["amount"] == "40000"  # paise
    assert fields["callback_url"] == f"http://testserver/bookings/{booking.pk}/payment/return/"
    back_to, proof = pay_at_hosted_page(url, fields)
    assert back_to == fields["callback_url"]
    assert set(proof) == {"razorpay_order_id", "razorpay_payment_id", "razorpay_signature"}

    # The gateway's page posts cross-site: no session cookie, no CSRF token.
    gateway_post = Client(enforce_csrf_checks=True)
    returned = gateway_post.post(urlsplit(back_to).path, proof)
    assert returned.status_code == 302 and returned.url == f"/bookings/{booking.pk}/"
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CAPTURED
    assert payment.gateway_reference == proof["razorpay_payment_id"]
    done = client.get(returned.url).content.decode()
    assert "Booking confirmed" in done and "refresh" not in done.split("</head>")[0]
    assert "₹400.00 online." in done and "by card" not in done
    # The same proof again changes nothing and lands on the same page.
    again = gateway_post.post(urlsplit(back_to).path, proof)
    assert again.status_code == 302
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.CAPTURED
    assert find_violations() == []


def test_with_javascript_the_review_answers_the_checkouts_options(
    client,
    patient,
    service_priced,
    razorpay,  # noqa: F811
):
    page = review(client, service_priced("400.00"))
    sent = pay_form(page)
    answer = client.post("/book/review/", sent, HTTP_ACCEPT="application/json")
    assert answer.status_code == 200
    booking = Booking.objects.get()
    payment = Payment.objects.get(booking=booking)
    body = answer.json()
    assert body["options"]["key"] == razorpay.key_id
    assert body["options"]["order_id"] == payment.order_id
    assert body["options"]["amount"] == 40000
    assert body["options"]["currency"] == "INR"
    assert body["options"]["prefill"]["name"] == "Asha Verma"
    assert body["callback_url"] == f"/bookings/{booking.pk}/payment/return/"
    assert body["booking_url"] == f"/bookings/{booking.pk}/"
    # A double click: the same booking and order, never a second order.
    twice = client.post("/book/review/", sent, HTTP_ACCEPT="application/json")
    assert twice.json() == body
    assert len(razorpay.orders) == 1

    # checkout.js's handler posts the proof to the callback: confirmed.
    proof = razorpay.pay(payment.order_id)
    returned = client.post(body["callback_url"], proof)
    assert returned.url == body["booking_url"]
    assert Booking.objects.get().status == BookingStatus.CONFIRMED


def test_a_javascript_review_with_a_mistake_is_answered_with_the_page_to_correct(
    client,
    patient,
    service_priced,
    razorpay,  # noqa: F811
):
    review(client, service_priced("400.00"))
    answer = client.post(
        "/book/review/", {"request_key": "not-a-key"}, HTTP_ACCEPT="application/json"
    )
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/html")  # the script submits the form
    assert Booking.objects.count() == 0


@pytest.mark.parametrize(
    "forged",
    [
        "wrong signature",
        "another order",
        "missing signature",
        "too long",
    ],
)
def test_a_forged_return_is_a_400_and_changes_nothing(
    client,
    patient,
    service_priced,
    razorpay,  # noqa: F811
    forged,
):
    booking = book_without_javascript(client, service_priced("400.00"))
    order_id = Payment.objects.get(booking=booking).order_id
    other = razorpay._create_order({"amount": 40000})[1]["id"]
    proof = razorpay.pay(other if forged == "another order" else order_id)
    if forged == "wrong signature":
        proof["razorpay_signature"] = "0" * 64
    elif forged == "missing signature":
        del proof["razorpay_signature"]
    elif forged == "too long":
        proof["razorpay_payment_id"] = "pay_" + "x" * 200
    answer = Client().post(f"/bookings/{booking.pk}/payment/return/", proof)
    assert answer.status_code == 400
    assert "Payment not confirmed" in answer.content.decode()
    booking.refresh_from_db()
    assert booking.status == BookingStatus.AWAITING_PAYMENT
    assert Payment.objects.get(booking=booking).status == PaymentStatus.PENDING


def test_a_failed_attempt_returns_to_the_waiting_page_saying_until_when_to_try_again(
    client,
    patient,
    service_priced,
    razorpay,  # noqa: F811
):
    booking = book_without_javascript(client, service_priced("400.00"))
    payment = Payment.objects.get(booking=booking)
    url, fields = hosted_form(client.get(f"/bookings/{booking.pk}/").content.decode())
    back_to, failure = pay_at_hosted_page(url, fields, action="fail")
    assert "error[code]" in failure
    returned = client.post(urlsplit(back_to).path, failure)
    assert returned.url == f"/bookings/{booking.pk}/"
    page = client.get(returned.url).content.decode()
    until = timezone.localtime(payment.expires_at).strftime("%H:%M")
    assert (
        f"The payment did not go through. Nothing was charged. You can try again until {until} IST"
        in page
    )
    assert Booking.objects.get().status == BookingStatus.AWAITING_PAYMENT


def test_the_hosted_pages_cancel_link_leads_back_to_the_booking(
    client,
    patient,
    service_priced,
    razorpay,  # noqa: F811
):
    booking = book_without_javascript(client, service_priced("400.00"))
    answer = Client().get(f"/bookings/{booking.pk}/payment/return/")
    assert answer.status_code == 302 and answer.url == f"/bookings/{booking.pk}/"
    assert (
        Client().get("/bookings/00000000-0000-0000-0000-000000000000/payment/return/").status_code
        == 404
    )


def test_an_expired_booking_says_the_time_was_released_and_offers_to_try_again(
    client,
    patient,
    service_priced,
    razorpay,  # noqa: F811
):
    service = service_priced("400.00", name="Expiring test")
    booking = book_without_javascript(client, service)
    Payment.objects.filter(booking=booking).update(expires_at=timezone.now() - timedelta(seconds=1))
    reconcile_online_payments()
    booking.refresh_from_db()
    assert booking.status == BookingStatus.FAILED
    assert booking.failure_reason == "payment_expired"
    page = client.get(f"/bookings/{booking.pk}/")
    html = page.content.decode()
    assert (
        "The online payment did not arrive in time, so the time held for you was released." in html
    )
    assert "refresh" not in html.split("</head>")[0]
    assert "Pay ₹400.00 online" not in html
    assert f'action="/bookings/{booking.pk}/retry/"' in html and ">Try again<" in html
    assert "another card" not in html  # no card was asked for
    # Trying again: the same services on the review page, paid online again.
    retried = client.post(f"/bookings/{booking.pk}/retry/")
    assert retried.url == "/book/review/"
    assert "Expiring test" in client.get("/book/review/").content.decode()


def test_another_patients_waiting_page_does_not_exist(
    client,
    patient,
    service_priced,
    razorpay,  # noqa: F811
    django_user_model,
):
    booking = book_without_javascript(client, service_priced("400.00"))
    stranger = django_user_model.objects.create_user("stranger", password="x-long-pass-9")
    other = Client()
    other.force_login(stranger)
    assert other.get(f"/bookings/{booking.pk}/").status_code == 404


def test_the_online_pages_in_hindi(
    client,
    patient,
    service_priced,
    razorpay,  # noqa: F811
):
    client.cookies["django_language"] = "hi"
    page = review(client, service_priced("400.00"))
    assert "₹400.00 ऑनलाइन चुकाएँ (UPI, कार्ड, नेटबैंकिंग)" in page.content.decode()
    client.post("/book/review/", pay_form(page))
    booking = Booking.objects.get()
    waiting = client.get(f"/bookings/{booking.pk}/").content.decode()
    assert "आपका समय" in waiting and "तक रोका गया है" in waiting
