"""API.md, Idempotency-Key on POST /api/booking: replay, mismatch, in flight, races, purge."""

import time
from contextlib import contextmanager
from datetime import timedelta
from functools import partial

import psycopg
import pytest
from django.core.management import call_command
from django.utils import timezone

from bookings.models import Booking
from payments.models import Payment, SimulatedGatewayCharge
from portal.api.idempotency import booking_request_key, claim_lock_id, fingerprint_of
from portal.flows import start_booking
from portal.models import IdempotencyKey, IdempotencyState
from tests.support import servers
from tests.support.api_support import ConformingAPIClient
from tests.support.bodies import booking_body
from tests.support.factories import ADULT_BIRTHDAY, UserFactory
from tests.support.racing import at_once

BOOKINGS = "/api/booking"
saga = pytest.mark.usefixtures("commits")


def post(client, body, key):
    return client.post(BOOKINGS, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


@saga
def test_the_same_key_and_body_replays_the_first_answer(patient_api, service_priced):
    body = booking_body(service_priced("2500.00"))
    first = post(patient_api, body, "order-1")
    again = post(patient_api, body, "order-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Location"] == first["Location"]
    assert Booking.objects.count() == 1
    assert Payment.objects.count() == 1
    assert SimulatedGatewayCharge.objects.count() == 1


@saga
def test_a_replay_after_the_service_was_withdrawn_returns_the_stored_201(
    patient_api, service_priced
):
    service = service_priced("2500.00")
    body = booking_body(service)
    first = post(patient_api, body, "order-1")
    service.active = False  # withdrawn by staff after the booking was made
    service.price = 9999
    service.save()

    again = post(patient_api, body, "order-1")

    assert (again.status_code, again.json()) == (201, first.json())
    assert Booking.objects.count() == 1


@saga
def test_a_replay_on_a_later_day_returns_the_stored_201_though_the_body_is_now_refused(
    patient_api, service_priced
):
    """The patient was 130 years old to the day: accepted then, too old the next day.
    The replay is the stored answer, not the body checked again against today."""
    from datetime import UTC, date, datetime

    import time_machine

    body = booking_body(service_priced("500.00"), date_of_birth=date(1896, 11, 24).isoformat())
    with time_machine.travel(datetime(2026, 11, 24, 6, 0, tzinfo=UTC), tick=False):
        first = post(patient_api, body, "order-1")
        assert first.status_code == 201
    with time_machine.travel(datetime(2026, 11, 25, 6, 0, tzinfo=UTC), tick=False):
        assert patient_api.post(BOOKINGS, body, format="json").status_code == 400  # new
        again = post(patient_api, body, "order-1")
    assert (again.status_code, again.json()) == (201, first.json())


@saga
def test_a_replay_is_recognised_before_the_body_is_checked(patient_api, user, service_priced):
    """The stored answer is the answer: the body is compared as sent, not as validated."""
    service = service_priced("500.00")
    body = booking_body(service)
    first = post(patient_api, body, "order-1")
    Booking.objects.update(patient_name="Renamed")  # nothing is rebuilt from the booking
    assert post(patient_api, body, "order-1").json() == first.json()


@saga
def test_a_replayed_failed_booking_is_not_charged_again(patient_api, service_priced):
    body = booking_body(service_priced("500.00"), payment_token="tok_chargeDeclined")
    first = post(patient_api, body, "declined-1")
    again = post(patient_api, body, "declined-1")
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.json()["failure_reason"] == "card_declined"
    assert Booking.objects.count() == 1


@saga
def test_the_same_key_with_another_body_is_422(patient_api, service_priced):
    service = service_priced("500.00")
    assert post(patient_api, booking_body(service), "order-1").status_code == 201
    response = post(patient_api, booking_body(service, patient_name="Someone Else"), "order-1")
    assert response.status_code == 422
    assert "different request body" in response.json()["detail"]
    assert Booking.objects.count() == 1


@saga
def test_the_key_answers_the_same_body_in_another_key_order_as_a_replay(
    patient_api, service_priced
):
    service = service_priced("500.00")
    body = booking_body(service)
    first = post(patient_api, body, "order-1")
    reordered = dict(reversed(list(body.items())))
    assert post(patient_api, reordered, "order-1").json() == first.json()


@contextmanager
def request_alive(user, key):
    """The request that claimed `key` is alive: its database session (another connection,
    as another gunicorn worker's would be) holds the key's advisory lock."""
    with psycopg.connect(servers.database_url(), autocommit=True) as session:
        session.execute("SELECT pg_advisory_lock(%s)", (claim_lock_id(user=user, key=key),))
        yield


def test_a_duplicate_while_the_first_is_in_flight_is_409(patient_api, user, service_priced):
    body = booking_body(service_priced("500.00"))
    # The first request with this key has claimed it and is still running its saga.
    IdempotencyKey.objects.create(user=user, key="order-1", fingerprint=fingerprint_of(body))
    with request_alive(user, "order-1"):
        response = post(patient_api, body, "order-1")
    assert response.status_code == 409
    assert response.json()["code"] == "request_in_flight"
    assert "retry" in response.json()["detail"]
    assert not Booking.objects.exists()


def test_a_duplicate_before_the_first_has_written_its_claim_is_409(
    patient_api, user, service_priced
):
    """The first request holds the key's lock and has not inserted its row yet: the
    duplicate must not insert one of its own (it would run the request a second time)."""
    body = booking_body(service_priced("500.00"))
    with request_alive(user, "order-1"):
        response = post(patient_api, body, "order-1")
    assert (response.status_code, response.json()["code"]) == (409, "request_in_flight")
    assert not IdempotencyKey.objects.exists()
    assert not Booking.objects.exists()


def in_flight_claim(user, body, key, *, claimed_seconds_ago):
    return IdempotencyKey.objects.create(
        user=user,
        key=key,
        fingerprint=fingerprint_of(body),
        claimed_at=timezone.now() - timedelta(seconds=claimed_seconds_ago),
    )


@saga
def test_a_claim_whose_request_died_a_second_ago_is_taken_over_at_once(
    patient_api, user, service_priced
):
    """Issue 22, B2: its process died (no session holds the key's lock), nothing was
    booked: the retry books, instead of 409 for IDEMPOTENCY_IN_FLIGHT_TIMEOUT_SECONDS."""
    body = booking_body(service_priced("500.00"))
    in_flight_claim(user, body, "order-1", claimed_seconds_ago=1)
    response = post(patient_api, body, "order-1")
    assert response.status_code == 201
    assert Booking.objects.count() == 1
    record = IdempotencyKey.objects.get(user=user, key="order-1")
    assert (record.state, str(record.booking_id)) == ("done", response.json()["id"])


@saga
def test_a_claim_abandoned_before_booking_is_taken_over_by_a_retry(
    patient_api, user, service_priced
):
    body = booking_body(service_priced("500.00"))
    in_flight_claim(user, body, "order-1", claimed_seconds_ago=301)
    response = post(patient_api, body, "order-1")
    assert response.status_code == 201
    assert Booking.objects.count() == 1
    record = IdempotencyKey.objects.get(user=user, key="order-1")
    assert (record.state, str(record.booking_id)) == ("done", response.json()["id"])


@saga
def test_a_claim_abandoned_after_booking_hands_back_that_booking(patient_api, user, service_priced):
    service = service_priced("500.00")
    body = booking_body(service)
    in_flight_claim(user, body, "order-1", claimed_seconds_ago=301)
    # The process that claimed the key wrote (and ran) the booking, then died.
    written = start_booking(
        user=user,
        patient_name="Asha Verma",
        gender="female",
        date_of_birth=ADULT_BIRTHDAY,
        service_ids=[service.pk],
        payment_token="tok_visa",
        request_key=booking_request_key("order-1"),
    )
    response = post(patient_api, body, "order-1")
    assert response.status_code == 201
    assert response.json()["id"] == str(written.pk)
    assert response.json()["status"] == "confirmed"
    assert Booking.objects.count() == 1
    assert Payment.objects.count() == 1


def test_a_live_claim_younger_than_the_timeout_is_still_in_flight(
    patient_api, user, service_priced
):
    body = booking_body(service_priced("500.00"))
    in_flight_claim(user, body, "order-1", claimed_seconds_ago=299)
    with request_alive(user, "order-1"):
        assert post(patient_api, body, "order-1").status_code == 409
    assert not Booking.objects.exists()


@saga
def test_a_claim_held_past_the_timeout_is_taken_over_though_its_session_lingers(
    patient_api, user, service_priced
):
    """The fallback: a session that outlived its process (a half-open connection the
    server has not noticed) keeps the lock; past the timeout the claim is taken over."""
    body = booking_body(service_priced("500.00"))
    in_flight_claim(user, body, "order-1", claimed_seconds_ago=301)
    with request_alive(user, "order-1"):
        response = post(patient_api, body, "order-1")
    assert response.status_code == 201
    assert Booking.objects.count() == 1


@saga
def test_a_refused_request_releases_its_key_for_a_corrected_one(patient_api, service_priced):
    service = service_priced("500.00")
    refused = post(patient_api, booking_body(service, payment_token="tok_nope"), "order-1")
    assert refused.status_code == 400
    assert not IdempotencyKey.objects.exists()
    accepted = post(patient_api, booking_body(service), "order-1")
    assert accepted.status_code == 201


@saga
def test_keys_belong_to_their_user(token_client, service_priced):
    body = booking_body(service_priced("500.00"))
    mine = post(token_client(UserFactory()), body, "order-1")
    theirs = post(token_client(UserFactory()), body, "order-1")
    assert mine.json()["id"] != theirs.json()["id"]
    assert Booking.objects.count() == 2


@saga
def test_without_a_key_each_post_is_a_new_booking(patient_api, service_priced):
    body = booking_body(service_priced("500.00"))
    patient_api.post(BOOKINGS, body, format="json")
    patient_api.post(BOOKINGS, body, format="json")
    assert Booking.objects.count() == 2


@pytest.mark.parametrize("key", ["", "k" * 256, "naïve-key", "tab\tkey", "with space"])
def test_a_malformed_key_is_400(patient_api, service_priced, key):
    response = post(patient_api, booking_body(service_priced("500.00")), key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert not Booking.objects.exists()


@saga
def test_a_key_of_255_characters_is_accepted(patient_api, service_priced):
    response = post(patient_api, booking_body(service_priced("500.00")), "k" * 255)
    assert response.status_code == 201


@saga
@pytest.mark.django_db(transaction=True)  # threads, or a dropped connection
def test_parallel_duplicates_make_one_booking_and_one_charge(user, service_priced, openapi_schema):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=user).key
    body = booking_body(service_priced("2500.00"))
    answers = race(token, openapi_schema, body, "tap-tap-tap")

    created = [body for status, body in answers if status == 201]
    in_flight = [body for status, body in answers if status == 409]
    assert len(created) + len(in_flight) == len(answers) == 8  # nothing but 201 and 409
    assert created, "at least the request that claimed the key answers 201"
    assert created == [created[0]] * len(created)  # the one answer, replayed as stored
    assert [b["code"] for b in in_flight] == ["request_in_flight"] * len(in_flight)
    assert Booking.objects.count() == 1
    assert Payment.objects.count() == 1
    assert SimulatedGatewayCharge.objects.count() == 1
    # After the race, a retry gets the stored answer.
    client = ConformingAPIClient(openapi_schema, HTTP_AUTHORIZATION=f"Token {token}")
    assert post(client, body, "tap-tap-tap").json()["id"] == created[0]["id"]


def race(token, openapi_schema, body, key, threads=8):
    """Send the same request from `threads` threads at once, each on its own connection."""

    def send(client):
        response = post(client, body, key)
        return response.status_code, response.json()

    clients = [
        ConformingAPIClient(openapi_schema, HTTP_AUTHORIZATION=f"Token {token}")
        for _ in range(threads)
    ]
    return at_once([partial(send, client) for client in clients])


@saga
@pytest.mark.parametrize("claimed_seconds_ago", [1, 3600], ids=["died-just-now", "past-timeout"])
@pytest.mark.django_db(transaction=True)  # threads, or a dropped connection
def test_parallel_retries_of_an_abandoned_claim_make_one_booking(
    user, service_priced, openapi_schema, claimed_seconds_ago
):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=user).key
    body = booking_body(service_priced("2500.00"))
    in_flight_claim(user, body, "lost-request", claimed_seconds_ago=claimed_seconds_ago)
    answers = race(token, openapi_schema, body, "lost-request")
    created = [b for status, b in answers if status == 201]
    in_flight = [b for status, b in answers if status == 409]
    assert len(created) + len(in_flight) == len(answers) == 8  # nothing but 201 and 409
    assert created, "the retry that took the abandoned claim over answers 201"
    assert created == [created[0]] * len(created)
    assert [b["code"] for b in in_flight] == ["request_in_flight"] * len(in_flight)
    assert Booking.objects.count() == 1
    assert Payment.objects.count() == 1


