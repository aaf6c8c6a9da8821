"""Paying online through the API (shared/API.md, "Paying online"), on PostgreSQL, with the
production Razorpay adapter talking to the stand-in over HTTP: the saga waits with the
slot and discount held; the proof, the webhook and reconciliation end in one capture;
captures the booking does not keep are refunded in full; forged messages change nothing."""

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from bookings.models import Booking, BookingStatus, SagaEvent
from payments.models import (
    Payment,
    PaymentStatus,
    RefundStatus,
    ReversalReason,
    ReversedCapture,
    WebhookEvent,
)
from payments.razorpay_gateway import sign
from payments.tasks import reconcile_online_payments
from portal.ops.invariants import find_violations
from quotas.models import DiscountQuota
from tests.support.razorpay import events_named, post_webhook, razorpay  # noqa: F401
from tests.support.scheduling import slot as make_slot

pytestmark = pytest.mark.usefixtures("commits")


@pytest.fixture
def gateway_client():
    """Razorpay's side: a plain client (the webhook is not in the apps' API schema)."""
    return Client()


@pytest.fixture
def mri(service_priced):
    return service_priced("1500.00", name="Online MRI")  # above ₹1000: discounted 12%


def book_online(client, *services, **extra):
    body = {
        "patient_name": "Asha Verma",
        "gender": "female",
        "date_of_birth": "1990-06-15",
        "service_ids": [s.pk for s in services],
        "payment_method": "online",
        **extra,
    }
    return client.post("/api/booking", body, format="json")


def proof_for(client, booking_id: str, proof: dict):
    return client.post(f"/api/booking/{booking_id}/payment", proof, format="json")


def event_types(booking_id: str) -> list[str]:
    booking = Booking.objects.get(pk=booking_id)
    return list(
        SagaEvent.objects.filter(correlation_id=booking.correlation_id)
        .order_by("sequence")
        .values_list("event_type", flat=True)
    )


def expire(booking_id: str) -> None:
    """Its hold ran out (the clock is not moved: only this order's expiry)."""
    Payment.objects.filter(booking_id=booking_id).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )


def test_an_online_booking_waits_holding_its_order_slot_and_discount(
    razorpay,  # noqa: F811
    patient_api,
    consult,
    doctor,
):
    place = make_slot(doctor, capacity=1)
    answer = book_online(patient_api, consult, slot_id=place.pk)
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["status"] == "awaiting_payment" and body["confirmation_code"] is None
    payment = body["payment"]
    assert payment["gateway"] == "razorpay" and payment["key_id"] == razorpay.key_id
    assert payment["amount"] == body["final_price"] == "900.00"
    assert payment["amount_paise"] == 90000 and payment["currency"] == "INR"
    order = razorpay.orders[payment["order_id"]]
    assert order["amount"] == 90000 and order["receipt"] == body["id"]
    assert order["notes"]["booking_id"] == body["id"]
    held_until = timezone.datetime.fromisoformat(payment["expires_at"])
    assert timedelta(minutes=14) < held_until - timezone.now() <= timedelta(minutes=15)
    assert event_types(body["id"])[-1] == "PaymentAwaited"
    place.refresh_from_db()
    assert place.booked == 1  # held while waiting
    assert find_violations() == []


def test_the_checkout_proof_confirms_and_the_same_proof_again_gets_the_same_answer(
    razorpay,  # noqa: F811
    patient_api,
    mri,
):
    body = book_online(patient_api, mri).json()
    assert body["final_price"] == "1320.00" and body["discount_applied"] is True
    proof = razorpay.pay(body["payment"]["order_id"])
    first = proof_for(patient_api, body["id"], proof)
    assert first.status_code == 200, first.json()
    assert first.json()["status"] == "confirmed" and first.json()["confirmation_code"]
    again = proof_for(patient_api, body["id"], proof)
    assert again.status_code == 200 and again.json() == first.json()
    assert event_types(body["id"]).count("PaymentCompleted") == 1
    payment = Payment.objects.get(booking_id=body["id"])
    assert payment.status == PaymentStatus.CAPTURED
    assert payment.gateway_reference == proof["razorpay_payment_id"]
    assert payment.amount == Decimal("1320.00")
    assert not ReversedCapture.objects.exists() and find_violations() == []


