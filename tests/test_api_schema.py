"""The OpenAPI description (/api/schema/, /api/docs/), /healthz, and a fuzz pass over the API."""

import json
import socket
from decimal import Decimal

import hypothesis
import pytest
import requests
import schemathesis
from django.contrib.staticfiles import finders
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from drf_spectacular.validation import validate_schema
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import positive_data_acceptance

from bookings.models import Booking, SagaEvent
from portal.ops.invariants import find_violations
from tests.support.admin_helpers import staff_member
from tests.support.api_support import ConformingAPIClient, assert_conforms
from tests.support.factories import MedicalServiceFactory

API_OPERATIONS = {
    ("post", "/api/auth/register"),
    ("post", "/api/auth/token"),
    ("post", "/api/auth/logout"),
    ("get", "/api/services"),
    ("get", "/api/practitioners"),
    ("get", "/api/slots"),
    ("get", "/api/config/discount"),
    ("get", "/api/quota/status"),
    ("put", "/api/admin/quota"),
    ("post", "/api/booking"),
    ("get", "/api/booking"),
    ("get", "/api/booking/{booking_id}/status"),
    ("get", "/api/booking/{booking_id}/calendar.ics"),
    ("get", "/api/booking/{booking_id}/receipt"),
    ("get", "/api/config/cancellation"),
    ("get", "/api/booking/{booking_id}/cancellation"),
    ("post", "/api/booking/{booking_id}/cancel"),
    ("post", "/api/booking/{booking_id}/reschedule"),
    ("post", "/api/booking/{booking_id}/payment"),
    ("get", "/api/me"),
    ("patch", "/api/me"),
    ("get", "/healthz"),
}


def served_schema(api) -> dict:
    response = api.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def test_the_schema_is_public_valid_openapi_3(api):
    document = served_schema(api)
    validate_schema(document)  # raises on any violation of the OpenAPI 3 meta-schema
    assert document["openapi"].startswith("3.")


def test_the_schema_describes_every_endpoint_of_api_md(api):
    document = served_schema(api)
    described = {(m, p) for p, methods in document["paths"].items() for m in methods}
    assert described == API_OPERATIONS


def test_every_endpoint_describes_its_error_answers(api):
    document = served_schema(api)
    responses = {
        (m, p): set(op["responses"]) for p, ms in document["paths"].items() for m, op in ms.items()
    }
    assert {"400", "401", "403", "409", "415", "422", "429"} <= responses[("post", "/api/booking")]
    assert {"400", "401", "403", "415"} <= responses[("put", "/api/admin/quota")]
    assert {"400", "415", "429"} <= responses[("post", "/api/auth/register")]
    assert {"400", "415", "429"} <= responses[("post", "/api/auth/token")]
    assert {"401", "404"} <= responses[("get", "/api/booking/{booking_id}/status")]
    assert {"200", "400", "503"} == responses[("get", "/healthz")]


def test_every_operation_lists_the_errors_around_its_view(api):
    """What the middleware and DRF answer before or around any view is listed on every
    operation it can reach (portal.api.schema.ClinicAutoSchema)."""
    document = served_schema(api)
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            listed = set(operation["responses"])
            where = (method, path, sorted(listed))
            assert {"400", "503"} <= listed, where  # a NUL in the query; no database
            if path != "/healthz":  # every other operation reads a token if one is sent
                assert "401" in listed, where
            if method in ("post", "put", "patch"):
                assert "403" in listed, where  # a session write without its CSRF token
            if "{" in path:
                assert "404" in listed, where
            if "requestBody" in operation:
                assert "415" in listed, where


def test_a_nul_in_the_query_string_is_a_documented_400_on_every_operation(
    staff_token, openapi_schema
):
    """The failure a fresh clone's fuzz once drew (GET /api/booking?page=<NUL>, listed
    then as 200/401/404 only), on every operation: each answer must be a listed one."""
    client = ConformingAPIClient(openapi_schema, HTTP_AUTHORIZATION=f"Token {staff_token}")
    booking_id = "0b9c3f6e-8a8f-4b59-9a53-2f1c6f3f7a10"
    for method, path in sorted(API_OPERATIONS):
        url = path.replace("{booking_id}", booking_id) + "?page=%00"
        answer = client.generic(method.upper(), url, "{}", content_type="application/json")
        assert answer.status_code == 400, (method, path)
        assert answer.json() == {"detail": "The query string holds a NUL character."}


