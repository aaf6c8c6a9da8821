"""Throttles whose rates are settings read per request (THROTTLE_*_RATE), not at import."""

import hashlib
from collections.abc import Mapping

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class _SettingRateThrottle(SimpleRateThrottle):
    rate_setting: str

    def get_rate(self) -> str:
        return getattr(settings, self.rate_setting)

    def get_cache_key(self, request, view) -> str | None:
        # Per client address, whatever credentials come along: any valid token (someone
        # else's too) must not buy a fresh allowance for guessing passwords.
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class RegisterThrottle(_SettingRateThrottle):
    scope = "register"
    rate_setting = "THROTTLE_REGISTER_RATE"


class LoginThrottle(_SettingRateThrottle):
    """Login attempts per client address."""

    scope = "login"
    rate_setting = "THROTTLE_LOGIN_RATE"


class LoginUsernameThrottle(_SettingRateThrottle):
    """Login attempts per username tried, from any address (a botnet guessing one
    account); the same rate as per address. The lockout (django-axes) stops a guesser
    for longer; this one keeps API.md's 429 with Retry-After."""

    scope = "login-username"
    rate_setting = "THROTTLE_LOGIN_RATE"

    def get_cache_key(self, request, view) -> str | None:
        username = username_tried(request)
        if not username:
            return None  # nothing to count against; the per-address throttle still counts
        digest = hashlib.sha256(username.casefold().encode("utf-8", "backslashreplace"))
        return self.cache_format % {"scope": self.scope, "ident": digest.hexdigest()}


def username_tried(request) -> str:
    """The username of a login attempt: the API's JSON body or the login form's POST."""
    data = getattr(request, "data", None)
    if data is None:
        data = request.POST
    if not isinstance(data, Mapping):
        return ""
    return str(data.get("username") or "")


class BookingThrottle(_SettingRateThrottle):
    scope = "booking"
    rate_setting = "THROTTLE_BOOKING_RATE"

    def get_cache_key(self, request, view) -> str | None:
        # Booking needs a logged-in user: one allowance per patient, wherever they are.
        return self.cache_format % {"scope": self.scope, "ident": f"user-{request.user.pk}"}
