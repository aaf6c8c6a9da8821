"""The Razorpay stand-in served over real HTTP for a test, with the settings that make the
app's production adapter talk to it (PAYMENT_GATEWAY=razorpay)."""

import json
import re
from collections.abc import Iterator
from html import unescape
from urllib.parse import urlsplit

import pytest
import requests

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


HIDDEN_INPUT = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def hidden_fields(html: str) -> dict[str, str]:
    return {name: unescape(value) for name, value in HIDDEN_INPUT.findall(html)}


def pay_at_hosted_page(url: str, fields: dict, *, action: str = "upi") -> tuple[str, dict]:
    """What a patient's browser does at the gateway without JavaScript: POST the hosted
    checkout's form (`url`: .../v1/checkout/embedded), press a button on its page.
    Returns where the gateway's page posts back (callback_url) and what it posts."""
    opened = requests.post(url, data=fields, timeout=10)
    assert opened.status_code == 200, opened.text
    found = re.search(r'<form method="post" action="([^"]+)"', opened.text)
    assert found, opened.text
    parts = urlsplit(url)
    answered = requests.post(
        f"{parts.scheme}://{parts.netloc}{unescape(found.group(1))}",
        data={**hidden_fields(opened.text), "action": action},
        timeout=10,
    )
    assert answered.status_code == 200, answered.text
    back = re.search(r'<form id="back" method="post" action="([^"]+)"', answered.text)
    assert back, answered.text
    return unescape(back.group(1)), hidden_fields(answered.text)