@saga
def test_the_answer_is_stored_with_its_key(patient_api, user, service_priced):
    response = post(patient_api, booking_body(service_priced("500.00")), "order-1")
    record = IdempotencyKey.objects.get(user=user, key="order-1")
    assert record.state == IdempotencyState.DONE
    assert (record.response_status, record.response_body) == (201, response.json())
    assert str(record.booking_id) == response.json()["id"]


def test_the_purge_command_deletes_keys_older_than_24_hours(user, capsys):
    old = IdempotencyKey.objects.create(user=user, key="old", fingerprint="f")
    recent = IdempotencyKey.objects.create(user=user, key="recent", fingerprint="f")
    IdempotencyKey.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(hours=24, minutes=1)
    )
    IdempotencyKey.objects.filter(pk=recent.pk).update(
        created_at=timezone.now() - timedelta(hours=23, minutes=59)
    )
    call_command("purge_idempotency_keys")
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["recent"]
    assert "Purged 1 idempotency keys" in capsys.readouterr().out


def test_the_purge_age_is_a_setting(user, settings):
    settings.IDEMPOTENCY_KEY_TTL_HOURS = 48
    key = IdempotencyKey.objects.create(user=user, key="k", fingerprint="f")
    IdempotencyKey.objects.filter(pk=key.pk).update(created_at=timezone.now() - timedelta(hours=30))
    call_command("purge_idempotency_keys")
    assert IdempotencyKey.objects.filter(pk=key.pk).exists()