def test_a_proof_that_does_not_verify_is_a_400_and_changes_nothing(
    razorpay,  # noqa: F811
    patient_api,
    token_client,
    mri,
):
    body = book_online(patient_api, mri).json()
    other = book_online(patient_api, mri).json()
    proof = razorpay.pay(body["payment"]["order_id"])
    other_proof = razorpay.pay(other["payment"]["order_id"])
    forged = [
        {**proof, "razorpay_signature": sign("a-guessed-secret", b"x")},
        {**proof, "razorpay_signature": "é" * 64},
        {**proof, "razorpay_order_id": other["payment"]["order_id"]},  # another order
        other_proof,  # a good proof, of another booking
        {**proof, "razorpay_payment_id": other_proof["razorpay_payment_id"]},
    ]
    for sent in forged:
        refused = proof_for(patient_api, body["id"], sent)
        assert refused.status_code == 400, sent
        assert refused.json()["code"] == "bad_signature" and refused.json()["detail"]
    missing = proof_for(patient_api, body["id"], {"razorpay_order_id": "order_x"})
    assert missing.status_code == 400 and "razorpay_signature" in missing.json()
    assert proof_for(patient_api, "not-a-uuid", proof).status_code == 404
    from tests.support.factories import UserFactory

    stranger = token_client(UserFactory())
    assert proof_for(stranger, body["id"], proof).status_code == 404
    booking = Booking.objects.get(pk=body["id"])
    assert booking.status == BookingStatus.AWAITING_PAYMENT
    assert Payment.objects.get(booking=booking).status == PaymentStatus.PENDING
    assert "PaymentCompleted" not in event_types(body["id"])


def test_webhooks_repeated_and_out_of_order_are_acted_on_once(
    razorpay,  # noqa: F811
    patient_api,
    gateway_client,
    mri,
):
    razorpay.hold_webhooks()
    body = book_online(patient_api, mri).json()
    razorpay.pay(body["payment"]["order_id"])
    delivered = razorpay.held * 5
    random.Random(23).shuffle(delivered)
    statuses = [
        post_webhook(gateway_client, w, secret=razorpay.webhook_secret).status_code
        for w in delivered
    ]
    assert statuses == [200] * len(delivered)
    assert Booking.objects.get(pk=body["id"]).status == BookingStatus.CONFIRMED
    assert event_types(body["id"]).count("PaymentCompleted") == 1
    # Stored once each: payment.captured and order.paid (payment.authorized is ignored).
    assert sorted(WebhookEvent.objects.values_list("event_type", flat=True)) == [
        "order.paid",
        "payment.captured",
    ]
    assert WebhookEvent.objects.filter(processed_at__isnull=True).count() == 0
    assert not ReversedCapture.objects.exists() and find_violations() == []


def test_forged_or_unreadable_webhooks_are_400_and_change_nothing(
    razorpay,  # noqa: F811
    gateway_client,
    patient_api,
    mri,
    settings,
):
    razorpay.hold_webhooks()
    body = book_online(patient_api, mri).json()
    razorpay.pay(body["payment"]["order_id"])
    captured = events_named(razorpay.held, "payment.captured")[0]
    secret = razorpay.webhook_secret

    def raw(data: bytes, *, signature: str | None, event_id: str | None = "evt_forged0001"):
        headers = {} if event_id is None else {"HTTP_X_RAZORPAY_EVENT_ID": event_id}
        if signature is not None:
            headers["HTTP_X_RAZORPAY_SIGNATURE"] = signature
        return gateway_client.generic(
            "POST", "/webhooks/razorpay", data, content_type="application/json", **headers
        )

    tampered = captured.body.replace(b'"captured"', b'"captureD"', 1)
    cases = [
        raw(captured.body, signature=sign("wrong-secret", captured.body)),
        raw(tampered, signature=sign(secret, captured.body)),
        raw(captured.body, signature=None),
        raw(captured.body, signature=""),
        raw(captured.body, signature="ü" * 64),
        raw(b"not json", signature=sign(secret, b"not json")),
        raw(b"\xff\xfe", signature=sign(secret, b"\xff\xfe")),
        raw(b"[1, 2]", signature=sign(secret, b"[1, 2]")),
        raw(
            b'{"event": "payment.captured", "payload": {}}',
            signature=sign(secret, b'{"event": "payment.captured", "payload": {}}'),
        ),
        raw(captured.body, signature=sign(secret, captured.body), event_id=None),
    ]
    assert [c.status_code for c in cases] == [400] * len(cases)
    assert all(c.json()["code"] in ("bad_signature", "not_json", "bad_envelope") for c in cases)
    settings.RAZORPAY_WEBHOOK_SECRET = ""  # misconfigured: nothing verifies
    assert raw(captured.body, signature=sign("", captured.body)).status_code == 400
    assert not WebhookEvent.objects.exists()
    assert Booking.objects.get(pk=body["id"]).status == BookingStatus.AWAITING_PAYMENT
    assert gateway_client.get("/webhooks/razorpay").status_code == 405


