"""The production Razorpay adapter (the official SDK) against the stand-in over real HTTP:
orders in paise with the booking as receipt and notes, auto-capture, an order's payments,
refunds once per key, the checkout's and the webhook's signatures."""

import json
from decimal import Decimal

import pytest
import requests
from razorpay.errors import BadRequestError

from payments.gateway import RefundDeclined
from payments.razorpay_gateway import RazorpayGateway, sign, webhook_signature_holds
from tests.support.razorpay import razorpay  # noqa: F401 (fixture)


def test_an_order_is_made_in_paise_with_the_booking_as_receipt(razorpay):  # noqa: F811
    order = RazorpayGateway().create_order(
        amount=Decimal("1234.50"), booking_id="b-1", correlation_id="c-1"
    )
    stored = razorpay.orders[order.order_id]
    assert order.order_id.startswith("order_") and order.amount == Decimal("1234.50")
    assert stored["amount"] == 123450 and stored["currency"] == "INR"
    assert stored["receipt"] == "b-1"
    assert stored["notes"] == {"booking_id": "b-1", "correlation_id": "c-1"}
    assert ("POST", "/v1/orders") in razorpay.requests_seen


def test_an_orders_payments_and_a_payment_are_read_back(razorpay):  # noqa: F811
    gateway = RazorpayGateway()
    order = gateway.create_order(amount=Decimal("500.00"), booking_id="b", correlation_id="c")
    assert gateway.payments_of(order_id=order.order_id) == []
    razorpay.fail(order.order_id)
    proof = razorpay.pay(order.order_id, method="card")
    found = gateway.payments_of(order_id=order.order_id)
    assert sorted(p.status for p in found) == ["captured", "failed"]
    paid = gateway.fetch_payment(payment_id=proof["razorpay_payment_id"])
    assert paid.captured and paid.amount == Decimal("500.00") and paid.order_id == order.order_id


def test_a_refund_is_made_once_per_key_however_often_asked(razorpay):  # noqa: F811
    gateway = RazorpayGateway()
    order = gateway.create_order(amount=Decimal("800.00"), booking_id="b", correlation_id="c")
    payment_id = razorpay.pay(order.order_id)["razorpay_payment_id"]
    first = gateway.refund(reference=payment_id, amount=Decimal("300.00"), idempotency_key="k1")
    again = gateway.refund(reference=payment_id, amount=Decimal("300.00"), idempotency_key="k1")
    assert first == again
    assert [r["amount"] for r in gateway.refunds_of(payment_id=payment_id)] == [30000]
    with pytest.raises(RefundDeclined):  # more than is left: Razorpay's 400
        gateway.refund(reference=payment_id, amount=Decimal("600.00"), idempotency_key="k2")


def test_the_checkout_proof_is_checked_against_the_key_secret(razorpay):  # noqa: F811
    gateway = RazorpayGateway()
    order = gateway.create_order(amount=Decimal("500.00"), booking_id="b", correlation_id="c")
    proof = razorpay.pay(order.order_id)
    holds = dict(
        order_id=order.order_id,
        payment_id=proof["razorpay_payment_id"],
        signature=proof["razorpay_signature"],
    )
    assert gateway.checkout_proof_holds(**holds)
    assert not gateway.checkout_proof_holds(**{**holds, "order_id": "order_someoneElse0"})
    assert not gateway.checkout_proof_holds(**{**holds, "signature": "0" * 64})
    assert not gateway.checkout_proof_holds(**{**holds, "signature": "é" * 64})


def test_wrong_keys_are_refused_by_the_standin(razorpay, settings):  # noqa: F811
    settings.RAZORPAY_KEY_SECRET = "not-the-secret"
    with pytest.raises(BadRequestError, match="api key"):
        RazorpayGateway().create_order(amount=Decimal("1.00"), booking_id="b", correlation_id="c")


def test_the_standin_speaks_razorpays_json_and_basic_auth(razorpay, settings):  # noqa: F811
    base = settings.RAZORPAY_API_BASE_URL
    auth = (razorpay.key_id, razorpay.key_secret)
    made = requests.post(f"{base}/v1/orders", json={"amount": 50000, "receipt": "r"}, auth=auth)
    assert made.status_code == 200 and made.json()["status"] == "created"
    assert requests.get(f"{base}/v1/orders/{made.json()['id']}", timeout=5).status_code == 401
    missing = requests.get(f"{base}/v1/payments/pay_nothing", auth=auth, timeout=5)
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "BAD_REQUEST_ERROR"
    page = requests.get(f"{base}/checkout/{made.json()['id']}?callback_url=/x", timeout=5)
    assert "Pay by UPI" in page.text and "Abandon" in page.text


def test_the_webhook_signature_is_over_the_raw_bytes():
    body = json.dumps({"event": "payment.captured"}).encode()
    good = sign("whsec", body)
    assert webhook_signature_holds(body=body, signature=good, secret="whsec")
    assert not webhook_signature_holds(body=body + b" ", signature=good, secret="whsec")
    assert not webhook_signature_holds(body=body, signature=good, secret="other")
    assert not webhook_signature_holds(body=body, signature="", secret="whsec")
    assert not webhook_signature_holds(body=body, signature=good, secret="")
    assert not webhook_signature_holds(body=body, signature="ü" * 64, secret="whsec")


def test_the_hosted_page_pays_fails_or_is_abandoned_and_posts_a_signed_proof_back(
    razorpay,  # noqa: F811
    settings,
):
    import re

    gateway = RazorpayGateway()
    base = settings.RAZORPAY_API_BASE_URL
    order = gateway.create_order(amount=Decimal("700.00"), booking_id="b", correlation_id="c")
    page = f"{base}/checkout/{order.order_id}"
    back = "http://clinic.test/booking/b/paid"
    left = requests.post(page, data={"action": "abandon", "callback_url": back}, timeout=5)
    assert "left the payment" in left.text and gateway.payments_of(order_id=order.order_id) == []
    failed = requests.post(page, data={"action": "fail", "callback_url": back}, timeout=5)
    assert f'action="{back}"' in failed.text and "error[code]" in failed.text
    paid = requests.post(page, data={"action": "upi", "callback_url": back}, timeout=5)
    fields = dict(re.findall(r'name="(razorpay_\w+)" value="([^"]+)"', paid.text))
    assert f'action="{back}"' in paid.text and fields["razorpay_order_id"] == order.order_id
    assert gateway.checkout_proof_holds(
        order_id=order.order_id,
        payment_id=fields["razorpay_payment_id"],
        signature=fields["razorpay_signature"],
    )
    statuses = sorted(p.status for p in gateway.payments_of(order_id=order.order_id))
    assert statuses == ["captured", "failed"]
    sent = [w.event for w in razorpay.held]  # no webhook URL configured: kept
    assert sent == ["payment.failed", "payment.authorized", "payment.captured", "order.paid"]