def test_the_docs_page_is_public_and_serves_its_own_assets(client, settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower() and "https://" not in page
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-standalone-preset.js"):
        assert finders.find(f"drf_spectacular_sidecar/swagger-ui-dist/{asset}")


def test_the_conformance_check_rejects_an_answer_outside_the_schema(api, openapi_schema):
    response = api.get("/api/config/discount")
    response.content = json.dumps({"discount_percent": 12}).encode()  # a number, and fields gone
    with pytest.raises(FailureGroup) as failures:
        assert_conforms(openapi_schema, response)
    assert all("violates schema" in str(f) for f in failures.value.exceptions)


def test_the_conformance_check_rejects_an_undocumented_status(api, openapi_schema):
    response = api.get("/api/config/discount")
    response.status_code = 418
    with pytest.raises(AssertionError, match="does not list"):
        assert_conforms(openapi_schema, response)


def test_the_conformance_check_rejects_a_missing_required_header(
    patient_api, service_priced, openapi_schema
):
    service = service_priced("500.00")
    body = {
        "patient_name": "Asha Verma",
        "gender": "male",
        "date_of_birth": "1990-06-15",
        "service_ids": [service.pk],
    }
    response = patient_api.post("/api/booking", body, format="json")
    assert response.status_code == 201
    del response["Location"]
    with pytest.raises(AssertionError, match="no Location header"):
        assert_conforms(openapi_schema, response)


# --- /healthz ------------------------------------------------------------------------


def test_healthz_is_ok_when_the_database_answers(api):
    response = api.get("/healthz")
    assert response.status_code == 200
    # No worker in this test: the web side still answers 200 (test_notification_outbox
    # covers the heartbeat).
    assert response.json() == {"status": "ok", "database": "ok", "worker": "late"}


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens there once the probe closes


@pytest.mark.django_db(transaction=True)
def test_healthz_is_503_when_the_database_cannot_be_reached(api):
    real = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT=str(_closed_port()))
    try:
        response = api.get("/healthz")
    finally:
        connection.close()
        connection.settings_dict.update(HOST=real["HOST"], PORT=real["PORT"])
    assert response.status_code == 503
    body = response.json()
    assert {"status": "error", "database": "unavailable"}.items() <= body.items()
    assert "database unreachable" in body["detail"]
    assert int(response["Retry-After"]) > 0
    assert response["Cache-Control"] == "no-store"


# --- Fuzzing: generated bodies, parameters and headers on every operation ------------


@pytest.fixture
def fuzzed_api(db, settings):
    # Requests go straight to the WSGI handler; like Django's test client, keep its
    # end-of-request hook from closing the connection that holds the test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    settings.ALLOWED_HOSTS = ["localhost", "testserver"]
    for rate in ("THROTTLE_REGISTER_RATE", "THROTTLE_LOGIN_RATE", "THROTTLE_BOOKING_RATE"):
        setattr(settings, rate, "100000/minute")
    yield schemathesis.openapi.from_wsgi("/api/schema/?format=json", WSGIHandler())
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def staff_token(db) -> str:
    return Token.objects.create(user=staff_member("Reception")).key


# Operations that take input (a body or parameters): the only ones with schema-breaking
# requests to send.
OPERATIONS_WITH_INPUT = sorted(
    (m, p)
    for m, p in API_OPERATIONS
    if (m in ("post", "put") and p != "/api/auth/logout") or "{" in p or p == "/api/booking"
)
FUZZ_RUNS = [(m, p, schemathesis.GenerationMode.POSITIVE) for m, p in sorted(API_OPERATIONS)] + [
    (m, p, schemathesis.GenerationMode.NEGATIVE) for m, p in OPERATIONS_WITH_INPUT
]