def test_an_event_we_do_not_act_on_is_answered_200_at_once(razorpay, gateway_client):  # noqa: F811
    data = b'{"event": "payment.dispute.created", "payload": {}}'
    answer = gateway_client.generic(
        "POST",
        "/webhooks/razorpay",
        data,
        content_type="application/json",
        HTTP_X_RAZORPAY_SIGNATURE=sign(razorpay.webhook_secret, data),
        HTTP_X_RAZORPAY_EVENT_ID="evt_ignored00001",
    )
    assert answer.status_code == 200 and answer.json() == {"status": "ignored"}
    assert not WebhookEvent.objects.exists()


def test_expiry_asks_the_gateway_first_and_records_a_capture_it_finds(
    razorpay,  # noqa: F811
    patient_api,
    mri,
):
    razorpay.hold_webhooks()  # neither the proof nor the webhook arrives
    body = book_online(patient_api, mri).json()
    razorpay.pay(body["payment"]["order_id"])
    expire(body["id"])
    reconcile_online_payments()
    assert Booking.objects.get(pk=body["id"]).status == BookingStatus.CONFIRMED
    assert ("GET", f"/v1/orders/{body['payment']['order_id']}/payments") in razorpay.requests_seen
    assert find_violations() == []


def test_an_unpaid_order_expires_giving_back_slot_and_discount(
    razorpay,  # noqa: F811
    patient_api,
    consult,
    doctor,
    service_priced,
):
    place = make_slot(doctor, capacity=1)
    xray = service_priced("300.00", name="Walk-in X-ray")  # base 1200: discounted
    body = book_online(patient_api, consult, slot_id=place.pk).json()
    walk_in = book_online(patient_api, xray, consult, slot_id=make_slot(doctor, at=(10, 0)).pk)
    assert walk_in.json()["discount_applied"] is True
    quota = DiscountQuota.objects.get()
    assert quota.used == 1
    razorpay.fail(body["payment"]["order_id"])  # a declined attempt: still waiting
    reconcile_online_payments()
    assert Booking.objects.get(pk=body["id"]).status == BookingStatus.AWAITING_PAYMENT
    expire(body["id"])
    expire(walk_in.json()["id"])
    reconcile_online_payments()
    for booking_id in (body["id"], walk_in.json()["id"]):
        booking = Booking.objects.get(pk=booking_id)
        assert booking.status == BookingStatus.FAILED
        assert booking.failure_reason == "payment_expired"
        assert Payment.objects.get(booking=booking).status == PaymentStatus.DECLINED
    place.refresh_from_db()
    quota.refresh_from_db()
    assert place.booked == 0 and quota.used == 0
    assert event_types(body["id"])[-5:-1] == [
        "PaymentAwaited",
        "PaymentFailed",
        "CompensationTriggered",
        "SlotReleased",
    ]
    assert find_violations() == []


def test_a_capture_after_expiry_is_refunded_in_full_and_the_booking_stays_failed(
    razorpay,  # noqa: F811
    patient_api,
    gateway_client,
    consult,
    doctor,
):
    place = make_slot(doctor, capacity=1)
    body = book_online(patient_api, consult, slot_id=place.pk).json()
    expire(body["id"])
    reconcile_online_payments()
    razorpay.hold_webhooks()
    proof = razorpay.pay(body["payment"]["order_id"])  # the patient paid just too late
    late = proof_for(patient_api, body["id"], proof)
    assert late.status_code == 200 and late.json()["status"] == "failed"
    for webhook in razorpay.held * 2:  # the webhooks too, twice: still one refund
        assert (
            post_webhook(gateway_client, webhook, secret=razorpay.webhook_secret).status_code == 200
        )
    reversal = ReversedCapture.objects.get()
    assert reversal.reason == ReversalReason.NOT_WAITING
    assert reversal.status == RefundStatus.REFUNDED and reversal.amount == Decimal("900.00")
    refunds = [r for r in razorpay.refunds.values()]
    assert [(r["payment_id"], r["amount"]) for r in refunds] == [
        (proof["razorpay_payment_id"], 90000)
    ]
    assert event_types(body["id"]).count("PaymentReversed") == 1
    assert "PaymentCompleted" not in event_types(body["id"])
    place.refresh_from_db()
    assert place.booked == 0 and find_violations() == []


