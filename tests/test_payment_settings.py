"""PAYMENT_GATEWAY takes short names; anything else stops `manage.py check` at start
(payments.E001…E005), never a 500 at booking time."""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from payments.checks import gateway_problems
from payments.gateway import SimulatedGateway, get_gateway
from payments.razorpay_gateway import RazorpayGateway

GOOD = {
    "gateway": "razorpay",
    "key_id": "rzp_live_abc",
    "key_secret": "secret",
    "webhook_secret": "whsec",
    "base_url": "https://api.razorpay.com",
    "debug": False,
    "standin_allowed": False,
}


def ids(**changes) -> list[str]:
    return [e.id for e in gateway_problems(**{**GOOD, **changes})]


def test_the_short_names_and_a_gateway_class_path_are_taken():
    assert ids() == []
    assert ids(gateway="simulated", key_id="", key_secret="", webhook_secret="") == []
    assert ids(gateway="payments.gateway.SimulatedGateway") == []


@pytest.mark.parametrize(
    "name",
    [
        "stripe",
        "",
        "Razorpay",
        "payments.gateway.NoSuchGateway",
        "no.such.module.Gateway",
        "payments.models.Payment",
    ],
)
def test_an_unknown_gateway_is_a_check_error(name):
    assert ids(gateway=name) == ["payments.E001"]


def test_razorpay_needs_its_keys_and_a_webhook_secret():
    assert ids(key_id="") == ["payments.E002"]
    assert ids(key_secret="") == ["payments.E002"]
    assert ids(webhook_secret="") == ["payments.E003"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8765",
        "https://localhost:9000",
        "https://10.0.0.5",
        "http://api.razorpay.com",
    ],
)
def test_the_standin_is_refused_in_production_unless_allowed(url):
    assert ids(base_url=url) == ["payments.E005"]
    assert ids(base_url=url, standin_allowed=True) == []
    assert ids(base_url=url, debug=True) == []


def test_a_base_url_that_is_no_url_is_refused():
    assert ids(base_url="api.razorpay.com") == ["payments.E004"]


def test_manage_py_check_fails_on_an_unknown_gateway(settings):
    settings.PAYMENT_GATEWAY = "razorpay-but-misspelt"
    with pytest.raises(SystemCheckError, match="payments.E001"):
        call_command("check")
    settings.PAYMENT_GATEWAY = "razorpay"
    settings.RAZORPAY_WEBHOOK_SECRET = ""
    with pytest.raises(SystemCheckError, match="payments.E003"):
        call_command("check")


def test_get_gateway_follows_the_short_names(settings):
    settings.PAYMENT_GATEWAY = "simulated"
    assert isinstance(get_gateway(), SimulatedGateway)
    settings.PAYMENT_GATEWAY = "razorpay"
    assert isinstance(get_gateway(), RazorpayGateway)
