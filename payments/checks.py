"""Start-up checks of the payment settings: a wrong gateway setting stops `manage.py
check` (and every server start) instead of making bookings fail with a 500."""

from ipaddress import ip_address
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, register

from payments.gateway import gateway_class_problem

RAZORPAY = "razorpay"


@register()
def payment_gateway_configured(app_configs, **kwargs) -> list[Error]:
    return gateway_problems(
        gateway=settings.PAYMENT_GATEWAY,
        key_id=settings.RAZORPAY_KEY_ID,
        key_secret=settings.RAZORPAY_KEY_SECRET,
        webhook_secret=settings.RAZORPAY_WEBHOOK_SECRET,
        base_url=settings.RAZORPAY_API_BASE_URL,
        debug=settings.DEBUG,
        standin_allowed=settings.RAZORPAY_STANDIN_ALLOWED,
    )


def gateway_problems(
    *,
    gateway: str,
    key_id: str,
    key_secret: str,
    webhook_secret: str,
    base_url: str,
    debug: bool,
    standin_allowed: bool,
) -> list[Error]:
    problem = gateway_class_problem(gateway)
    if problem:
        return [
            Error(
                f"PAYMENT_GATEWAY: {problem}.",
                hint="Set PAYMENT_GATEWAY=simulated (test cards) or razorpay.",
                id="payments.E001",
            )
        ]
    if gateway != RAZORPAY:
        return []
    errors = []
    if not key_id or not key_secret:
        errors.append(
            Error(
                "PAYMENT_GATEWAY=razorpay needs RAZORPAY_KEY_ID and RAZORPAY_KEY_SECRET.",
                id="payments.E002",
            )
        )
    if not webhook_secret:
        # An empty secret would make every forged webhook's signature checkable by anyone.
        errors.append(
            Error(
                "PAYMENT_GATEWAY=razorpay needs RAZORPAY_WEBHOOK_SECRET (the webhook's secret).",
                id="payments.E003",
            )
        )
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        errors.append(
            Error(f"RAZORPAY_API_BASE_URL {base_url!r} is not a URL.", id="payments.E004")
        )
    elif not debug and not standin_allowed and _is_standin(parts.scheme, parts.hostname):
        errors.append(
            Error(
                f"RAZORPAY_API_BASE_URL {base_url!r} is the local stand-in, not Razorpay: "
                "no money would move.",
                hint="Unset it (https://api.razorpay.com) in production; tests set "
                "RAZORPAY_STANDIN_ALLOWED=true.",
                id="payments.E005",
            )
        )
    return errors


def _is_standin(scheme: str, host: str) -> bool:
    """Razorpay is reached over HTTPS by a public name; the stand-in runs on this machine."""
    if scheme != "https" or host == "localhost":
        return True
    try:
        address = ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private
