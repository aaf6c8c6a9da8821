"""The figure of issue 24: 100 payments (cards, online, cash mixed) committed at once over
100 connections get 100 document numbers, consecutive, none repeated.

The shared server's max_connections is 100 (less its superuser reserve and everyone
else's connections), so this runs on a throwaway cluster of its own with room for 100
more (tests/support/throwaway_postgres.py), migrated by `manage.py migrate`, and the
payments are committed by a child process on it (tests/support/hundred_payments_child.py).
"""

import json
import subprocess
import sys

import pytest
from django.conf import settings

from tests.support.throwaway_postgres import throwaway_cluster

PAYMENTS = 100


@pytest.mark.slow
def test_a_hundred_payments_over_a_hundred_connections_get_a_hundred_consecutive_numbers():
    with throwaway_cluster(max_connections=PAYMENTS + 30, database="clinic_hundred") as url:
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": "/tmp",
            "DJANGO_SETTINGS_MODULE": "clinic_site.settings_test",
            "DATABASE_URL": url,
            "LOG_LEVEL": "WARNING",
        }
        cwd = settings.BASE_DIR
        migrated = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert migrated.returncode == 0, migrated.stderr[-3000:]
        child = subprocess.run(
            [sys.executable, "-m", "tests.support.hundred_payments_child", str(PAYMENTS)],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    assert child.returncode == 0, child.stderr[-3000:]
    result = json.loads(child.stdout.strip().splitlines()[-1])
    print(  # the figure, for the report (pytest -s)
        f"\n{PAYMENTS} payments over {result['connections']} connections "
        f"(max_connections {result['max_connections']}): {result['seconds']} s, "
        f"numbers {result['numbers'][0]} … {result['numbers'][-1]}, {result['methods']}"
    )
    assert result["errors"] == []
    assert result["connections"] == PAYMENTS  # all open at once (the barrier), each its own
    assert result["captured"] == result["confirmed"] == PAYMENTS
    assert result["serials"] == list(range(1, PAYMENTS + 1))  # consecutive, no gap
    assert len(set(result["numbers"])) == PAYMENTS  # none repeated
    used = {method: count for method, count in result["methods"].items() if count}
    assert used == {"card": 34, "cash": 33, "online": 33}
    assert result["violations"] == []
