"""Production counts throttles in one place for every app process: the app's own database
(portal.ThrottleWindow, one upsert per request), whatever cache CACHE_URL names. The
database cache (its table made by `migrate`) stays the production cache default."""

import json
import sqlite3

import pytest
from django.db import connection

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


def cache_table_exists() -> bool:
    with connection.cursor() as cursor:
        return "clinic_cache" in connection.introspection.table_names(cursor)


def test_production_counts_in_the_database_by_default_and_migrate_makes_its_table():
    env = production()  # no CACHE_URL
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS clinic_cache")
    migrated = servers.manage("migrate", "--noinput", env=env)
    assert migrated.returncode == 0, migrated.stderr
    assert cache_table_exists()

    assert login_attempts_in_a_new_process(3, env) == [400, 400, 400]
    assert login_attempts_in_a_new_process(1, env) == [429]


def test_a_per_process_cache_does_not_split_the_count():
    # With the cache throttle, a memory cache gave each process its own count.
    env = production(CACHE_URL="locmemcache://")

    assert login_attempts_in_a_new_process(3, env) == [400, 400, 400]
    assert login_attempts_in_a_new_process(1, env) == [429]


def test_migrate_makes_the_cache_table_on_sqlite_too(tmp_path):
    database = tmp_path / "clinic.sqlite3"
    env = production(DATABASE_URL=f"sqlite:///{database}")
    migrated = servers.manage("migrate", "--noinput", env=env)
    assert migrated.returncode == 0, migrated.stderr
    with sqlite3.connect(database) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert "clinic_cache" in tables


def test_the_debug_default_is_memory_and_needs_no_table(settings):
    from clinic_site.settings import default_cache_url

    assert default_cache_url(debug=True) == "locmemcache://"
    assert default_cache_url(debug=False) == "dbcache://clinic_cache"
