"""Each path through the saga leaves exactly its trail of events, in order."""

from decimal import Decimal

import pytest
from django.core import mail

from bookings.events import ReceiverCrashed
from bookings.models import Booking, SagaEvent
from payments.models import PaymentStatus, SimulatedGatewayCharge
from portal.ops.invariants import find_violations
from quotas.models import DiscountQuota

pytestmark = pytest.mark.usefixtures("commits")


def trail(booking) -> list[str]:
    return list(
        SagaEvent.objects.filter(correlation_id=booking.correlation_id)
        .order_by("sequence")
        .values_list("event_type", flat=True)
    )


def test_success_trail_and_confirmation(book):
    booking = book(prices=("2500.00",))

    assert trail(booking) == [
        "BookingRequested",
        "PricingCalculated",
        "DiscountQuotaReserved",
        "PaymentCompleted",
        "BookingConfirmed",
        "ReceiptIssued",  # billing hears PaymentCompleted after confirmations
    ]
    assert booking.status == "confirmed"
    assert len(booking.confirmation_code) == 8
    assert booking.payment.status == PaymentStatus.CAPTURED
    assert booking.payment.amount == booking.final_price == Decimal("2200.00")
    sequences = SagaEvent.objects.filter(correlation_id=booking.correlation_id).values_list(
        "sequence", flat=True
    )
    assert sorted(sequences) == [1, 2, 3, 4, 5, 6]
    assert mail.outbox == []  # the worker sends it (tests/test_notification_outbox.py)
    assert set(booking.notifications.values_list("kind", "channel")) == {
        ("confirmation", "email"),
        ("confirmation", "sms"),
    }


def test_declined_card_with_a_discount_releases_it(book):
    booking = book(prices=("2500.00",), payment_token="tok_chargeDeclined")

    assert trail(booking) == [
        "BookingRequested",
        "PricingCalculated",
        "DiscountQuotaReserved",
        "PaymentFailed",
        "CompensationTriggered",
        "DiscountQuotaReleased",
        "BookingFailed",
    ]
    assert booking.status == "failed"
    assert booking.failure_reason == "card_declined"
    assert booking.payment.status == PaymentStatus.DECLINED
    assert DiscountQuota.objects.get(day=booking.clinic_day).used == 0
    assert find_violations() == []


def test_declined_card_without_a_discount(book):
    booking = book(prices=("300.00",), payment_token="tok_chargeDeclinedInsufficientFunds")

    assert trail(booking) == [
        "BookingRequested",
        "PricingCalculated",
        "DiscountQuotaReserved",
        "PaymentFailed",
        "CompensationTriggered",
        "BookingFailed",
    ]
    assert booking.failure_reason == "insufficient_funds"
    assert mail.outbox == []


def test_failure_after_the_charge_reverses_the_payment(book, monkeypatch):
    def broken_code():
        raise RuntimeError("code generator is down")

    monkeypatch.setattr("confirmations.services.generate_confirmation_code", broken_code)
    with pytest.raises(ReceiverCrashed, match="confirmations crashed on PaymentCompleted"):
        book(prices=("2500.00",))

    booking = Booking.objects.get()
    assert trail(booking) == [
        "BookingRequested",
        "PricingCalculated",
        "DiscountQuotaReserved",
        "PaymentCompleted",
        "CompensationTriggered",
        "DiscountQuotaReleased",
        "PaymentReversed",
        "BookingFailed",
    ]
    assert booking.status == "failed"
    assert booking.failure_reason == "internal_error in confirmations"
    assert booking.payment.status == PaymentStatus.REFUNDED
    assert booking.payment.refund_reference
    compensation = SagaEvent.objects.get(
        correlation_id=booking.correlation_id, event_type="CompensationTriggered"
    )
    assert compensation.payload["failed_step"] == "confirmations"
    assert find_violations() == []


@pytest.mark.parametrize(
    ("broken", "step", "events_before_crash"),
    [
        ("pricing.services.discount_eligibility", "pricing", ["BookingRequested"]),
        (
            "quotas.services.percent_of",
            "quotas",
            ["BookingRequested", "PricingCalculated"],
        ),
        (
            # The process dies inside the charge call, before the gateway took any money.
            "payments.gateway.SimulatedGateway.charge",
            "payments",
            ["BookingRequested", "PricingCalculated", "DiscountQuotaReserved"],
        ),
    ],
)
@pytest.mark.django_db(transaction=True)  # a crash: a redelivery meets rows in autocommit
def test_a_crashing_receiver_is_compensated_and_the_booking_failed(
    book, monkeypatch, broken, step, events_before_crash
):
    def crash(*args, **kwargs):
        raise RuntimeError(f"{step} blew up")

    monkeypatch.setattr(broken, crash)
    with pytest.raises(ReceiverCrashed):
        book(prices=("2500.00",))

    booking = Booking.objects.get()
    released = ["DiscountQuotaReleased"] if "DiscountQuotaReserved" in events_before_crash else []
    assert trail(booking) == [
        *events_before_crash,
        "CompensationTriggered",
        *released,
        "BookingFailed",
    ]
    assert booking.status == "failed"
    assert booking.failure_reason == f"internal_error in {step}"
    assert find_violations() == []


def test_in_production_a_crash_is_compensated_without_raising(book, monkeypatch, settings):
    settings.SAGA_RERAISE_RECEIVER_ERRORS = False
    monkeypatch.setattr("pricing.services.discount_eligibility", lambda **kw: 1 / 0)

    booking = book(prices=("2500.00",))

    assert booking.status == "failed"
    assert trail(booking)[-2:] == ["CompensationTriggered", "BookingFailed"]


@pytest.mark.django_db(transaction=True)  # a crash: a redelivery meets rows in autocommit
def test_a_crash_after_the_gateway_captured_refunds_and_never_charges_twice(book, monkeypatch):
    def crash(**kwargs):
        raise RuntimeError("died after the gateway answered")

    monkeypatch.setattr("payments.services.record_charge_outcome", crash)
    with pytest.raises(ReceiverCrashed):
        book(prices=("2500.00",))

    booking = Booking.objects.get()
    assert trail(booking) == [
        "BookingRequested",
        "PricingCalculated",
        "DiscountQuotaReserved",
        "CompensationTriggered",
        "DiscountQuotaReleased",
        "PaymentReversed",
        "BookingFailed",
    ]
    assert booking.payment.status == PaymentStatus.REFUNDED
    ledger = SimulatedGatewayCharge.objects.get()
    assert ledger.captured and ledger.refund_reference
    assert find_violations() == []


@pytest.mark.django_db(transaction=True)  # a crash: a redelivery meets rows in autocommit
def test_a_charge_that_never_reached_the_gateway_is_not_refunded(book, monkeypatch):
    monkeypatch.setattr("payments.gateway.SimulatedGateway.charge", lambda self, **kw: 1 / 0)
    with pytest.raises(ReceiverCrashed):
        book(prices=("300.00",))

    booking = Booking.objects.get()
    assert booking.payment.status == PaymentStatus.DECLINED
    assert booking.payment.decline_reason == "not_charged"
    assert "PaymentReversed" not in trail(booking)
    assert not SimulatedGatewayCharge.objects.exists()
