"""The benchmark's own arithmetic: CPU shares and the profile's attribution."""

import pytest

from bench.cpu import Sample, shares
from bench.profile import summarize


def test_cpu_shares_are_parts_of_the_machine_over_the_interval(monkeypatch):
    monkeypatch.setattr("bench.cpu.os.cpu_count", lambda: 2)
    before = Sample(at=100.0, app=10.0, database=4.0)
    after = Sample(at=110.0, app=22.0, database=8.0)  # 10 s on 2 cores: 20 CPU-seconds

    assert shares(before, after, load_cpu_seconds=1.0) == pytest.approx(
        {"app": 0.6, "database": 0.2, "load": 0.05, "idle_or_other": 0.15}
    )


RAW = "\n".join(
    [
        # 6 samples in an ORM call made from emit, 3 in psycopg under AuditLog.record,
        # 1 in gunicorn outside our code.
        "run (gunicorn/arbiter.py:10);post (portal/api.py:310);emit (bookings/events.py:100);"
        "create (django/db/models/query.py:650) 6",
        "run (gunicorn/arbiter.py:10);record (bookings/models.py:223);"
        "execute (psycopg/cursor.py:117) 3",
        "run (gunicorn/arbiter.py:10);handle (gunicorn/workers/sync.py:40) 1",
    ]
)


def test_the_profile_charges_each_sample_to_the_deepest_line_of_our_code():
    text = summarize(RAW, top=5)

    assert text.splitlines()[0] == "10 samples of the busy worker"
    assert " 60.0%  emit (bookings/events.py:100)" in text
    assert " 30.0%  record (bookings/models.py:223)" in text
    assert " 10.0%  (outside the project's code)" in text
    assert " 60.0%  Django ORM" in text
    assert " 30.0%  psycopg" in text
    assert " 10.0%  gunicorn" in text