# --- A request that died after its booking was written -------------------------------


def cut_the_connection_when_answering(monkeypatch):
    """The first request books (its saga runs to the end), then loses its database
    connection as it stores its answer under the key: a 503, and the key cannot be
    released either (the connection is gone)."""
    from django.db import connection

    from portal.api import idempotency

    real = idempotency._store
    cut = []

    def store_after_the_cut(*args, **kwargs):
        if not cut:
            cut.append(True)
            connection.connection.close()  # the server went away under this worker
        return real(*args, **kwargs)

    monkeypatch.setattr(idempotency, "_store", store_after_the_cut)


@saga
@pytest.mark.django_db(transaction=True)  # threads, or a dropped connection
def test_a_retry_after_a_503_gets_the_booking_that_was_made_at_once(
    patient_api, service_priced, monkeypatch
):
    body = booking_body(service_priced("2500.00"))
    cut_the_connection_when_answering(monkeypatch)

    died = post(patient_api, body, "order-1")
    assert died.status_code == 503
    booking = Booking.objects.get()
    assert booking.status == "confirmed"  # made and charged, though the client saw 503

    retry = post(patient_api, body, "order-1")  # at once, not after the in-flight timeout

    assert retry.status_code == 201
    assert (retry.json()["id"], retry.json()["status"]) == (str(booking.pk), "confirmed")
    assert retry["Location"] == f"/api/booking/{booking.pk}/status"
    assert Booking.objects.count() == Payment.objects.count() == 1
    assert SimulatedGatewayCharge.objects.count() == 1
    record = IdempotencyKey.objects.get()
    assert (record.state, record.booking_id) == ("done", booking.pk)
    assert post(patient_api, body, "order-1").json() == retry.json()  # and from now on