def test_a_second_capture_of_one_order_is_refunded_and_the_first_kept(
    razorpay,  # noqa: F811
    patient_api,
    mri,
):
    body = book_online(patient_api, mri).json()
    order_id = body["payment"]["order_id"]
    first = razorpay.pay(order_id)
    second = razorpay.pay(order_id, method="card")  # paid twice (two tabs)
    assert proof_for(patient_api, body["id"], first).json()["status"] == "confirmed"
    assert proof_for(patient_api, body["id"], second).json()["status"] == "confirmed"
    reversal = ReversedCapture.objects.get()
    assert reversal.gateway_payment_id == second["razorpay_payment_id"]
    assert reversal.reason == ReversalReason.SECOND_CAPTURE
    assert reversal.status == RefundStatus.REFUNDED
    assert Payment.objects.get().gateway_reference == first["razorpay_payment_id"]
    assert event_types(body["id"]).count("PaymentCompleted") == 1
    assert razorpay.payments[second["razorpay_payment_id"]]["status"] == "refunded"
    assert razorpay.payments[first["razorpay_payment_id"]]["amount_refunded"] == 0


def test_a_capture_of_another_amount_is_never_kept(razorpay, patient_api, mri):  # noqa: F811
    body = book_online(patient_api, mri).json()
    short = razorpay.pay(body["payment"]["order_id"], amount=100)  # ₹1 instead of ₹1320
    answer = proof_for(patient_api, body["id"], short)
    assert answer.status_code == 200 and answer.json()["status"] == "awaiting_payment"
    reversal = ReversedCapture.objects.get()
    assert reversal.reason == ReversalReason.WRONG_AMOUNT
    assert reversal.amount == Decimal("1.00") and reversal.status == RefundStatus.REFUNDED
    assert "PaymentCompleted" not in event_types(body["id"])


def test_online_needs_the_online_gateway_and_no_card_token(patient_api, mri, razorpay, settings):  # noqa: F811
    card_token = book_online(patient_api, mri, payment_token="tok_visa")
    assert card_token.status_code == 400 and "payment_token" in card_token.json()
    settings.PAYMENT_GATEWAY = "simulated"
    refused = book_online(patient_api, mri)
    assert refused.status_code == 400 and "payment_method" in refused.json()
    sneaked = patient_api.post(
        "/api/booking",
        {
            "patient_name": "Asha",
            "gender": "female",
            "date_of_birth": "1990-06-15",
            "service_ids": [mri.pk],
            "payment_token": "online",
        },
        format="json",
    )
    assert sneaked.status_code == 400 and "payment_token" in sneaked.json()
    card = patient_api.post(
        "/api/booking",
        {
            "patient_name": "Asha",
            "gender": "female",
            "date_of_birth": "1990-06-15",
            "service_ids": [mri.pk],
        },
        format="json",
    )
    assert card.status_code == 201 and card.json()["status"] == "confirmed"
    assert card.json()["payment"] is None


def test_a_confirmation_lost_after_a_late_capture_is_resumed_not_undone(
    razorpay,  # noqa: F811
    patient_api,
    mri,
):
    from bookings import events
    from portal.ops.recovery import resume_stuck_sagas
    from tests.support.saga_hooks import listeners_replaced

    body = book_online(patient_api, mri).json()
    # Paid at minute 14 of the hold: the request is older than the saga's hard deadline.
    Booking.objects.filter(pk=body["id"]).update(created_at=timezone.now() - timedelta(minutes=14))
    proof = razorpay.pay(body["payment"]["order_id"])
    with listeners_replaced(events.PaymentCompleted, keep_apps=()):  # confirmation lost
        assert proof_for(patient_api, body["id"], proof).json()["status"] == "pending"
    resume_stuck_sagas(now=timezone.now() + timedelta(minutes=2))
    assert Booking.objects.get(pk=body["id"]).status == BookingStatus.CONFIRMED
    assert razorpay.refunds == {} and find_violations() == []


