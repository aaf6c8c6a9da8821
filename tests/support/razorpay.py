"""The Razorpay stand-in served over real HTTP for a test, with the settings that make the
app's production adapter talk to it (PAYMENT_GATEWAY=razorpay)."""

import json
from collections.abc import Iterator

import pytest

from payments.razorpay_gateway import sign
from payments.razorpay_standin import StandIn, Webhook, serving


@pytest.fixture
def razorpay(settings) -> Iterator[StandIn]:
    standin = StandIn(seed=23)
    with serving(standin) as url:
        settings.PAYMENT_GATEWAY = "razorpay"
        settings.RAZORPAY_KEY_ID = standin.key_id
        settings.RAZORPAY_KEY_SECRET = standin.key_secret
        settings.RAZORPAY_WEBHOOK_SECRET = standin.webhook_secret
        settings.RAZORPAY_API_BASE_URL = url
        settings.RAZORPAY_CHECKOUT_JS_URL = f"{url}/v1/checkout.js"
        settings.RAZORPAY_TIMEOUT_SECONDS = 5
        yield standin


def post_webhook(client, webhook: Webhook, *, secret: str, signature: str | None = None):
    """Deliver a held webhook through Django's test client (same bytes, same headers)."""
    return client.generic(
        "POST",
        "/webhooks/razorpay",
        webhook.body,
        content_type="application/json",
        HTTP_X_RAZORPAY_SIGNATURE=signature
        if signature is not None
        else sign(secret, webhook.body),
        HTTP_X_RAZORPAY_EVENT_ID=webhook.event_id,
    )


def events_named(webhooks: list[Webhook], name: str) -> list[Webhook]:
    return [w for w in webhooks if w.event == name]


def envelope(webhook: Webhook) -> dict:
    return json.loads(webhook.body)
