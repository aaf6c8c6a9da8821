"""The cancellation API (shared/API.md, "Cancelling and rescheduling")."""

from decimal import Decimal

import pytest
import time_machine

from bookings.models import Booking
from payments.models import Refund
from tests.support.admin_helpers import staff_member
from tests.support.clock import MORNING
from tests.support.factories import UserFactory

pytestmark = pytest.mark.usefixtures("commits", "default_cancellation_policy", "morning")


def cancel_path(booking) -> str:
    return f"/api/booking/{booking.pk}/cancel"


def test_the_policy_is_public(api):
    response = api.get("/api/config/cancellation")
    assert response.status_code == 200
    body = response.json()
    assert body["tiers"][0] == {"min_hours_before": 24, "refund_percent": "100.00", "fee": "0.00"}
    assert (body["reschedule_until_hours_before"], body["max_reschedules"]) == (4, 2)


def test_the_owner_sees_the_quote_then_cancels_and_gets_it(book, patient_api):
    booking = book(prices=("2500.00",))

    quote = patient_api.get(f"/api/booking/{booking.pk}/cancellation").json()
    response = patient_api.post(cancel_path(booking), {"reason": "feeling better"}, format="json")

    assert quote == {
        "allowed": True,
        "refund_amount": "2100.00",
        "fee": "100.00",
        "reason": "At least 6 hours before the visit: all of ₹2,200.00 comes back, "
        "less a ₹100.00 fee.",
    }
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "cancelled"
    assert body["refund"] == {"amount": "2100.00", "status": "refunded"}


def test_a_second_cancel_is_a_409_not_cancellable(book, patient_api):
    booking = book(prices=("500.00",))
    assert patient_api.post(cancel_path(booking), {}, format="json").status_code == 200

    again = patient_api.post(cancel_path(booking), {}, format="json")

    assert again.status_code == 409
    assert again.json() == {
        "detail": "This booking is already cancelled.",
        "code": "not_cancellable",
    }
    assert Refund.objects.count() == 1


def test_a_failed_booking_is_not_cancellable(book, patient_api):
    booking = book(prices=("500.00",), payment_token="tok_chargeDeclined")
    response = patient_api.post(cancel_path(booking), {}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "not_cancellable")


def test_the_same_idempotency_key_replays_the_first_answer(book, patient_api):
    booking = book(prices=("500.00",))
    first = patient_api.post(
        cancel_path(booking), {"reason": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="c-1"
    )
    again = patient_api.post(
        cancel_path(booking), {"reason": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="c-1"
    )
    other_body = patient_api.post(
        cancel_path(booking), {"reason": "y"}, format="json", HTTP_IDEMPOTENCY_KEY="c-1"
    )
    assert (first.status_code, again.status_code, other_body.status_code) == (200, 200, 422)
    assert again.json() == first.json()
    assert Refund.objects.count() == 1


def test_someone_elses_booking_is_404_for_quote_and_cancel(book, token_client):
    booking = book(prices=("500.00",))
    stranger = token_client(UserFactory())
    assert stranger.get(f"/api/booking/{booking.pk}/cancellation").status_code == 404
    assert stranger.post(cancel_path(booking), {}, format="json").status_code == 404
    assert Booking.objects.get(pk=booking.pk).status == "confirmed"


def test_reception_cancels_for_the_clinic_and_refunds_everything(book, token_client):
    booking = book(prices=("2500.00",))
    receptionist = staff_member("Reception")

    response = token_client(receptionist).post(
        cancel_path(booking), {"reason": "doctor unavailable"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["refund"] == {"amount": "2200.00", "status": "refunded"}
    assert Refund.objects.get().amount == Decimal("2200.00")


def test_staff_without_the_permission_cannot_cancel_others_bookings(book, token_client):
    booking = book(prices=("500.00",))
    response = token_client(UserFactory(is_staff=True)).post(
        cancel_path(booking), {}, format="json"
    )
    assert response.status_code == 404


def test_a_malformed_booking_id_is_404(patient_api):
    assert patient_api.post("/api/booking/not-a-uuid/cancel", {}, format="json").status_code == 404


# --- A cancel request that died after its cancellation was written --------------------


@pytest.mark.django_db(transaction=True)  # threads, or a dropped connection
def test_a_retry_after_a_503_gets_the_first_cancellations_200(book, patient_api, monkeypatch):
    from django.db import connection

    from portal.api import idempotency

    booking = book(prices=("500.00",))
    real, cut = idempotency._store, []

    def store_after_the_cut(*args, **kwargs):
        if not cut:  # the cancellation is committed; the answer cannot be stored: a 503
            cut.append(True)
            connection.connection.close()
        return real(*args, **kwargs)

    monkeypatch.setattr(idempotency, "_store", store_after_the_cut)

    died = patient_api.post(
        cancel_path(booking), {"reason": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="c-1"
    )
    assert died.status_code == 503
    assert Booking.objects.get(pk=booking.pk).status == "cancelled"

    retry = patient_api.post(
        cancel_path(booking), {"reason": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="c-1"
    )

    assert retry.status_code == 200, retry.json()  # not 409 not_cancellable
    assert (retry.json()["id"], retry.json()["status"]) == (str(booking.pk), "cancelled")
    assert retry.json()["refund"] == {"amount": "400.00", "status": "refunded"}
    assert Refund.objects.count() == 1
    again = patient_api.post(
        cancel_path(booking), {"reason": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="c-1"
    )
    assert (again.status_code, again.json()) == (200, retry.json())
    # Another key is another request: the booking is cancelled already.
    other = patient_api.post(
        cancel_path(booking), {"reason": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="c-2"
    )
    assert (other.status_code, other.json()["code"]) == (409, "not_cancellable")


def test_a_retry_while_that_cancellation_is_still_running_is_409_then_its_answer(
    book, patient_api, user
):
    from datetime import timedelta

    from django.utils import timezone

    from bookings import events
    from portal.api.idempotency import cancellation_request_key, fingerprint_of
    from portal.flows import cancel_booking
    from portal.models import IdempotencyKey
    from portal.ops.recovery import resume_stuck_cancellations
    from tests.support.saga_hooks import delivery_stopped

    booking = book(prices=("500.00",))
    # The request claimed its key, cancelled (the saga stopped by a crash), and died.
    IdempotencyKey.objects.create(
        user=user,
        key="c-1",
        fingerprint=fingerprint_of({"cancel": str(booking.pk), "reason": "x"}),
        claimed_at=timezone.now() - timedelta(seconds=5),
    )
    with delivery_stopped(events.CancellationRequested):
        cancel_booking(
            booking=booking,
            actor=user.get_username(),
            by_staff=False,
            reason="x",
            request_key=cancellation_request_key(user, "c-1"),
        )

    def retry():
        return patient_api.post(
            cancel_path(booking), {"reason": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="c-1"
        )

    running = retry()
    assert (running.status_code, running.json()["code"]) == (409, "request_in_flight")

    with time_machine.travel(MORNING + timedelta(minutes=5), tick=True):
        assert resume_stuck_cancellations() == (1, 0)  # recovery ends it
        settled = retry()

    assert settled.status_code == 200
    assert settled.json()["status"] == "cancelled"
    assert settled.json()["refund"] == {"amount": "400.00", "status": "refunded"}
    assert Refund.objects.count() == 1
