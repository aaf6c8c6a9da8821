"""API.md, Bookings: POST /api/booking runs the saga; reading one booking and one's list."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.numbering import financial_year_of, fy_label
from bookings.models import Booking, SagaEvent
from bookings.services import clinic_today
from bookings.validators import years_before
from payments.models import Payment
from tests.support.admin_helpers import staff_member
from tests.support.bodies import booking_body
from tests.support.factories import ADULT_BIRTHDAY, UserFactory

BOOKINGS = "/api/booking"
saga = pytest.mark.usefixtures("commits")  # the saga's steps follow each other on commit


@saga
def test_booking_runs_the_saga_and_answers_201_with_the_confirmed_booking(
    patient_api, user, service_priced
):
    mri = service_priced("2500.00", name="Test MRI Scan")
    response = patient_api.post(BOOKINGS, booking_body(mri), format="json")
    assert response.status_code == 201
    body = response.json()
    booking = Booking.objects.get()
    assert response["Location"] == f"/api/booking/{booking.pk}/status"
    first_number = f"CLN/{fy_label(financial_year_of(clinic_today()))}/00001"
    assert body == {
        "id": str(booking.pk),
        "correlation_id": str(booking.correlation_id),
        "status": "confirmed",
        "patient_name": "Asha Verma",
        "gender": "female",
        "date_of_birth": ADULT_BIRTHDAY.isoformat(),
        "services": [{"id": mri.pk, "name": "Test MRI Scan", "price": "2500.00"}],
        "currency": "INR",
        "base_price": "2500.00",
        "discount_eligible": True,
        "discount_applied": True,
        "quota_exhausted": False,
        "discount_percent": "12.00",
        "discount_amount": "300.00",
        "final_price": "2200.00",
        "confirmation_code": booking.confirmation_code,
        "failure_reason": None,
        "created_at": body["created_at"],
        "visit_date": clinic_today().isoformat(),
        "appointment": None,
        "payment": None,  # paid by card token: no online order
        # the terms it was sold under (the seeded version 1)
        "cancellation_policy": {"version": 1, "url": "/api/config/cancellation?version=1"},
        "receipts": [
            {
                "number": first_number,
                "kind": "receipt",
                "issued_at": body["receipts"][0]["issued_at"],
                "amount": "2200.00",
                "url": f"/receipts/{first_number}.pdf",
            }
        ],
    }
    assert booking.user == user
    assert booking.confirmation_code
    assert body["created_at"].endswith("+05:30")


@saga
def test_a_booking_below_the_threshold_pays_full_price(patient_api, service_priced):
    body = patient_api.post(
        BOOKINGS, booking_body(service_priced("400.00"), gender="male"), format="json"
    ).json()
    assert (body["discount_eligible"], body["discount_applied"], body["final_price"]) == (
        False,
        False,
        "400.00",
    )


@saga
def test_a_declined_card_is_still_201_with_the_failure_reason(patient_api, service_priced):
    response = patient_api.post(
        BOOKINGS,
        booking_body(service_priced("500.00"), payment_token="tok_chargeDeclined"),
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["failure_reason"], body["confirmation_code"]) == (
        "failed",
        "card_declined",
        None,
    )


@saga
def test_insufficient_funds_is_its_own_failure_reason(patient_api, service_priced):
    body = patient_api.post(
        BOOKINGS,
        booking_body(service_priced("500.00"), payment_token="tok_chargeDeclinedInsufficientFunds"),
        format="json",
    ).json()
    assert (body["status"], body["failure_reason"]) == ("failed", "insufficient_funds")


@saga
def test_mastercard_is_captured(patient_api, service_priced):
    body = patient_api.post(
        BOOKINGS,
        booking_body(service_priced("500.00"), payment_token="tok_mastercard"),
        format="json",
    ).json()
    assert body["status"] == "confirmed"


@saga
def test_the_payment_token_defaults_to_tok_visa(patient_api, service_priced):
    body = booking_body(service_priced("500.00"))
    del body["payment_token"]
    response = patient_api.post(BOOKINGS, body, format="json")
    assert response.status_code == 201
    assert response.json()["status"] == "confirmed"
    assert Booking.objects.get().payment_token == "tok_visa"


@saga
def test_services_are_listed_in_the_order_booked_with_snapshot_prices(patient_api, service_priced):
    first, second = service_priced("300.00"), service_priced("200.00")
    body = patient_api.post(BOOKINGS, booking_body(second, first), format="json").json()
    first.price = 999
    first.save()
    assert {s["id"]: s["price"] for s in body["services"]} == {
        first.pk: "300.00",
        second.pk: "200.00",
    }
    status = patient_api.get(f"/api/booking/{body['id']}/status").json()
    assert {s["id"]: s["price"] for s in status["services"]}[first.pk] == "300.00"


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"patient_name": ""}, "patient_name"),
        ({"patient_name": "   "}, "patient_name"),
        ({"patient_name": "x" * 121}, "patient_name"),
        ({"gender": "robot"}, "gender"),
        ({"date_of_birth": "not-a-date"}, "date_of_birth"),
        ({"service_ids": []}, "service_ids"),
        ({"service_ids": list(range(1, 12))}, "service_ids"),
        ({"service_ids": [0]}, "service_ids"),
        ({"service_ids": "1,2"}, "service_ids"),
        ({"payment_token": "tok_unknown"}, "payment_token"),
    ],
)
def test_booking_refuses_bad_fields_with_400(patient_api, service_priced, changes, field):
    response = patient_api.post(
        BOOKINGS, booking_body(service_priced("500.00"), **changes), format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    assert not Booking.objects.exists()


@saga
def test_exactly_ten_services_are_accepted(patient_api, service_priced):
    services = [service_priced("100.00") for _ in range(10)]
    response = patient_api.post(BOOKINGS, booking_body(*services), format="json")
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], len(body["services"]), body["base_price"]) == (
        "confirmed",
        10,
        "1000.00",
    )


@saga
def test_a_name_of_120_characters_is_accepted(patient_api, service_priced):
    name = "Asha " + "V" * 115
    response = patient_api.post(
        BOOKINGS, booking_body(service_priced("500.00"), patient_name=name), format="json"
    )
    assert response.status_code == 201
    assert (response.json()["status"], response.json()["patient_name"]) == ("confirmed", name)


@saga
def test_a_birth_date_exactly_130_years_ago_is_accepted(patient_api, service_priced):
    oldest = years_before(clinic_today(), 130)
    body = booking_body(service_priced("500.00"), date_of_birth=oldest.isoformat())
    response = patient_api.post(BOOKINGS, body, format="json")
    assert response.status_code == 201
    assert (response.json()["status"], response.json()["date_of_birth"]) == (
        "confirmed",
        oldest.isoformat(),
    )
    day_earlier = (oldest - timedelta(days=1)).isoformat()
    too_old = patient_api.post(
        BOOKINGS,
        booking_body(service_priced("500.00"), date_of_birth=day_earlier),
        format="json",
    )
    assert too_old.status_code == 400


def test_booking_refuses_a_birth_date_today_or_later(patient_api, service_priced):
    body = booking_body(service_priced("500.00"), date_of_birth=clinic_today().isoformat())
    response = patient_api.post(BOOKINGS, body, format="json")
    assert response.status_code == 400
    assert "past date" in response.json()["date_of_birth"][0]


def test_booking_refuses_a_birth_date_over_130_years_ago(patient_api, service_priced):
    long_ago = (clinic_today() - timedelta(days=131 * 366)).isoformat()
    body = booking_body(service_priced("500.00"), date_of_birth=long_ago)
    assert patient_api.post(BOOKINGS, body, format="json").status_code == 400


def test_booking_refuses_a_service_chosen_twice(patient_api, service_priced):
    service = service_priced("500.00")
    response = patient_api.post(BOOKINGS, booking_body(service, service), format="json")
    assert response.status_code == 400
    assert "only once" in response.json()["service_ids"][0]


def test_booking_refuses_an_inactive_or_unknown_service(patient_api, service_priced):
    retired = service_priced("500.00", active=False)
    response = patient_api.post(BOOKINGS, booking_body(retired), format="json")
    assert response.status_code == 400
    assert str(retired.pk) in response.json()["service_ids"][0]
    assert not Booking.objects.exists()


def test_booking_needs_credentials_401(api, service_priced):
    response = api.post(BOOKINGS, booking_body(service_priced("500.00")), format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert not Booking.objects.exists()


def test_the_booking_list_needs_credentials_401(api):
    assert api.get(BOOKINGS).status_code == 401


def test_bookings_cannot_be_deleted_405(patient_api):
    assert patient_api.delete(BOOKINGS).status_code == 405


@saga
def test_booking_creation_is_throttled_with_retry_after(patient_api, service_priced, settings):
    settings.THROTTLE_BOOKING_RATE = "2/minute"
    service = service_priced("500.00")
    for _ in range(2):
        assert patient_api.post(BOOKINGS, booking_body(service), format="json").status_code == 201
    response = patient_api.post(BOOKINGS, booking_body(service), format="json")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert Booking.objects.count() == 2
    assert patient_api.get(BOOKINGS).status_code == 200  # reading is not throttled


# --- GET /api/booking/<id>/status ---------------------------------------------------


@saga
def test_status_shows_the_booking_and_its_saga_events_in_order(patient_api, service_priced):
    created = patient_api.post(
        BOOKINGS, booking_body(service_priced("2500.00")), format="json"
    ).json()
    response = patient_api.get(f"/api/booking/{created['id']}/status")
    assert response.status_code == 200
    body = response.json()
    assert {k: v for k, v in body.items() if k != "events"} == created
    assert [e["type"] for e in body["events"]] == [
        "BookingRequested",
        "PricingCalculated",
        "DiscountQuotaReserved",
        "PaymentCompleted",
        "BookingConfirmed",
        "ReceiptIssued",
    ]
    assert [e["sequence"] for e in body["events"]] == sorted(e["sequence"] for e in body["events"])
    assert body["events"][1]["payload"]["base_price"] == "2500.00"
    assert all(e["at"].endswith("+05:30") for e in body["events"])
    assert len(body["events"]) == SagaEvent.objects.count()


@saga
def test_status_of_a_failed_booking_shows_its_compensation(patient_api, service_priced):
    created = patient_api.post(
        BOOKINGS,
        booking_body(service_priced("500.00"), payment_token="tok_chargeDeclined"),
        format="json",
    ).json()
    events = patient_api.get(f"/api/booking/{created['id']}/status").json()["events"]
    assert events[-1]["type"] == "BookingFailed"
    assert "CompensationTriggered" in [e["type"] for e in events]


@saga
def test_another_users_booking_is_404(token_client, book):
    theirs = book()
    assert theirs.status == "confirmed"  # a booking that went through the saga
    stranger = token_client(UserFactory())
    response = stranger.get(f"/api/booking/{theirs.pk}/status")
    assert response.status_code == 404
    assert response.json() == {"detail": "No such booking."}


@saga
def test_staff_may_read_any_booking(token_client, book):
    booking = book()
    staff = token_client(staff_member("Reception"))
    response = staff.get(f"/api/booking/{booking.pk}/status")
    assert response.status_code == 200
    assert response.json()["id"] == str(booking.pk)
    assert response.json()["status"] == "confirmed"
    assert response.json()["events"][-2]["type"] == "BookingConfirmed"


@pytest.mark.parametrize("booking_id", ["not-a-uuid", "123", "%00", "' OR 1=1 --"])
def test_an_id_that_is_not_a_uuid_is_404(patient_api, booking_id):
    assert patient_api.get(f"/api/booking/{booking_id}/status").status_code == 404


def test_an_unknown_booking_is_404(patient_api):
    assert patient_api.get(f"/api/booking/{uuid.uuid4()}/status").status_code == 404


@saga
def test_status_needs_credentials_401(api, book):
    assert api.get(f"/api/booking/{book().pk}/status").status_code == 401


# --- GET /api/booking ------------------------------------------------------------------


@saga
def test_the_list_shows_only_my_bookings_newest_first(patient_api, book, service_priced):
    service = service_priced("500.00")
    mine = [book(services=[service]) for _ in range(3)]
    book(services=[service], by=UserFactory())
    response = patient_api.get(BOOKINGS)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert (body["next"], body["previous"]) == (None, None)
    assert [b["id"] for b in body["results"]] == [str(b.pk) for b in reversed(mine)]
    assert body["results"][0]["services"][0]["price"] == "500.00"
    assert {b["status"] for b in body["results"]} == {"confirmed"}
    assert all(b["confirmation_code"] for b in body["results"])


@saga
def test_the_list_is_paginated_by_twenty(patient_api, book, service_priced):
    service = service_priced("500.00")
    for _ in range(21):
        book(services=[service])
    first = patient_api.get(BOOKINGS).json()
    assert (first["count"], len(first["results"])) == (21, 20)
    assert first["next"].endswith("/api/booking?page=2")
    second = patient_api.get(BOOKINGS, {"page": 2}).json()
    assert len(second["results"]) == 1
    assert second["previous"]


def test_a_page_past_the_end_is_404(patient_api):
    assert patient_api.get(BOOKINGS, {"page": 9}).status_code == 404


def test_an_empty_list(patient_api):
    assert patient_api.get(BOOKINGS).json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }


@saga
def test_the_list_costs_the_same_queries_for_2_or_12_bookings(patient_api, book, service_priced):
    services = [service_priced("300.00"), service_priced("400.00")]

    def queries_for_list() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert patient_api.get(BOOKINGS).status_code == 200
        return len(captured)

    for _ in range(2):
        book(services=services)
    few = queries_for_list()
    for _ in range(10):
        book(services=services)
    assert queries_for_list() == few
    assert few <= 6  # token + user, count, the page of bookings, their items, slots, receipts
    assert set(Booking.objects.values_list("status", flat=True)) == {"confirmed"}


@saga
def test_one_booking_one_payment_per_post(patient_api, service_priced):
    patient_api.post(BOOKINGS, booking_body(service_priced("500.00")), format="json")
    assert Payment.objects.count() == 1


@saga
def test_the_random_decline_rate_fails_good_cards_too(patient_api, service_priced, settings):
    settings.PAYMENT_FAILURE_RATE = 1.0
    response = patient_api.post(BOOKINGS, booking_body(service_priced("500.00")), format="json")
    assert response.status_code == 201
    assert (response.json()["status"], response.json()["failure_reason"]) == (
        "failed",
        "card_declined",
    )


@saga
def test_a_logged_in_browser_session_reads_its_bookings(client, user, book):
    mine = book()
    client.force_login(user)
    response = client.get(BOOKINGS)
    assert response.status_code == 200
    assert [b["id"] for b in response.json()["results"]] == [str(mine.pk)]
    assert response.json()["results"][0]["status"] == "confirmed"
