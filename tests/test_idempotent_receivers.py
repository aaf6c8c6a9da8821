"""Delivered twice, every step changes nothing the second time: resuming is safe."""

import pytest

from bookings import events
from bookings.events import replay, trigger_compensation
from bookings.models import AuditLog, Booking, SagaEvent
from confirmations.services import confirm_booking
from payments.models import Payment, SimulatedGatewayCharge
from portal.ops.invariants import find_violations
from quotas.models import DiscountQuota, QuotaReservation
from tests.support.saga_hooks import delivery_stopped

pytestmark = pytest.mark.usefixtures("commits")


def snapshot(booking: Booking) -> dict:
    booking.refresh_from_db()
    return {
        "booking": (booking.status, booking.final_price, booking.confirmation_code),
        "events": list(
            SagaEvent.objects.filter(correlation_id=booking.correlation_id).values_list(
                "sequence", "event_type"
            )
        ),
        "payments": list(Payment.objects.values_list("status", "amount")),
        "charges": SimulatedGatewayCharge.objects.count(),
        "quota_used": list(DiscountQuota.objects.values_list("used", flat=True)),
        "reservations": list(QuotaReservation.objects.values_list("released_at", flat=True)),
        "audit_rows": AuditLog.objects.count(),
    }


@pytest.mark.parametrize("token", ["tok_visa", "tok_chargeDeclined"])
def test_replaying_every_logged_event_changes_nothing(book, token):
    booking = book(prices=("2500.00",), payment_token=token)
    before = snapshot(booking)

    for event in SagaEvent.objects.filter(correlation_id=booking.correlation_id):
        replay(event)

    assert snapshot(booking) == before


def test_a_late_compensation_leaves_a_confirmed_booking_whole(book):
    booking = book(prices=("2500.00",))
    trigger_compensation(correlation_id=booking.correlation_id, reason="late", failed_step="test")

    booking.refresh_from_db()
    assert booking.status == "confirmed"
    assert booking.payment.status == "captured"
    assert QuotaReservation.objects.get().released_at is None
    assert find_violations() == []


def test_a_compensated_saga_is_never_confirmed(book):
    """Compensation started first: a late PaymentCompleted must not confirm the booking."""
    with delivery_stopped(events.PaymentCompleted):  # paid; confirmations not yet acted
        booking = book(prices=("2500.00",))
    with delivery_stopped(events.CompensationTriggered):  # logged; nobody undid anything yet
        trigger_compensation(correlation_id=booking.correlation_id, reason="late", failed_step="t")
    booking.refresh_from_db()
    # Still pending, so only the compensation guard can stop the confirmation below.
    assert (booking.status, booking.compensating) == ("pending", True)

    confirm_booking(
        correlation_id=booking.correlation_id, booking_id=booking.pk, appointment_start=None
    )

    booking.refresh_from_db()
    assert (booking.status, booking.confirmation_code) == ("pending", None)
    assert not SagaEvent.objects.filter(
        correlation_id=booking.correlation_id, event_type="BookingConfirmed"
    ).exists()
    # The compensation, resumed, ends it failed with the money and the discount back.
    replay(
        SagaEvent.objects.get(
            correlation_id=booking.correlation_id, event_type="CompensationTriggered"
        )
    )
    booking.refresh_from_db()
    assert booking.status == "failed"
    assert booking.payment.status == "refunded"
    assert not QuotaReservation.objects.filter(released_at__isnull=True).exists()
    assert find_violations() == []