# Valid requests (positive) and requests that break the schema (negative), for each
# operation, checked by schemathesis's default checks: no 5xx, a documented status code
# and content type, a body matching the schema, schema-breaking data refused. Not
# "valid data is accepted": the schema cannot tell a taken username, a weak password or
# an inactive service id, which are rightly (and documentedly) 400s.
#
# Each request's transaction "commits" (the `commits` fixture), so a booking the fuzzer
# gets accepted runs its whole saga (each step follows the last on commit): the fuzz
# reaches pricing, the quota, payments (an expected_total below the price fails the
# booking) and compensation, not only validation.
@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("method, path, mode", FUZZ_RUNS, ids=str)
def test_fuzzing_finds_no_server_error_and_no_answer_outside_the_schema(
    fuzzed_api, staff_token, bookable, method, path, mode
):
    operation = fuzzed_api[path][method]
    bookings = (method, path, mode) == (
        "post",
        "/api/booking",
        schemathesis.GenerationMode.POSITIVE,
    )
    _fuzz(
        operation,
        mode,
        {"Authorization": f"Token {staff_token}"},
        25,
        make_bookable=bookable if bookings else None,
        explicit=[bookable[2](body) for body in EXPLICIT_BOOKINGS] if bookings else (),
    )
    # Every booking the fuzz made ended, soundly: none left half-way.
    assert not Booking.objects.filter(status="pending").exists()
    assert find_violations() == []
    if bookings:
        ended = set(Booking.objects.values_list("status", flat=True))
        assert ended == {"confirmed", "failed"}, ended  # the sagas really ran
        assert SagaEvent.objects.filter(event_type="CompensationTriggered").exists()
        # Both endings are guaranteed by the explicit examples (a declining card, a
        # capturing one), checked like every fuzzed case; the generated cases must still
        # have made bookings of their own, whose sagas ended soundly (asserted above).
        explicit = {body["patient_name"] for body in EXPLICIT_BOOKINGS}
        assert set(
            Booking.objects.filter(patient_name__in=explicit).values_list("patient_name", "status")
        ) == {("Explicit Declined", "failed"), ("Explicit Captured", "confirmed")}
        assert Booking.objects.exclude(patient_name__in=explicit).exists()


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("method, path", sorted(API_OPERATIONS), ids=str)
def test_fuzzing_without_credentials_finds_only_documented_answers(fuzzed_api, method, path):
    _fuzz(fuzzed_api[path][method], schemathesis.GenerationMode.POSITIVE, {}, 8)
    assert not Booking.objects.exists()


@pytest.fixture
def bookable(db):
    """Half the generated bookings get fields the schema cannot make valid (active
    service ids, a past birth date, a token the gateway knows) and often an amount shown
    (expected_total) below or above the price; the rest stays fuzzed."""
    cheap, dear, dearer = (
        MedicalServiceFactory(price=Decimal(p)) for p in ("500.00", "1500.00", "2500.00")
    )
    choices = st.tuples(
        st.booleans(),
        st.sampled_from([[cheap.pk], [dear.pk], [cheap.pk, dearer.pk], [dearer.pk]]),
        st.sampled_from(["tok_visa", "tok_mastercard", "tok_chargeDeclined"]),
        st.sampled_from([None, "0.00", "2200.00", "99999.99"]),  # None: as fuzzed
    )

    def make(case, choice):
        valid, service_ids, token, expected_total = choice
        if valid and isinstance(case.body, dict):
            case.body = {
                **case.body,
                "date_of_birth": "1990-06-15",
                "service_ids": service_ids,
                "payment_token": token,
            }
            case.body.pop("slot_id", None)  # walk-in services take no appointment
            if expected_total is not None:
                case.body["expected_total"] = expected_total
        return case

    def with_service(body: dict) -> dict:
        return {**body, "service_ids": [cheap.pk]}

    return choices, make, with_service


