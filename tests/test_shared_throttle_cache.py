"""CACHE_URL gives the throttles one count across every app process."""

import json

import pytest

from tests.support import servers

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

# A wrong login through the API, `n` times, from a fresh process (as a new gunicorn
# worker would be): prints the answers' status codes.
LOGIN_ATTEMPTS = """
import json, sys
from django.test import Client
client = Client(HTTP_HOST="127.0.0.1")
print(json.dumps([
    client.post(
        "/api/auth/token",
        {"username": "nobody", "password": "not-the-password"},
        content_type="application/json",
    ).status_code
    for _ in range(%d)
]))
"""


def login_attempts_in_a_new_process(n: int, env: dict[str, str]) -> list[int]:
    result = servers.manage("shell", "-c", LOGIN_ATTEMPTS % n, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def production(**extra: str) -> dict[str, str]:
    return servers.production_env(
        THROTTLE_LOGIN_RATE="3/minute", SECURE_SSL_REDIRECT="false", **extra
    )


def test_with_a_database_cache_two_processes_share_one_login_count():
    env = production(CACHE_URL="dbcache://clinic_cache")
    created = servers.manage("createcachetable", env=env)
    assert created.returncode == 0, created.stderr

    assert login_attempts_in_a_new_process(3, env) == [400, 400, 400]
    assert login_attempts_in_a_new_process(1, env) == [429]


def test_without_cache_url_each_process_counts_on_its_own():
    env = production()

    assert login_attempts_in_a_new_process(3, env) == [400, 400, 400]
    assert login_attempts_in_a_new_process(1, env) == [400]
