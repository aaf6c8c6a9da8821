"""Throttles whose rates are settings read per request (THROTTLE_*_RATE), not at import."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class _SettingRateThrottle(SimpleRateThrottle):
    rate_setting: str

    def get_rate(self) -> str:
        return getattr(settings, self.rate_setting)

    def get_cache_key(self, request, view) -> str:
        user = request.user
        who = f"user-{user.pk}" if user and user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": who}


class RegisterThrottle(_SettingRateThrottle):
    scope = "register"
    rate_setting = "THROTTLE_REGISTER_RATE"


class LoginThrottle(_SettingRateThrottle):
    scope = "login"
    rate_setting = "THROTTLE_LOGIN_RATE"


class BookingThrottle(_SettingRateThrottle):
    scope = "booking"
    rate_setting = "THROTTLE_BOOKING_RATE"
