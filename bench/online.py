"""The online path in `make bench` (issue 23): orders, the checkout's proofs and the
gateway's webhooks, through gunicorn and the production Razorpay adapter talking to the
stand-in (payments/razorpay_standin) over HTTP, as `make run` and the tests do.

The stand-in keeps its webhooks (no webhook URL): the load process sends them, each
as often as asked and shuffled, as Razorpay's retries and lack of order would.
"""

import json
import random
import tempfile
from collections import Counter

from rest_framework.authtoken.models import Token

from bookings.models import Booking, BookingStatus, SagaEvent
from payments.models import Payment, PaymentMethod, PaymentStatus, ReversedCapture, WebhookEvent
from portal.ops.invariants import find_violations

WEBHOOK_PATH = "/webhooks/razorpay"


def online_body(setup: dict) -> str:
    """The no-discount walk-in, paid online instead of by card."""
    body = json.loads(setup["no_discount_body"])
    del body["payment_token"]
    body["payment_method"] = "online"
    return json.dumps(body)


def server_env(standin, url: str) -> dict[str, str]:
    """The settings of a gunicorn whose gateway is Razorpay, reached at the stand-in."""
    return {
        "PAYMENT_GATEWAY": "razorpay",
        "RAZORPAY_KEY_ID": standin.key_id,
        "RAZORPAY_KEY_SECRET": standin.key_secret,
        "RAZORPAY_WEBHOOK_SECRET": standin.webhook_secret,
        "RAZORPAY_API_BASE_URL": url,
        "RAZORPAY_STANDIN_ALLOWED": "true",
    }


def pay_every_waiting_order(standin) -> list[dict]:
    """The patients pay every order awaiting payment (the stand-in keeps the webhooks);
    returns each booking's proof as the request its checkout would send."""
    waiting = Payment.objects.filter(
        method=PaymentMethod.ONLINE, status=PaymentStatus.PENDING
    ).values_list("order_id", "booking_id", "booking__user_id")
    tokens = dict(Token.objects.values_list("user_id", "key"))
    proofs = []
    for order_id, booking_id, user_id in waiting:
        proofs.append(
            {
                "path": f"/api/booking/{booking_id}/payment",
                "body": json.dumps(standin.pay(order_id)),
                "headers": {"Authorization": f"Token {tokens[user_id]}"},
            }
        )
    return proofs


def held_webhooks(standin, *, repeat: int, seed: int) -> list[dict]:
    """Every webhook the stand-in kept, `repeat` times, shuffled, as requests."""
    batch, standin.held = standin.held * repeat, []
    random.Random(seed).shuffle(batch)
    return [
        {
            "path": WEBHOOK_PATH,
            "body": webhook.body.decode(),
            "headers": {
                "X-Razorpay-Signature": webhook.signature(standin.webhook_secret),
                "X-Razorpay-Event-Id": webhook.event_id,
            },
        }
        for webhook in batch
    ]


def requests_file(requests: list[dict]) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as handle:
        for request in requests:
            handle.write(json.dumps(request) + "\n")
    return handle.name


def outcome() -> dict:
    """What the online run left: every paid order confirmed once, each webhook event
    stored once and acted on, nothing reversed, no invariant broken."""
    paid = Payment.objects.filter(method=PaymentMethod.ONLINE, status=PaymentStatus.CAPTURED)
    correlations = paid.values_list("correlation_id", flat=True)
    completions = Counter(
        SagaEvent.objects.filter(
            event_type="PaymentCompleted", correlation_id__in=correlations
        ).values_list("correlation_id", flat=True)
    )
    return {
        "orders_paid": paid.count(),
        "still_waiting": Payment.objects.filter(
            method=PaymentMethod.ONLINE, status=PaymentStatus.PENDING
        ).count(),
        "confirmed": Booking.objects.filter(
            status=BookingStatus.CONFIRMED, payment__method=PaymentMethod.ONLINE
        ).count(),
        "completed_more_than_once": sum(1 for n in completions.values() if n > 1),
        "webhook_events_stored": WebhookEvent.objects.count(),
        "webhook_events_unprocessed": WebhookEvent.objects.filter(
            processed_at__isnull=True
        ).count(),
        "reversals": ReversedCapture.objects.count(),
        "invariant_violations": find_violations(),
    }
