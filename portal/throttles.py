"""Throttles whose rates are settings read per request (THROTTLE_*_RATE), not at import.

Counted in the app's database by one statement per request (`count_hit`): every app
process shares the count, and two requests at the same instant are both counted (DRF's
cache throttle reads its history, then writes it back: a race, and four statements on
the database cache). The window slides: the previous fixed window's count is weighed
by how much of it still lies within the last `duration` seconds.
"""

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime

from django.conf import settings
from django.db import connection
from rest_framework.throttling import SimpleRateThrottle

from portal.models import ThrottleWindow


class _SettingRateThrottle(SimpleRateThrottle):
    rate_setting: str
    # Set by SimpleRateThrottle.__init__ from the rate (the stubs leave them out).
    num_requests: int
    duration: int

    def get_rate(self) -> str:
        return getattr(settings, self.rate_setting)

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        self.now = self.timer()
        window, into = divmod(self.now, self.duration)
        current, previous = count_hit(
            key=f"{key}:{int(window)}",
            previous_key=f"{key}:{int(window) - 1}",
            expires_at=datetime.fromtimestamp(self.now + 2 * self.duration, tz=UTC),
        )
        self.current, self.previous = current, previous
        self.left_of_previous = 1 - into / self.duration  # its share still in the last duration
        return previous * self.left_of_previous + current <= self.num_requests

    def wait(self) -> float:
        if self.current > self.num_requests or not self.previous:
            return self.duration * self.left_of_previous  # until this window ends
        # Until the previous window's weighed count has shrunk enough.
        needed = 1 - (self.num_requests - self.current) / self.previous
        return max(self.duration * (self.left_of_previous - needed), 1)

    def get_cache_key(self, request, view) -> str | None:
        # Per client address, whatever credentials come along: any valid token (someone
        # else's too) must not buy a fresh allowance for guessing passwords.
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def count_hit(*, key: str, previous_key: str, expires_at: datetime) -> tuple[int, int]:
    """Count one request in window `key`; return its count and the previous window's.

    One upsert (PostgreSQL, and SQLite since 3.35): the row lock orders concurrent hits.
    """
    meta = ThrottleWindow._meta
    quote = connection.ops.quote_name
    table, pk, hits, expires = (
        quote(name) for name in (meta.db_table, "key", "hits", "expires_at")
    )
    sql = (
        f"INSERT INTO {table} ({pk}, {hits}, {expires}) VALUES (%s, 1, %s) "
        f"ON CONFLICT ({pk}) DO UPDATE SET {hits} = {table}.{hits} + 1 "
        f"RETURNING {hits}, (SELECT {hits} FROM {table} WHERE {pk} = %s)"
    )
    until = meta.get_field("expires_at").get_db_prep_value(expires_at, connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, [key, until, previous_key])
        current, previous = cursor.fetchone()
    return current, previous or 0


def purge_throttle_windows(*, now: datetime) -> int:
    """The worker's daily job: windows no throttle will read again."""
    return ThrottleWindow.objects.filter(expires_at__lt=now).delete()[0]


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
