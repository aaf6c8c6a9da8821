"""The web login form is rate-limited like the API login: guessing passwords is slowed."""

import pytest
from django.core.cache import cache

pytestmark = pytest.mark.django_db


def test_too_many_login_attempts_are_refused_with_retry_after(client, user, settings):
    settings.THROTTLE_LOGIN_RATE = "3/minute"
    cache.clear()
    for _ in range(3):
        answer = client.post("/accounts/login/", {"username": user.username, "password": "wrong"})
        assert answer.status_code == 200  # the form again, with its error

    refused = client.post(
        "/accounts/login/",
        {"username": user.username, "password": "correct-horse-battery-staple"},
    )
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert b"Too many attempts" in refused.content
    assert "_auth_user_id" not in client.session


def test_logging_in_within_the_limit_works(client, user, settings):
    settings.THROTTLE_LOGIN_RATE = "3/minute"
    cache.clear()
    answer = client.post(
        "/accounts/login/",
        {"username": user.username, "password": "correct-horse-battery-staple"},
    )
    assert answer.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
