"""Online payment races on PostgreSQL, in real threads and over real HTTP: the checkout
proof, the gateway's webhooks (sent by the stand-in to the live server) and
reconciliation racing for one capture; webhooks repeated and shuffled across many
bookings; a capture racing the expiry. Each ends in exactly one outcome."""

from datetime import timedelta
from functools import partial

import pytest
from django.utils import timezone

from bookings.models import Booking, BookingStatus, SagaEvent
from notifications.models import Kind, Notification
from payments import online
from payments.models import (
    ONLINE_TOKEN,
    Payment,
    PaymentStatus,
    RefundStatus,
    ReversedCapture,
    WebhookEvent,
)
from portal.flows import start_booking
from portal.ops.invariants import find_violations
from tests.support.factories import ADULT_BIRTHDAY
from tests.support.racing import at_once
from tests.support.razorpay import razorpay  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 24


@pytest.fixture
def standin(razorpay, live_server):  # noqa: F811
    razorpay.webhook_url = f"{live_server.url}/webhooks/razorpay"
    return razorpay


@pytest.fixture
def waiting(user, service_priced):
    """waiting() -> (booking, order id): a new online booking awaiting its payment."""
    mri = service_priced("1500.00", name="Race MRI")

    def make() -> tuple[Booking, str]:
        booking = start_booking(
            user=user,
            patient_name="Asha Verma",
            gender="female",
            date_of_birth=ADULT_BIRTHDAY,
            service_ids=[mri.pk],
            payment_token=ONLINE_TOKEN,
        )
        payment = Payment.objects.get(booking=booking)
        assert Booking.objects.get(pk=booking.pk).status == BookingStatus.AWAITING_PAYMENT
        return booking, payment.order_id

    return make


def prover(booking: Booking, proof: dict):
    """The checkout's proof, as POST /api/booking/<id>/payment hands it to payments."""
    return partial(
        online.accept_checkout_proof,
        booking_id=booking.pk,
        order_id=proof["razorpay_order_id"],
        payment_id=proof["razorpay_payment_id"],
        signature=proof["razorpay_signature"],
    )


def completed(booking: Booking) -> int:
    return SagaEvent.objects.filter(
        correlation_id=booking.correlation_id, event_type="PaymentCompleted"
    ).count()


def test_proof_webhooks_and_reconciliation_racing_confirm_once(standin, waiting):
    for _ in range(ROUNDS):
        booking, order_id = waiting()
        standin.hold_webhooks()
        proof = standin.pay(order_id)
        payment = Payment.objects.get(booking=booking)
        outcomes = at_once(
            [
                prover(booking, proof),
                standin.deliver_held,  # over HTTP to the live server
                partial(
                    online.reconcile_payment,
                    payment_id=payment.pk,
                    now=payment.expires_at + timedelta(seconds=1),
                ),
            ]
        )
        assert outcomes[1] == [200, 200, 200]
        assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CONFIRMED
        assert completed(booking) == 1
        assert Payment.objects.filter(booking=booking).count() == 1
        assert Payment.objects.get(booking=booking).status == PaymentStatus.CAPTURED
        channels = list(
            Notification.objects.filter(booking=booking, kind=Kind.CONFIRMATION).values_list(
                "channel", flat=True
            )
        )
        assert channels and len(channels) == len(set(channels))  # one notice per channel
    assert not ReversedCapture.objects.exists()
    assert standin.refunds == {}
    assert find_violations() == []


def test_webhooks_repeated_and_shuffled_across_bookings_are_acted_on_once(standin, waiting):
    standin.hold_webhooks()
    bookings = []
    for _ in range(12):
        booking, order_id = waiting()
        standin.pay(order_id)
        bookings.append(booking)
    statuses = standin.deliver_held(repeat=5, shuffle_seed=23)
    assert statuses == [200] * (12 * 3 * 5)
    for booking in bookings:
        assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CONFIRMED
        assert completed(booking) == 1
    assert WebhookEvent.objects.count() == 12 * 2  # payment.captured and order.paid each
    assert not WebhookEvent.objects.filter(processed_at__isnull=True).exists()
    assert not ReversedCapture.objects.exists() and find_violations() == []


def test_a_capture_racing_the_expiry_is_either_kept_or_refunded_never_both(standin, waiting):
    for _ in range(ROUNDS):
        booking, order_id = waiting()
        standin.hold_webhooks()  # only the proof and the expiry race
        proof = standin.pay(order_id)
        Payment.objects.filter(booking=booking).update(expires_at=timezone.now())
        at_once(
            [
                prover(booking, proof),
                partial(
                    online._fail_unpaid,
                    correlation_id=booking.correlation_id,
                    reason=online.PAYMENT_EXPIRED,
                    waiting=True,
                ),
            ]
        )
        standin.held.clear()
        status = Booking.objects.get(pk=booking.pk).status
        reversals = list(ReversedCapture.objects.filter(correlation_id=booking.correlation_id))
        if status == BookingStatus.CONFIRMED:
            assert reversals == [] and completed(booking) == 1
        else:
            assert status == BookingStatus.FAILED and completed(booking) == 0
            assert [r.status for r in reversals] == [RefundStatus.REFUNDED]
            paid = standin.payments[proof["razorpay_payment_id"]]
            assert paid["amount_refunded"] == paid["amount"]
    assert find_violations() == []


def test_parallel_online_bookings_hold_places_until_paid_or_expired(
    standin, token_client, consult, doctor
):
    from tests.support.factories import UserFactory
    from tests.support.scheduling import slot as make_slot

    place = make_slot(doctor, capacity=3)

    def booking_by(client):
        def run():
            return client.post(
                "/api/booking",
                {
                    "patient_name": "Racer",
                    "gender": "male",
                    "date_of_birth": ADULT_BIRTHDAY.isoformat(),
                    "service_ids": [consult.pk],
                    "payment_method": "online",
                    "slot_id": place.pk,
                },
                format="json",
            )

        return run

    answers = at_once([booking_by(token_client(UserFactory())) for _ in range(30)])
    took = [a.json() for a in answers if a.status_code == 201]
    assert sorted(a.status_code for a in answers) == [201] * 3 + [409] * 27
    assert {b["status"] for b in took} == {"awaiting_payment"}
    place.refresh_from_db()
    assert place.booked == 3 and find_violations() == []
    # One pays; two abandon and their holds run out: reconciliation frees their places.
    standin.hold_webhooks()
    standin.pay(took[0]["payment"]["order_id"])
    Payment.objects.filter(booking_id__in=[b["id"] for b in took]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    online.reconcile_waiting_payments(now=timezone.now())
    statuses = sorted(
        Booking.objects.filter(slot_bookings__slot=place).values_list("status", flat=True)
    )
    assert statuses == ["confirmed", "failed", "failed"]
    place.refresh_from_db()
    assert place.booked == 1 and find_violations() == []
    again = at_once([booking_by(token_client(UserFactory())) for _ in range(4)])
    assert sorted(a.status_code for a in again) == [201, 201, 409, 409]
    place.refresh_from_db()
    assert place.booked == 3 and find_violations() == []
