"""The throttles count in the database with one upsert: concurrent requests are all
counted (DRF's cache throttle read its history and wrote it back, so simultaneous
requests could each see the old count and all pass), and the window slides."""

import pytest
from django.test import RequestFactory
from rest_framework.request import Request

from portal.models import ThrottleWindow
from portal.throttles import LoginThrottle, count_hit
from tests.support.racing import at_once

pytestmark = pytest.mark.usefixtures("commits")


def login_attempt(*, at: float) -> tuple[bool, float | None]:
    throttle = LoginThrottle()
    throttle.timer = lambda: at
    request = Request(RequestFactory().post("/api/auth/token", REMOTE_ADDR="10.0.0.7"))
    allowed = throttle.allow_request(request, view=None)
    return allowed, None if allowed else throttle.wait()


@pytest.mark.django_db(transaction=True)  # threads at once
def test_twenty_hits_at_the_same_instant_are_twenty_hits():
    counts = at_once([lambda: count_hit(key="k:1", previous_key="k:0", expires_at=_later())] * 20)

    assert sorted(current for current, _ in counts) == list(range(1, 21))
    assert ThrottleWindow.objects.get(key="k:1").hits == 20


@pytest.mark.django_db(transaction=True)  # threads at once
def test_twelve_logins_at_once_against_five_a_minute_let_exactly_five_through(settings):
    settings.THROTTLE_LOGIN_RATE = "5/minute"
    at = 600.0 * 1_000_000 + 10  # 10 s into a window

    outcomes = at_once([lambda: login_attempt(at=at)[0]] * 12)

    assert outcomes.count(True) == 5


def test_the_window_slides_over_its_boundary(settings):
    settings.THROTTLE_LOGIN_RATE = "3/minute"
    start = 60.0 * 1_000_000 + 50  # 50 s into a window: 10 s before the next one

    assert [login_attempt(at=start)[0] for _ in range(3)] == [True, True, True]
    # 15 s later, in the next window: the last minute still holds three attempts.
    allowed, wait = login_attempt(at=start + 15)
    assert not allowed and 1 <= wait <= 60
    # Once the earlier window has slid out, attempts pass again.
    assert login_attempt(at=start + 70)[0]


def _later():
    from datetime import UTC, datetime, timedelta

    return datetime.now(tz=UTC) + timedelta(minutes=5)