def test_the_invariants_report_an_order_left_waiting_past_its_expiry(
    razorpay,  # noqa: F811
    patient_api,
    mri,
):
    body = book_online(patient_api, mri).json()
    assert find_violations() == []
    Payment.objects.filter(booking_id=body["id"]).update(
        expires_at=timezone.now() - timedelta(minutes=5)
    )
    assert [v for v in find_violations() if "still awaits payment" in v] != []
    reconcile_online_payments()
    assert find_violations() == []


def test_a_cancelled_online_booking_is_refunded_through_the_gateway_once(
    razorpay,  # noqa: F811
    patient_api,
    gateway_client,
    consult,
    doctor,
    default_cancellation_policy,
):
    from bookings.services import clinic_today
    from payments.models import Refund

    place = make_slot(doctor, day=clinic_today() + timedelta(days=3))
    body = book_online(patient_api, consult, slot_id=place.pk).json()
    proof = razorpay.pay(body["payment"]["order_id"])
    assert proof_for(patient_api, body["id"], proof).json()["status"] == "confirmed"
    cancelled = patient_api.post(f"/api/booking/{body['id']}/cancel", {}, format="json")
    assert cancelled.status_code == 200, cancelled.json()
    assert cancelled.json()["refund"] == {"amount": "900.00", "status": "refunded"}
    refunds = list(razorpay.refunds.values())
    assert [(r["payment_id"], r["amount"]) for r in refunds] == [
        (proof["razorpay_payment_id"], 90000)
    ]
    refund = Refund.objects.get()
    assert refund.gateway_reference == refunds[0]["id"]
    assert refund.status == RefundStatus.REFUNDED  # Razorpay answered it processed
    # Pending refunds and their webhooks: tests/test_online_refunds.py.


def test_fifty_forged_proofs_and_fifty_forged_webhooks_change_nothing(
    razorpay,  # noqa: F811
    patient_api,
    gateway_client,
    mri,
):
    razorpay.hold_webhooks()
    body = book_online(patient_api, mri).json()
    other = book_online(patient_api, mri).json()
    proof = razorpay.pay(body["payment"]["order_id"])
    other_proof = razorpay.pay(other["payment"]["order_id"])
    genuine = [
        w
        for w in razorpay.held
        if w.event in ("payment.captured", "order.paid")
        and body["payment"]["order_id"].encode() in w.body
    ]
    chance = random.Random(23)

    def forged_proof(n: int) -> dict:
        kind = n % 5
        if kind == 0:  # signed under a guessed key secret
            secret = f"guess-{chance.random()}"
            message = f"{proof['razorpay_order_id']}|{proof['razorpay_payment_id']}".encode()
            return {**proof, "razorpay_signature": sign(secret, message)}
        if kind == 1:  # one hex digit changed
            at = chance.randrange(64)
            flipped = "0" if proof["razorpay_signature"][at] != "0" else "1"
            signature = proof["razorpay_signature"]
            return {**proof, "razorpay_signature": signature[:at] + flipped + signature[at + 1 :]}
        if kind == 2:  # another booking's genuine proof
            return other_proof
        if kind == 3:  # another order's id with this payment's signature
            return {**proof, "razorpay_order_id": other["payment"]["order_id"]}
        return {**proof, "razorpay_payment_id": other_proof["razorpay_payment_id"]}

    for n in range(50):
        refused = proof_for(patient_api, body["id"], forged_proof(n))
        assert refused.status_code == 400 and refused.json()["code"] == "bad_signature", n

    def forged_webhook(n: int):
        webhook = genuine[n % len(genuine)]
        data, signature = webhook.body, sign(razorpay.webhook_secret, webhook.body)
        kind = n % 5
        if kind == 0:
            signature = sign(f"guess-{chance.random()}", data)
        elif kind == 1:  # the body tampered after signing (one byte)
            at = chance.randrange(len(data))
            data = data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]
        elif kind == 2:  # another order's id put into a signed body
            data = data.replace(
                body["payment"]["order_id"].encode(), other["payment"]["order_id"].encode()
            )
        elif kind == 3:
            signature = None  # no header at all
        else:
            signature = signature.upper()[:-1]
        headers = {"HTTP_X_RAZORPAY_EVENT_ID": f"evt_forged{n:06d}"}
        if signature is not None:
            headers["HTTP_X_RAZORPAY_SIGNATURE"] = signature
        return gateway_client.generic(
            "POST", "/webhooks/razorpay", data, content_type="application/json", **headers
        )

    for n in range(50):
        assert forged_webhook(n).status_code == 400, n
    assert not WebhookEvent.objects.exists()
    for booking_id in (body["id"], other["id"]):
        assert Booking.objects.get(pk=booking_id).status == BookingStatus.AWAITING_PAYMENT
        assert "PaymentCompleted" not in event_types(booking_id)
    assert not ReversedCapture.objects.exists() and razorpay.refunds == {}


