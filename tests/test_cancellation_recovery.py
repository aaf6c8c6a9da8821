"""A cancellation whose refund step failed: recovery still makes the promised refund."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import OperationalError

import payments.services
from bookings.models import Booking, BookingStatus, SagaEvent
from payments.models import Refund, RefundStatus, SimulatedGatewayRefund
from portal.flows import cancel_booking, refund_of
from portal.ops.invariants import find_violations
from portal.ops.recovery import resume_stuck_cancellations
from tests.support.clock import MORNING

pytestmark = pytest.mark.usefixtures("commits", "default_cancellation_policy")


def trail(booking) -> list[str]:
    return list(
        SagaEvent.objects.filter(correlation_id=booking.correlation_id)
        .order_by("sequence")
        .values_list("event_type", flat=True)
    )


def test_a_refund_step_that_failed_twice_is_made_by_recovery_once(book, monkeypatch, settings):
    settings.SAGA_RERAISE_RECEIVER_ERRORS = False  # as in production: logged, retried once
    real = payments.services.refund_cancellation
    calls = []

    def blips_twice(**kwargs):
        calls.append(kwargs)
        if len(calls) <= 2:
            raise OperationalError("server closed the connection unexpectedly")
        return real(**kwargs)

    monkeypatch.setattr(payments.services, "refund_cancellation", blips_twice)
    with time_machine.travel(MORNING, tick=True):
        booking = book(prices=("2500.00",))  # ₹2,200.00 paid; the 6-hour tier: ₹2,100.00
        cancelled = cancel_booking(booking=booking, actor="asha", by_staff=False, reason="")

        # bookings marked it cancelled (the saga's last step) with no refund recorded ...
        assert cancelled.status == BookingStatus.CANCELLED
        assert not Refund.objects.exists()
        # ... which the patient is told is on its way, and the checker reports.
        assert refund_of(cancelled) == {"amount": Decimal("2100.00"), "status": "pending"}
        assert any("promised ₹2100.00, no refund" in v for v in find_violations())

    with time_machine.travel(MORNING + timedelta(minutes=5), tick=True):
        first = resume_stuck_cancellations()
        second = resume_stuck_cancellations()

    assert (first, second) == ((1, 0), (0, 0))
    refund = Refund.objects.get()
    assert (refund.amount, refund.status) == (Decimal("2100.00"), RefundStatus.REFUNDED)
    assert SimulatedGatewayRefund.objects.get().amount == Decimal("2100.00")
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CANCELLED
    assert trail(booking)[-3:] == ["BookingCancelled", "PaymentRefunded", "ReceiptIssued"]
    assert find_violations() == []


def test_recovery_leaves_a_cancellation_with_nothing_to_refund_alone(book):
    with time_machine.travel(MORNING.replace(hour=23, minute=30), tick=True):
        booking = book(prices=("500.00",))  # 30 minutes left: nothing comes back
        cancel_booking(booking=booking, actor="asha", by_staff=False, reason="")
    with time_machine.travel(MORNING.replace(hour=23, minute=40), tick=True):
        assert resume_stuck_cancellations() == (0, 0)
    assert not Refund.objects.exists()
    assert refund_of(Booking.objects.get(pk=booking.pk))["status"] == "none"