@saga
def test_a_retry_while_that_booking_is_still_pending_is_409_then_its_answer(
    patient_api, user, service_priced
):
    from bookings import events
    from confirmations.services import confirm_booking
    from tests.support.saga_hooks import delivery_stopped

    service = service_priced("500.00")
    body = booking_body(service)
    in_flight_claim(user, body, "order-1", claimed_seconds_ago=5)  # its request died
    with delivery_stopped(events.PaymentCompleted):  # paid; confirmation not yet run
        written = start_booking(
            user=user,
            patient_name="Asha Verma",
            gender="female",
            date_of_birth=ADULT_BIRTHDAY,
            service_ids=[service.pk],
            payment_token="tok_visa",
            request_key=booking_request_key("order-1"),
        )

    assert post(patient_api, body, "order-1").status_code == 409  # its saga is running

    confirm_booking(
        correlation_id=written.correlation_id, booking_id=written.pk, appointment_start=None
    )  # recovery ends it
    settled = post(patient_api, body, "order-1")
    assert settled.status_code == 201
    assert (settled.json()["id"], settled.json()["status"]) == (str(written.pk), "confirmed")
    assert Booking.objects.count() == 1


def cut_the_connection_before_booking(monkeypatch):
    """The database goes away under the first request after it claimed its key and
    before it wrote anything: a 503, and its claim cannot be released (no connection)."""
    from django.db import connection

    from portal.api import bookings as api

    real = api.start_booking
    cut = []

    def start_after_the_cut(**kwargs):
        if not cut:
            cut.append(True)
            connection.connection.close()
        return real(**kwargs)

    monkeypatch.setattr(api, "start_booking", start_after_the_cut)


@saga
@pytest.mark.django_db(transaction=True)  # threads, or a dropped connection
def test_a_retry_after_a_503_before_booking_books_within_seconds(
    patient_api, service_priced, monkeypatch
):
    """Issue 22, B2: the dead request's session took the key's lock with it, so the
    retry books (once the server has ended that session: polled, bounded)."""
    body = booking_body(service_priced("2500.00"))
    cut_the_connection_before_booking(monkeypatch)

    died = post(patient_api, body, "order-1")
    assert died.status_code == 503
    assert not Booking.objects.exists()
    assert IdempotencyKey.objects.get().state == IdempotencyState.IN_FLIGHT  # not released

    started = time.monotonic()
    retry = post(patient_api, body, "order-1")
    while retry.status_code == 409 and time.monotonic() - started < 5:
        time.sleep(0.1)
        retry = post(patient_api, body, "order-1")

    assert retry.status_code == 201, retry.json()
    assert Booking.objects.count() == Payment.objects.count() == 1
    assert post(patient_api, body, "order-1").json() == retry.json()
