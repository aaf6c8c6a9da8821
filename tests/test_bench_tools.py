"""The benchmark's own arithmetic: CPU shares and the profile's attribution."""

import pytest

from bench.cpu import Sample, shares
from bench.profile import summarize
from tests.support.razorpay import razorpay  # noqa: F401 (fixture)


def test_cpu_shares_are_parts_of_the_machine_over_the_interval(monkeypatch):
    monkeypatch.setattr("bench.cpu.os.cpu_count", lambda: 2)
    before = Sample(at=100.0, app=10.0, database=4.0)
    after = Sample(at=110.0, app=22.0, database=8.0)  # 10 s on 2 cores: 20 CPU-seconds

    assert shares(before, after, load_cpu_seconds=1.0) == pytest.approx(
        {"app": 0.6, "database": 0.2, "load": 0.05, "idle_or_other": 0.15}
    )


def test_postgres_cpu_per_booking_is_its_share_of_the_cores_over_the_rate(monkeypatch):
    from bench.report import database_ms_per_request

    monkeypatch.setattr("bench.report.os.cpu_count", lambda: 2)
    # 24% of 2 cores = 0.48 CPU-seconds each second, over 80 bookings: 6 ms each.
    row = {"good_per_second": 80.0, "cpu": {"database": 0.24}}

    assert database_ms_per_request(row) == pytest.approx(6.0)
    assert database_ms_per_request({"good_per_second": 80.0}) is None


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


@pytest.mark.django_db
def test_the_slot_table_grows_around_the_day_asked_about():
    from bench import measure

    assert measure.bulk_load_slots(10) == 10 * measure.SLOTS_PER_DAY
    assert measure.slots_answer_size() == 10 * measure.SLOTS_PER_DAY
    assert measure.bulk_load_slots(30) == 30 * measure.SLOTS_PER_DAY  # two earlier days added
    assert measure.bulk_load_slots(30) == 30 * measure.SLOTS_PER_DAY  # loading again adds none
    assert measure.slots_answer_size() == 10 * measure.SLOTS_PER_DAY  # the same answer


def test_a_slots_only_report_has_its_table_and_ratio(tmp_path):
    from bench.report import write

    def row(days, p50):
        read = {"p50_ms": p50, "p99_ms": p50 * 2}
        return {"practitioner_days": days, "slots_in_table": days * 32, "answer_slots": 320,
                "read": read, "indexes": ["slot_start"]}  # fmt: skip

    report = {"levels": [1], "workloads": {}, "setup": "test", "workers": 2,
              "slots": [row(10, 20.0), row(1000, 23.0)]}  # fmt: skip
    text = write(report, tmp_path).read_text()
    assert "| 1,000 | 32,000 | 320 | 23.0 | 46.0 | 1.15× | slot_start |" in text
    assert "Throughput" not in text
    assert (tmp_path / "slots-latest.md").exists() and not (tmp_path / "latest.md").exists()


@pytest.mark.django_db
def test_the_bulk_loader_fills_every_column_the_models_require(service_priced):
    """Its raw INSERT named the columns of its day; a NOT NULL column added since
    (cancellation_request_key) made `make bench` fail at its 10k rows."""
    from bench import measure
    from bookings.models import Booking, BookingItem, SagaEvent

    service_priced("300.00")
    measure.bulk_load_to(25)
    measure.bulk_load_to(25)  # loading again adds none

    bookings = list(Booking.objects.all())  # every row reads back through the model
    assert len(bookings) == 25
    assert {b.cancellation_request_key for b in bookings} == {""}
    assert {b.reschedules for b in bookings} == {0}
    assert BookingItem.objects.count() == 25 and SagaEvent.objects.count() == 25 * 5


@pytest.mark.slow  # it starts the load process
@pytest.mark.django_db(transaction=True)
def test_the_bench_sends_every_webhook_twice_and_each_is_acted_on_once(
    razorpay,  # noqa: F811
    live_server,
    user,
    service_priced,
):
    """The online part of `make bench`: its load process (bench/loadgen.py, each request
    of a file once) sends the stand-in's webhooks, twice and shuffled, to a real server."""
    import json
    import subprocess
    import sys

    from rest_framework.authtoken.models import Token

    from bench import online
    from payments.models import ONLINE_TOKEN
    from portal.flows import start_booking
    from tests.support.factories import ADULT_BIRTHDAY

    Token.objects.create(user=user)  # the proofs are sent as their patient
    service = service_priced("300.00")
    for _ in range(3):
        start_booking(
            user=user,
            patient_name="Bench Patient",
            gender="male",
            date_of_birth=ADULT_BIRTHDAY,
            service_ids=[service.pk],
            payment_token=ONLINE_TOKEN,
        )
    assert len(online.pay_every_waiting_order(razorpay)) == 3  # the webhooks kept
    requests = online.held_webhooks(razorpay, repeat=2, seed=23)
    command = [
        sys.executable, "bench/loadgen.py", "--url", live_server.url, "--concurrency", "4",
        "--requests", online.requests_file(requests), "--expect", '"status"',
    ]  # fmt: skip
    row = json.loads(subprocess.run(command, check=True, capture_output=True).stdout)

    assert row["requests"] == row["good"] == 3 * 3 * 2 and row["errors"] == 0
    assert row["answers"] == {"ignored": 6, "accepted": 6, "duplicate": 6}
    assert online.outcome() == {
        "orders_paid": 3,
        "still_waiting": 0,
        "confirmed": 3,
        "completed_more_than_once": 0,
        "webhook_events_stored": 6,
        "webhook_events_unprocessed": 0,
        "reversals": 0,
        "invariant_violations": [],
    }