# Run in every fuzz of POST /api/booking besides the generated cases, so that both of a
# saga's endings are reached whatever the generated cases drew.
EXPLICIT_BOOKINGS = [
    {
        "patient_name": "Explicit Declined",
        "gender": "female",
        "date_of_birth": "1990-06-15",
        "payment_token": "tok_chargeDeclined",
    },
    {
        "patient_name": "Explicit Captured",
        "gender": "male",
        "date_of_birth": "1990-06-15",
        "payment_token": "tok_visa",
    },
]


def _fuzz(
    operation,
    mode,
    headers: dict[str, str],
    examples: int,
    make_bookable=None,
    explicit=(),
) -> None:
    cases = operation.as_strategy(generation_mode=mode)
    if make_bookable is not None:
        choices, make, _with_service = make_bookable
        cases = st.tuples(cases, choices).map(lambda pair: make(*pair))

    @_repeatable
    @hypothesis.given(case=cases)
    @_fuzz_settings(examples)
    def fuzz(case):
        case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

    for body in explicit:  # run by hypothesis first, with the same checks as the rest
        example = operation.Case(body=body, media_type="application/json")
        fuzz = hypothesis.example(case=example)(fuzz)
    fuzz()


# `make test` loads the "repeatable" hypothesis profile (tests/conftest.py): derandomized
# and seeded here, so every run on every machine sends the same requests. `make fuzz`
# loads "explore": a new random draw each run (hypothesis prints the seed of a failure:
# `--hypothesis-seed=<it>` replays it), EXPLORE_SCALE times as many examples.
FUZZ_SEED = 22
EXPLORE_SCALE = 8


def _exploring() -> bool:
    return not hypothesis.settings.default.derandomize


def _fuzz_settings(examples: int) -> hypothesis.settings:
    return hypothesis.settings(
        hypothesis.settings.default,
        max_examples=examples * (EXPLORE_SCALE if _exploring() else 1),
    )


def _repeatable(test):
    return test if _exploring() else hypothesis.seed(FUZZ_SEED)(test)


def _drawn(operation, mode, examples: int) -> list[str]:
    """The requests the fuzz would send to `operation`, without sending them."""
    drawn = []

    @_repeatable
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    @_fuzz_settings(examples)
    def draw(case):
        drawn.append(repr((case.path_parameters, case.query, case.headers, case.body)))

    draw()
    return drawn


@pytest.mark.skipif(_exploring(), reason="make fuzz draws anew on purpose")
@pytest.mark.parametrize(
    "method, path, mode",
    [
        ("get", "/api/booking", schemathesis.GenerationMode.POSITIVE),
        ("post", "/api/booking", schemathesis.GenerationMode.NEGATIVE),
    ],
    ids=str,
)
def test_the_fuzz_sends_the_same_requests_on_every_run(fuzzed_api, method, path, mode):
    operation = fuzzed_api[path][method]
    first = _drawn(operation, mode, 25)
    assert len(first) >= 10
    assert _drawn(operation, mode, 25) == first


def test_the_docs_render_in_a_browser_with_no_outside_requests(page, live_server, shot):
    outside = []

    def only_this_server(route):
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_server)
    page.goto("/api/docs/")
    page.get_by_text("Clinic booking API").first.wait_for()
    page.locator(".opblock-summary-path", has_text="/api/booking/{booking_id}/status").wait_for()
    shot(page, "api-docs")
    assert outside == []


def test_the_documented_examples_match_the_schema(api, openapi_schema):
    document = served_schema(api)
    checked = 0
    for path, methods in document["paths"].items():
        for method, operation_doc in methods.items():
            for code, answer in operation_doc["responses"].items():
                examples = answer.get("content", {}).get("application/json", {}).get("examples")
                for example in (examples or {}).values():
                    headers = {"content-type": ["application/json"]}
                    headers.update({h.lower(): ["x"] for h in answer.get("headers", {})})
                    openapi_schema[path][method].validate_response(
                        schemathesis.Response(
                            status_code=int(code),
                            headers=headers,
                            content=json.dumps(example["value"]).encode(),
                            request=requests.Request(method, f"http://testserver{path}").prepare(),
                            elapsed=0.0,
                            verify=False,
                        )
                    )
                    checked += 1
    assert checked >= 2