def test_a_stored_webhook_whose_action_was_lost_is_acted_on_by_the_worker(
    razorpay,  # noqa: F811
    patient_api,
    mri,
):
    import json

    razorpay.hold_webhooks()
    body = book_online(patient_api, mri).json()
    razorpay.pay(body["payment"]["order_id"])
    captured = events_named(razorpay.held, "payment.captured")[0]
    # Stored, then the process died before acting on it (and no other messenger came).
    WebhookEvent.objects.create(
        event_id=captured.event_id, event_type=captured.event, payload=json.loads(captured.body)
    )
    WebhookEvent.objects.update(received_at=timezone.now() - timedelta(minutes=1))
    reconcile_online_payments()
    assert Booking.objects.get(pk=body["id"]).status == BookingStatus.CONFIRMED
    assert WebhookEvent.objects.get().processed_at is not None


def test_no_order_when_the_gateway_is_unreachable_fails_the_booking_and_frees_its_slot(
    razorpay,  # noqa: F811
    patient_api,
    consult,
    doctor,
    settings,
):
    import socket

    with socket.socket() as unused:  # a port nobody listens on
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    settings.RAZORPAY_API_BASE_URL = f"http://127.0.0.1:{port}"
    place = make_slot(doctor, capacity=1)
    answer = book_online(patient_api, consult, slot_id=place.pk)
    assert answer.status_code == 201
    assert answer.json()["status"] == "failed"
    assert answer.json()["failure_reason"] == "gateway_unavailable"
    assert answer.json()["payment"] is None
    place.refresh_from_db()
    assert place.booked == 0 and find_violations() == []


def test_reception_sees_the_captures_refunded_because_no_booking_kept_them(
    razorpay,  # noqa: F811
    patient_api,
    mri,
):
    from tests.support.admin_helpers import staff_member

    body = book_online(patient_api, mri).json()
    razorpay.pay(body["payment"]["order_id"])
    twice = razorpay.pay(body["payment"]["order_id"])
    expire(body["id"])  # no proof, no webhook: reconciliation finds both captures
    reconcile_online_payments()  # one kept, the other refunded
    assert Booking.objects.get(pk=body["id"]).status == BookingStatus.CONFIRMED
    reversal = ReversedCapture.objects.get()
    assert reversal.gateway_payment_id == twice["razorpay_payment_id"]
    desk = Client()
    desk.force_login(staff_member("Reception"))
    listing = desk.get("/admin/payments/reversedcapture/")
    assert listing.status_code == 200
    assert twice["razorpay_payment_id"] in listing.content.decode()
    assert desk.post(f"/admin/payments/reversedcapture/{reversal.pk}/delete/").status_code == 403


def test_an_appointment_awaiting_payment_has_a_tentative_calendar_entry(
    razorpay,  # noqa: F811
    patient_api,
    consult,
    doctor,
):
    body = book_online(patient_api, consult, slot_id=make_slot(doctor).pk).json()
    owner = APIClient()  # not the JSON-checking client: this answer is text/calendar
    owner.force_authenticate(Booking.objects.get(pk=body["id"]).user)
    ics = owner.get(f"/api/booking/{body['id']}/calendar.ics")
    assert ics.status_code == 200 and b"STATUS:TENTATIVE" in ics.content
    listed = patient_api.get("/api/booking").json()["results"]
    assert [(b["id"], b["status"], b["payment"]["order_id"]) for b in listed] == [
        (body["id"], "awaiting_payment", body["payment"]["order_id"])
    ]
