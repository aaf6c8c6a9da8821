"""Shared assertions: a saga ended soundly (nothing lost, nothing taken twice)."""

from bookings.models import Booking, BookingStatus
from payments.models import Payment, PaymentStatus, SimulatedGatewayCharge
from portal.ops.invariants import find_violations
from quotas.models import QuotaReservation
from scheduling.models import SlotBooking


def assert_ended_soundly(booking: Booking) -> None:
    """Confirmed and charged exactly once, or failed holding no money and no discount."""
    booking.refresh_from_db()
    key = str(booking.correlation_id)
    ledger = list(SimulatedGatewayCharge.objects.filter(idempotency_key=key))
    payment = Payment.objects.filter(booking=booking).first()
    live_reservations = QuotaReservation.objects.filter(
        booking=booking, released_at__isnull=True
    ).count()
    live_slots = SlotBooking.objects.filter(booking=booking, released_at__isnull=True).count()
    where = f"booking {booking.pk} ({booking.status}, {booking.failure_reason})"
    if booking.status == BookingStatus.CONFIRMED:
        assert len(ledger) == 1 and ledger[0].captured, where
        assert ledger[0].amount == booking.final_price, where
        assert ledger[0].refund_reference == "", where
        assert payment is not None and payment.status == PaymentStatus.CAPTURED, where
        assert payment.gateway_reference == ledger[0].reference, where
        assert live_reservations == (1 if booking.discount_applied else 0), where
        assert live_slots == (0 if booking.appointment_start is None else 1), where
    else:
        assert booking.status == BookingStatus.FAILED, where
        assert live_reservations == 0, where
        assert live_slots == 0, where
        assert all(not row.captured or row.refund_reference for row in ledger), where
        assert payment is None or payment.status in (
            PaymentStatus.DECLINED,
            PaymentStatus.REFUNDED,
        ), where


def assert_all_sound() -> None:
    assert not Booking.objects.filter(status=BookingStatus.PENDING).exists()
    for booking in Booking.objects.all():
        assert_ended_soundly(booking)
    assert find_violations() == []
