"""A charge that lands after recovery undid the booking is refunded at once, never kept."""

from decimal import Decimal

import pytest

from bookings import events
from bookings.models import BookingStatus
from payments.gateway import ChargeResult, SimulatedGateway
from payments.models import Payment, PaymentStatus, SimulatedGatewayCharge
from tests.support.recovery_checks import assert_all_sound, assert_ended_soundly

pytestmark = pytest.mark.usefixtures("commits")


class GatewayOutlivedByTheSaga(SimulatedGateway):
    """While this charge is on its way, recovery gives up on the saga and compensates
    it (as it does past SAGA_HARD_DEADLINE_SECONDS); then the charge goes through."""

    def charge(self, *, amount: Decimal, token: str, idempotency_key: str) -> ChargeResult:
        events.trigger_compensation(
            correlation_id=idempotency_key, reason="saga_deadline_passed", failed_step="recovery"
        )
        return super().charge(amount=amount, token=token, idempotency_key=idempotency_key)


def test_money_taken_after_the_booking_was_undone_is_given_back(book, settings):
    settings.PAYMENT_GATEWAY = "tests.test_late_charge.GatewayOutlivedByTheSaga"

    booking = book(prices=("2500.00",))

    assert booking.status == BookingStatus.FAILED
    assert booking.failure_reason == "saga_deadline_passed"
    charge = SimulatedGatewayCharge.objects.get()
    assert charge.captured
    assert charge.refund_reference  # the money went back
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.REFUNDED
    assert payment.refund_reference == charge.refund_reference
    assert booking.quota_reservations.filter(released_at__isnull=True).count() == 0
    assert_ended_soundly(booking)
    assert_all_sound()
