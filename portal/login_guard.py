"""The login lockout (django-axes) and the simple per-address limits, as the app sees them.

One rule for "which client is this" everywhere: the address DRF's throttles use
(REMOTE_ADDR, or with API_NUM_PROXIES proxies in front the address they put in
X-Forwarded-For), so a client cannot dodge one count by forging a header another trusts.
"""

import hashlib
import time
from collections.abc import Iterable
from datetime import UTC, datetime

from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.throttling import BaseThrottle

from portal.throttles import count_hit

LOCKED_OUT_DETAIL = "Too many failed logins for this account or from this address; try later."


def client_address(request: HttpRequest) -> str:
    """AXES_CLIENT_IP_CALLABLE: the client's address, as the API throttles count it."""
    # The stubs ask for DRF's Request; get_ident reads only headers and META, as on any request.
    return BaseThrottle().get_ident(request)  # type: ignore[arg-type]


class AddressCappedHandler(AxesDatabaseHandler):
    """AXES_HANDLER: axes locks a username only at the address its failures came from
    (AXES_LOCKOUT_PARAMETERS, username and address together), so nobody can lock a staff
    member out from elsewhere; and an address is capped for every username once it has
    LOGIN_ADDRESS_FAILURE_LIMIT failures in the cool-off (one address guessing many
    accounts). Both counted in axes' table: one count for every worker and host."""

    def is_locked(self, request, credentials=None) -> bool:
        if super().is_locked(request, credentials):
            return True
        return address_capped(request.axes_ip_address)

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        # axes marks the request locked out (the 429) only by its own parameters; the
        # failure that reaches the address's cap, and those after it, are refused too.
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is not None and not getattr(request, "axes_locked_out", False):
            if address_capped(request.axes_ip_address):
                request.axes_locked_out = True
                request.axes_credentials = credentials


def address_capped(address: str) -> bool:
    return address_failures(address) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT


def address_failures(address: str) -> int:
    """Failed logins from `address`, for any username, within the cool-off."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    attempts = AccessAttempt.objects.filter(ip_address=address, attempt_time__gte=since)
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


def lockout_seconds() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


def lockout_response(request: HttpRequest, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: what a locked-out login gets at the web and admin doors
    (the API answers its own 429, bookings/api.py)."""
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": LOCKED_OUT_DETAIL}, status=429)
    else:
        response = render(request, "429.html", {"paused": _("logging in")}, status=429)
    response["Retry-After"] = str(lockout_seconds())
    return response


def _parse_rate(rate: str) -> tuple[int, int]:
    """DRF's rate format, "N/second|minute|hour|day" (the unit by its first letter)."""
    count, unit = rate.split("/")
    return int(count), {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit.strip()[0]]


def _digest(text: str) -> str:
    # Count keys of a fixed shape, whatever a client sends (and no e-mail address in them).
    return hashlib.sha256(text.encode("utf-8", "backslashreplace")).hexdigest()


def seconds_until_allowed(*, scope: str, idents: Iterable[str], rate: str) -> int:
    """Count one attempt against each of `idents` (an address, an e-mail address); answer
    0 when all are within `rate` (DRF's format, "5/hour"), else the seconds until the
    fullest one's window ends. Fixed windows, counted in the database by the API
    throttles' upsert (`count_hit`): one statement per ident, so attempts at the same
    instant, from any worker, are each counted and exactly `rate` pass."""
    allowed, period = _parse_rate(rate)
    now = time.time()
    window = int(now // period)
    expires_at = datetime.fromtimestamp((window + 1) * period, tz=UTC)
    wait = 0
    for ident in idents:
        key = f"limit:{scope}:{_digest(ident)}"
        count, _previous = count_hit(
            key=f"{key}:{window}", previous_key=f"{key}:{window - 1}", expires_at=expires_at
        )
        if count > allowed:
            wait = max(wait, int(period - now % period) + 1)
    return wait
