"""Delivered twice, every step changes nothing the second time: resuming is safe."""

import pytest

from bookings.events import replay, trigger_compensation
from bookings.models import AuditLog, Booking, SagaEvent
from confirmations.services import confirm_booking
from payments.models import Payment, SimulatedGatewayCharge
from portal.invariants import find_violations
from quotas.models import DiscountQuota, QuotaReservation

pytestmark = pytest.mark.django_db(transaction=True)


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


def test_a_compensated_saga_is_never_confirmed(book, monkeypatch):
    """Compensation logged first: a late PaymentCompleted must not confirm the booking."""
    booking = book(prices=("2500.00",), payment_token="tok_chargeDeclined")
    SagaEvent.objects.filter(
        correlation_id=booking.correlation_id, event_type="PaymentCompleted"
    ).delete()

    confirm_booking(correlation_id=booking.correlation_id)

    booking.refresh_from_db()
    assert booking.status == "failed"
    assert booking.confirmation_code is None
