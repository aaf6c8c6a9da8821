"""Issue 23, figure 2: 100 bookings paid online, then cancelled by staff, every webhook of
theirs delivered 5 times and out of order (payment.captured before payment.authorized,
refund.processed before refund.created): each is acted on once. One PaymentCompleted, one
payment row, one confirmation notice per channel, one refund row ending refunded (one
PaymentRefunded, one refund note) per booking, and one refund at the gateway.

Real PostgreSQL and the production adapter talking to the Razorpay stand-in over HTTP. The
webhooks are the stand-in's own bodies, signed with the webhook secret as Razorpay signs
them, delivered through the app's webhook view by Django's test client: the claim is about
the app acting once on repeated, reordered events, which needs no server process (the
stand-in posting to a real server is test_online_payment_races' and the browser's part)."""

import random
from collections import Counter

import pytest
from django.test import Client

from billing.models import Document
from bookings.models import Booking, BookingStatus, SagaEvent
from notifications.models import Kind, Notification
from payments.models import Payment, PaymentStatus, Refund, RefundStatus, WebhookEvent
from portal.flows import cancel_booking
from portal.ops.invariants import find_violations
from tests.support.razorpay import envelope, post_webhook, razorpay  # noqa: F401

pytestmark = pytest.mark.usefixtures("commits", "default_cancellation_policy")

BOOKINGS = 100
REPEATS = 5


def shuffled_five_times(webhooks, seed: int):
    sent = list(webhooks) * REPEATS
    random.Random(seed).shuffle(sent)
    return sent


def first_positions(sent) -> dict[tuple[str, str], int]:
    """(event, entity id) → where its first delivery fell in the sent order."""
    seen: dict[tuple[str, str], int] = {}
    for at, webhook in enumerate(sent):
        payload = envelope(webhook)["payload"]
        entity = payload.get("refund", payload.get("payment"))["entity"]
        seen.setdefault((webhook.event, entity["id"]), at)
    return seen


def count_by_saga(event_type: str) -> Counter:
    return Counter(
        SagaEvent.objects.filter(event_type=event_type).values_list("correlation_id", flat=True)
    )


def test_a_hundred_bookings_each_webhook_five_times_out_of_order_acted_on_once(
    razorpay,  # noqa: F811
    patient_api,
    service_priced,
    settings,
):
    settings.THROTTLE_BOOKING_RATE = "1000/minute"  # one patient books a hundred times here
    lab = service_priced("1500.00", name="Online full-body check")
    razorpay.hold_webhooks()  # every webhook waits, to be delivered repeated and shuffled
    booked = []
    for n in range(BOOKINGS):
        body = {
            "patient_name": f"Patient {n}",
            "gender": "female",
            "date_of_birth": "1990-06-15",
            "service_ids": [lab.pk],
            "payment_method": "online",
        }
        answer = patient_api.post("/api/booking", body, format="json")
        assert answer.status_code == 201, answer.json()
        booked.append(answer.json())
        razorpay.pay(answer.json()["payment"]["order_id"])  # no proof sent: webhooks only
    client = Client()
    secret = razorpay.webhook_secret

    captures = shuffled_five_times(razorpay.held, seed=2)
    razorpay.held.clear()
    first = first_positions(captures)
    captured_first = [
        pay_id
        for (event, pay_id), at in first.items()
        if event == "payment.captured" and at < first[("payment.authorized", pay_id)]
    ]
    assert len(captured_first) > BOOKINGS // 4  # the order this test claims, really sent
    assert {post_webhook(client, w, secret=secret).status_code for w in captures} == {200}
    ids = [b["id"] for b in booked]
    assert set(Booking.objects.filter(pk__in=ids).values_list("status", flat=True)) == {
        BookingStatus.CONFIRMED
    }

    razorpay.refund_status = "pending"  # accepted now, processed by the bank later
    for booking in Booking.objects.filter(pk__in=ids):
        cancel_booking(booking=booking, actor="desk", by_staff=True, reason="clinic closed")
    assert Refund.objects.filter(status=RefundStatus.PENDING).count() == BOOKINGS
    for refund_id in list(razorpay.refunds):
        razorpay.settle_refund(refund_id)
    refunds = shuffled_five_times(razorpay.held, seed=3)
    first = first_positions(refunds)
    processed_first = [
        refund_id
        for (event, refund_id), at in first.items()
        if event == "refund.processed" and at < first[("refund.created", refund_id)]
    ]
    assert len(processed_first) > BOOKINGS // 4
    assert {post_webhook(client, w, secret=secret).status_code for w in refunds} == {200}

    # Each acted on once.
    correlation_ids = set(
        Booking.objects.filter(pk__in=ids).values_list("correlation_id", flat=True)
    )
    assert count_by_saga("PaymentCompleted") == Counter(dict.fromkeys(correlation_ids, 1))
    assert count_by_saga("PaymentRefunded") == Counter(dict.fromkeys(correlation_ids, 1))
    assert not SagaEvent.objects.filter(event_type="PaymentReversed").exists()
    assert Payment.objects.filter(booking_id__in=ids, status=PaymentStatus.CAPTURED).count() == (
        BOOKINGS
    )
    assert Payment.objects.count() == BOOKINGS
    notices = Counter(
        Notification.objects.filter(kind=Kind.CONFIRMATION).values_list("booking_id", "channel")
    )
    assert {booking_id for booking_id, _ in notices} == {b.pk for b in Booking.objects.all()}
    assert set(notices.values()) == {1}
    assert set(Refund.objects.values_list("status", flat=True)) == {RefundStatus.REFUNDED}
    assert Refund.objects.count() == BOOKINGS
    assert Document.objects.filter(kind="refund_note").count() == BOOKINGS
    assert Document.objects.exclude(kind="refund_note").count() == BOOKINGS  # one receipt each
    at_gateway = Counter(r["payment_id"] for r in razorpay.refunds.values())
    assert len(at_gateway) == BOOKINGS and set(at_gateway.values()) == {1}
    # Stored once each by event id: payment.captured, order.paid, refund.processed.
    stored = Counter(WebhookEvent.objects.values_list("event_type", flat=True))
    assert stored == {"payment.captured": 100, "order.paid": 100, "refund.processed": 100}
    assert not WebhookEvent.objects.filter(processed_at__isnull=True).exists()
    assert set(Booking.objects.values_list("status", flat=True)) == {BookingStatus.CANCELLED}
    assert find_violations() == []
