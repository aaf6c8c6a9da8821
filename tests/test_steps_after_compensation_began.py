"""A forward step that arrives after the saga's compensation began does nothing.

Recovery (another host, past the deadline) starts compensating a saga while one of its
forward events is still on its way (a slow process, or resume_sagas replaying it). Each
participant's compensation receiver may already have run and found nothing to undo, so
whatever the late forward step took would be held until a later recovery run: it must
take nothing. Here compensation is delivered to every participant except bookings (the
booking is still `pending`, `compensating`), then the forward event is delivered again.
"""

import pytest

from bookings import events
from bookings.models import Booking, BookingStatus, SagaEvent
from payments.models import Payment, SimulatedGatewayCharge
from quotas.models import DiscountQuota, QuotaReservation
from tests.support.recovery_checks import assert_all_sound
from tests.support.saga_hooks import delivery_stopped, listeners_replaced

pytestmark = pytest.mark.usefixtures("commits")

ELIGIBLE = ("2500.00",)  # above ₹1000: would take one of the day's discounts


def compensation_begun_after(book, event: type[events.Payload]) -> Booking:
    """The saga stopped right after `event` was logged; then recovery compensated it, and
    every participant but bookings has done its part (found nothing to undo)."""
    with delivery_stopped(event):
        booking = book(prices=ELIGIBLE)
    with listeners_replaced(
        events.CompensationTriggered, keep_apps=("scheduling", "quotas", "payments")
    ):
        assert events.trigger_compensation(
            correlation_id=booking.correlation_id,
            reason="saga_deadline_passed",
            failed_step="recovery",
        )
    booking.refresh_from_db()
    assert (booking.status, booking.compensating) == (BookingStatus.PENDING, True)
    return booking


def deliver_again(booking: Booking, event: type[events.Payload]) -> None:
    events.replay(
        SagaEvent.objects.get(correlation_id=booking.correlation_id, event_type=event.name)
    )


def finish_compensation(booking: Booking) -> None:
    deliver_again(booking, events.CompensationTriggered)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.FAILED
    assert_all_sound()


def test_payments_charges_nothing_once_compensation_began(book):
    booking = compensation_begun_after(book, events.DiscountQuotaReserved)

    deliver_again(booking, events.DiscountQuotaReserved)  # the charge step, late

    key = str(booking.correlation_id)
    # Never charged (not charged and refunded later as a late capture).
    assert not SimulatedGatewayCharge.objects.filter(idempotency_key=key).exists()
    assert not Payment.objects.filter(booking=booking).exists()
    assert not SagaEvent.objects.filter(
        correlation_id=booking.correlation_id,
        event_type__in=[events.PaymentCompleted.name, events.PaymentReversed.name],
    ).exists()
    finish_compensation(booking)


def test_quotas_reserves_nothing_once_compensation_began(book):
    booking = compensation_begun_after(book, events.PricingCalculated)

    deliver_again(booking, events.PricingCalculated)  # the quota step, late

    # No discount held for a booking being undone: quotas already released what it had.
    assert not QuotaReservation.objects.filter(booking=booking).exists()
    assert DiscountQuota.objects.filter(day=booking.clinic_day, used__gt=0).count() == 0
    assert not SagaEvent.objects.filter(
        correlation_id=booking.correlation_id, event_type=events.DiscountQuotaReserved.name
    ).exists()
    booking.refresh_from_db()
    assert (booking.discount_applied, booking.final_price) == (None, None)  # never priced
    finish_compensation(booking)
