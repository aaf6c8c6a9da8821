"""The JSON API under load, hostile input and a lost database, through gunicorn on PostgreSQL.

gunicorn runs the production settings with several worker processes; the clients
are threads in this process speaking plain HTTP, as a TLS-ending proxy would.
"""

import json
import uuid
from collections import Counter
from functools import partial

import psycopg
import pytest
from django.db import connection

from bookings.models import Booking, BookingStatus, MedicalService, SagaEvent
from payments.models import Payment, PaymentStatus, SimulatedGatewayCharge
from portal.ops.invariants import find_violations
from quotas.models import DiscountQuota, QuotaSettings
from tests.support import servers
from tests.support.bodies import booking_body
from tests.support.racing import at_once
from tests.support.recovery_checks import assert_all_sound

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

WORKERS = 4
CLIENTS = 12
BOOKINGS_PER_CLIENT = 5
LIMIT = 10
PROXY = {"X-Forwarded-Proto": "https"}  # what the TLS-ending proxy adds


@pytest.fixture(scope="module")
def api_server(django_db_setup, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("api")
    env = servers.production_env(
        STATIC_ROOT=str(tmp_path),
        SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https",
        THROTTLE_REGISTER_RATE="100000/minute",
        THROTTLE_LOGIN_RATE="100000/minute",
        THROTTLE_BOOKING_RATE="100000/minute",
    )
    with servers.gunicorn(env, tmp_path, workers=WORKERS) as server:
        yield server


def register(server, username: str) -> str:
    status, _, body = server.request(
        "POST",
        "/api/auth/register",
        body={
            "username": username,
            "password": f"load-{uuid.uuid4().hex}",
            "email": f"{username}@example.in",
            "full_name": "Load Test",
            "gender": "male",
            "date_of_birth": "1990-06-15",
        },
        headers=PROXY,
    )
    assert status == 201, body
    return json.loads(body)["token"]


# The load's patient (tests/support/bodies.booking_body with these fields).
LOAD_PATIENT = {"patient_name": "Load Test", "gender": "male"}


def database_deadlocks() -> int:
    with psycopg.connect(servers.database_url(), autocommit=True) as admin:
        admin.execute("SELECT pg_stat_clear_snapshot()")
        row = admin.execute(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = %s",
            (connection.settings_dict["NAME"],),
        ).fetchone()
    return row[0]


def test_concurrent_eligible_bookings_get_exactly_the_limit_of_discounts(api_server):
    QuotaSettings.objects.update_or_create(pk=1, defaults={"default_daily_limit": LIMIT})
    mri = MedicalService.objects.create(name="Load MRI", price="2500.00")
    tokens = [register(api_server, f"load{i}") for i in range(CLIENTS)]
    deadlocks_before = database_deadlocks()

    def client(token: str) -> list[tuple[int, dict]]:
        answers = []
        for _ in range(BOOKINGS_PER_CLIENT):
            status, _, body = api_server.request(
                "POST",
                "/api/booking",
                body=booking_body(mri.pk, **LOAD_PATIENT),
                headers={
                    **PROXY,
                    "Authorization": f"Token {token}",
                    "Idempotency-Key": uuid.uuid4().hex,
                },
                timeout=300,
            )
            answers.append((status, json.loads(body) if body else {}))
        return answers

    per_client = at_once([partial(client, token) for token in tokens])
    answers = [answer for answers in per_client for answer in answers]

    total = CLIENTS * BOOKINGS_PER_CLIENT
    statuses = Counter(status for status, _ in answers)
    assert statuses == {201: total}, statuses  # zero 5xx, zero throttled, zero lost
    assert Counter(body["status"] for _, body in answers) == {"confirmed": total}
    assert sum(body["discount_applied"] for _, body in answers) == LIMIT
    assert sum(body["quota_exhausted"] for _, body in answers) == total - LIMIT
    assert Booking.objects.filter(status=BookingStatus.CONFIRMED).count() == total
    assert (DiscountQuota.objects.get().used, DiscountQuota.objects.get().limit) == (LIMIT, LIMIT)
    assert Payment.objects.filter(status=PaymentStatus.CAPTURED).count() == total
    assert SimulatedGatewayCharge.objects.count() == total  # each charged exactly once
    assert find_violations() == []
    assert database_deadlocks() == deadlocks_before
    assert "deadlock detected" not in api_server.log()
    assert_all_sound()


def hostile_bodies(service_id: int, retired_id: int) -> list[tuple[str, dict]]:
    valid = booking_body(service_id, **LOAD_PATIENT)
    return [
        (name, {**valid, **change})
        for name, change in [
            ("empty name", {"patient_name": ""}),
            ("blank name", {"patient_name": "   "}),
            ("name of 121 characters", {"patient_name": "x" * 121}),
            ("name of 100 000 characters", {"patient_name": "x" * 100_000}),
            ("name with a NUL byte", {"patient_name": "Asha\x00Verma"}),
            ("name as an object", {"patient_name": {"first": "Asha"}}),
            ("name null", {"patient_name": None}),
            ("gender unknown", {"gender": "robot"}),
            ("gender empty", {"gender": ""}),
            ("gender as a list", {"gender": ["female"]}),
            ("birth date in the future", {"date_of_birth": "2999-01-01"}),
            ("birth date 226 years ago", {"date_of_birth": "1800-01-01"}),
            ("birth date 30 February", {"date_of_birth": "2020-02-30"}),
            ("birth date not a date", {"date_of_birth": "yesterday"}),
            ("birth date as a number", {"date_of_birth": 19900615}),
            ("no services", {"service_ids": []}),
            ("services as a string", {"service_ids": str(service_id)}),
            ("a service twice", {"service_ids": [service_id, service_id]}),
            ("eleven services", {"service_ids": list(range(1, 12))}),
            ("a negative service id", {"service_ids": [-1]}),
            ("a service id beyond bigint", {"service_ids": [10**20]}),
            ("a service id as text", {"service_ids": ["MRI"]}),
            ("a service id as a fraction", {"service_ids": [1.5]}),
            ("a service that does not exist", {"service_ids": [999_999]}),
            ("a retired service", {"service_ids": [retired_id]}),
            ("unknown payment token", {"payment_token": "tok_unknown"}),
            ("payment token of 1000 characters", {"payment_token": "t" * 1000}),
            ("payment token null", {"payment_token": None}),
        ]
    ] + [
        ("no patient name", {k: v for k, v in valid.items() if k != "patient_name"}),
        ("no services field", {k: v for k, v in valid.items() if k != "service_ids"}),
    ]


def test_hostile_input_is_always_a_4xx_with_a_message_and_writes_nothing(api_server):
    mri = MedicalService.objects.create(name="Hostile MRI", price="2500.00")
    retired = MedicalService.objects.create(name="Retired scan", price="900.00", active=False)
    token = register(api_server, "hostile")
    auth = {**PROXY, "Authorization": f"Token {token}"}
    tried: dict[str, int] = {}

    for name, body in hostile_bodies(mri.pk, retired.pk):
        status, _, answer = api_server.request("POST", "/api/booking", body=body, headers=auth)
        tried[name] = status
        assert 400 <= status < 500, (name, status, answer[:300])
        assert json.loads(answer), name  # says what to fix
        assert not Booking.objects.exists(), name

    raw_requests = [
        ("body that is not JSON", b"{not json", {"Content-Type": "application/json"}),
        ("body that is a JSON list", b"[1, 2]", {"Content-Type": "application/json"}),
        ("empty body", b"", {"Content-Type": "application/json"}),
        ("a form instead of JSON", b"patient_name=x", {"Content-Type": "text/plain"}),
    ]
    for name, payload, headers in raw_requests:
        status, answer = _raw_post(api_server, payload, {**auth, **headers})
        tried[name] = status
        assert 400 <= status < 500, (name, status, answer[:300])

    header_cases = [
        ("no credentials", PROXY),
        ("a made-up token", {**PROXY, "Authorization": "Token " + "0" * 40}),
        ("a token with a NUL byte", {**PROXY, "Authorization": "Token abc\x00def"}),
        ("an Idempotency-Key of 300 characters", {**auth, "Idempotency-Key": "k" * 300}),
    ]
    for name, headers in header_cases:
        status, _, answer = api_server.request(
            "POST", "/api/booking", body=booking_body(mri.pk, **LOAD_PATIENT), headers=headers
        )
        tried[name] = status
        assert 400 <= status < 500, (name, status, answer[:300])

    assert len(tried) == 38  # the figure README's "Reliability" quotes
    # Not one half-written booking, event, payment or charge.
    assert not Booking.objects.exists()
    assert not SagaEvent.objects.exists()
    assert not Payment.objects.exists()
    assert not SimulatedGatewayCharge.objects.exists()
    assert "Traceback" not in api_server.log()


def _raw_post(server, payload: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        conn.request("POST", "/api/booking", body=payload, headers={"Host": "127.0.0.1", **headers})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_the_api_answers_503_json_while_the_database_is_unreachable(tmp_path):
    env = servers.production_env(
        DATABASE_URL=servers.database_url(port=servers.free_port()),
        STATIC_ROOT=str(tmp_path),
        SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https",
    )
    with servers.gunicorn(env, tmp_path, workers=1) as server:
        answers = {
            path: server.request(method, path, body=body, headers=headers)
            for method, path, body, headers in [
                ("GET", "/healthz", None, PROXY),
                ("GET", "/api/services", None, PROXY),
                ("GET", "/api/quota/status", None, PROXY),
                (
                    "POST",
                    "/api/booking",
                    booking_body(1, **LOAD_PATIENT),
                    {**PROXY, "Authorization": "Token " + "a" * 40},
                ),
            ]
        }

    for path, (status, headers, body) in answers.items():
        assert status == 503, (path, status, body[:300])
        assert headers["content-type"] == "application/json", path
        assert b"Traceback" not in body
    assert "detail" in json.loads(answers["/api/booking"][2])
