"""Cancelling a confirmed booking: the second saga, its trail, its refunds, its races."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.test import override_settings

from bookings.models import AuditLog, Booking, BookingStatus, SagaEvent
from bookings.services import NotCancellable
from payments.gateway import RefundDeclined, SimulatedGateway
from payments.models import Refund, RefundStatus, SimulatedGatewayRefund
from payments.services import settle_pending_refunds
from portal.flows import cancel_booking, cancellation_quote
from portal.ops.invariants import find_violations
from portal.ops.recovery import resume_stuck_cancellations
from pricing.models import CancellationPolicy, CancellationTier, DiscountSettings
from quotas.models import DiscountQuota
from tests.support.clock import MORNING
from tests.support.factories import PractitionerFactory, SlotFactory
from tests.support.racing import outcomes_at_once
from tests.support.saga_hooks import listeners_replaced

pytestmark = pytest.mark.usefixtures("commits", "default_cancellation_policy")


def trail(booking) -> list[str]:
    return list(
        SagaEvent.objects.filter(correlation_id=booking.correlation_id)
        .order_by("sequence")
        .values_list("event_type", flat=True)
    )


BOOKED = [
    "BookingRequested",
    "PricingCalculated",
    "DiscountQuotaReserved",
    "PaymentCompleted",
    "BookingConfirmed",
    "ReceiptIssued",  # the payment's receipt (billing)
]


def test_a_patient_cancelling_the_same_day_gets_the_policys_refund_and_the_discount_back(
    book, morning
):
    booking = book(prices=("2500.00",))  # eligible: ₹2,200.00 after 12%
    assert DiscountQuota.objects.get().used == 1

    cancelled = cancel_booking(booking=booking, actor="asha", by_staff=False, reason="ill")

    # 16 hours before the end of the walk-in day: the 6-hour tier, 100% less ₹100.
    assert cancelled.status == BookingStatus.CANCELLED
    assert trail(booking) == [
        *BOOKED,
        "CancellationRequested",
        "DiscountQuotaReleased",
        "PaymentRefunded",
        "ReceiptIssued",  # the refund note
        "BookingCancelled",
    ]
    refund = Refund.objects.get()
    assert (refund.amount, refund.status) == (Decimal("2100.00"), RefundStatus.REFUNDED)
    assert SimulatedGatewayRefund.objects.get().amount == Decimal("2100.00")
    assert DiscountQuota.objects.get().used == 0
    entry = AuditLog.objects.get(action="booking.cancellation_requested")
    assert (entry.actor, entry.after["refund_amount"], entry.after["fee"]) == (
        "asha",
        "2100.00",
        "100.00",
    )
    assert find_violations() == []


def test_a_discount_cancelled_on_a_later_clinic_day_stays_with_its_day(book):
    with time_machine.travel(MORNING, tick=True):
        booking = book(prices=("2500.00",))
    # An appointment three days on (as scheduling would have recorded it).
    Booking.objects.filter(pk=booking.pk).update(
        appointment_start=MORNING + timedelta(days=3),
        appointment_end=MORNING + timedelta(days=3, minutes=15),
        visit_date=(MORNING + timedelta(days=3)).date(),
    )
    with time_machine.travel(MORNING + timedelta(days=1), tick=True):
        cancel_booking(
            booking=Booking.objects.get(pk=booking.pk), actor="asha", by_staff=False, reason=""
        )

    assert "DiscountQuotaReleased" not in trail(booking)
    assert DiscountQuota.objects.get(day=MORNING.date()).used == 1  # the day's, spent
    assert Refund.objects.get().amount == Decimal("2200.00")  # 48 hours' notice: all of it
    assert find_violations() == []


def test_staff_cancellation_refunds_everything_at_the_last_minute(book):
    with time_machine.travel(MORNING.replace(hour=23, minute=50), tick=True):
        booking = book(prices=("500.00",))
        patient_quote = cancellation_quote(booking, by_staff=False)
        cancelled = cancel_booking(
            booking=booking, actor="reception1", by_staff=True, reason="doctor away"
        )

    assert patient_quote.refund_amount == Decimal("0.00")  # 10 minutes left: nothing
    assert cancelled.status == BookingStatus.CANCELLED
    assert Refund.objects.get().amount == Decimal("500.00")


def test_a_free_booking_is_cancelled_with_nothing_to_refund(book, morning):
    DiscountSettings.objects.update_or_create(pk=1, defaults={"discount_percent": 100})
    booking = book(prices=("2500.00",))
    assert booking.final_price == Decimal("0.00")

    cancel_booking(booking=booking, actor="asha", by_staff=False, reason="")

    assert "PaymentRefunded" not in trail(booking)
    assert trail(booking)[-1] == "BookingCancelled"
    assert not Refund.objects.exists()
    assert find_violations() == []


def test_a_booking_keeps_the_policy_it_was_sold_under(book, morning):
    booking = book(prices=("500.00",))
    stricter = CancellationPolicy.objects.create(published_by="manager")
    CancellationTier.objects.create(
        policy=stricter, min_hours_before=48, refund_percent=Decimal("10"), fee=Decimal("0")
    )
    later = book(prices=("500.00",))

    assert cancellation_quote(booking, by_staff=False).refund_amount == Decimal("400.00")
    assert cancellation_quote(later, by_staff=False).refund_amount == Decimal("0.00")


@pytest.mark.parametrize("status", ["pending", "failed", "cancelled"])
def test_only_a_confirmed_booking_can_be_cancelled(book, morning, status):
    booking = book(prices=("500.00",))
    # A failed booking is one whose compensation ran (the database holds it so).
    Booking.objects.filter(pk=booking.pk).update(status=status, compensating=status == "failed")
    booking.refresh_from_db()

    with pytest.raises(NotCancellable):
        cancel_booking(booking=booking, actor="asha", by_staff=False, reason="")
    assert not Refund.objects.exists()


def test_a_visit_that_has_begun_cannot_be_cancelled(book):
    with time_machine.travel(MORNING, tick=True):
        booking = book(prices=("500.00",))
    with time_machine.travel(MORNING + timedelta(days=1), tick=True):
        quote = cancellation_quote(booking, by_staff=True)
    assert (quote.allowed, quote.reason) == (False, "The visit has already begun.")


@pytest.mark.django_db(transaction=True)  # threads, or a dropped connection
def test_the_same_booking_cancelled_20_times_at_once_refunds_once(book, morning):
    booking = book(prices=("2500.00",))

    def cancel():
        return cancel_booking(
            booking=Booking.objects.get(pk=booking.pk), actor="asha", by_staff=False, reason=""
        )

    outcomes = outcomes_at_once([cancel] * 20)

    won = [o for o in outcomes if isinstance(o, Booking)]
    refused = [o for o in outcomes if isinstance(o, NotCancellable)]
    assert (len(won), len(refused)) == (1, 19), outcomes
    assert Refund.objects.count() == 1
    assert SimulatedGatewayRefund.objects.count() == 1
    assert trail(booking).count("CancellationRequested") == 1
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CANCELLED
    assert find_violations() == []


class GatewayNotAnswering(SimulatedGateway):
    def refund(self, **kwargs) -> str:
        raise TimeoutError("the gateway did not answer")


class GatewayRefusing(SimulatedGateway):
    def refund(self, **kwargs) -> str:
        raise RefundDeclined("card account closed")


def test_a_refund_the_gateway_does_not_answer_stays_pending_and_is_retried(book, morning):
    booking = book(prices=("500.00",))
    path = "tests.test_cancellation_saga.GatewayNotAnswering"
    with override_settings(PAYMENT_GATEWAY=path):
        cancelled = cancel_booking(booking=booking, actor="asha", by_staff=False, reason="")

    assert cancelled.status == BookingStatus.CANCELLED  # at once, either way
    assert Refund.objects.get().status == RefundStatus.PENDING
    assert "PaymentRefunded" not in trail(booking)

    assert settle_pending_refunds(not_touched_since=MORNING + timedelta(hours=1)) == 1

    assert Refund.objects.get().status == RefundStatus.REFUNDED
    assert trail(booking)[-3:] == ["BookingCancelled", "PaymentRefunded", "ReceiptIssued"]
    assert find_violations() == []


def test_a_refund_the_gateway_refuses_is_marked_failed_for_staff(book, morning):
    booking = book(prices=("500.00",))
    with override_settings(PAYMENT_GATEWAY="tests.test_cancellation_saga.GatewayRefusing"):
        cancel_booking(booking=booking, actor="asha", by_staff=False, reason="")

    refund = Refund.objects.get()
    assert (refund.status, refund.failure_reason) == (RefundStatus.FAILED, "card account closed")
    assert any("refund" in line for line in find_violations())


@pytest.mark.parametrize(
    "heard_by_before_the_crash",
    [(), ("quotas",), ("quotas", "payments")],
    ids=["before-any-step", "after-the-discount", "after-the-refund"],
)
def test_a_cancellation_a_crash_stopped_is_finished_by_recovery_with_one_refund(
    book, heard_by_before_the_crash
):
    from bookings import events

    with time_machine.travel(MORNING, tick=True):
        booking = book(prices=("2500.00",))
        # The process dies after these apps acted: the others never hear the event.
        with listeners_replaced(events.CancellationRequested, keep_apps=heard_by_before_the_crash):
            cancel_booking(booking=booking, actor="asha", by_staff=False, reason="")
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CONFIRMED

    with time_machine.travel(MORNING + timedelta(minutes=5), tick=True):
        resumed, _ = resume_stuck_cancellations()
        again, _ = resume_stuck_cancellations()

    assert (resumed, again) == (1, 0)
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CANCELLED
    assert Refund.objects.get().status == RefundStatus.REFUNDED
    assert SimulatedGatewayRefund.objects.count() == 1
    assert DiscountQuota.objects.get().used == 0
    assert trail(booking).count("PaymentRefunded") == 1
    assert find_violations() == []


def test_the_workers_minute_job_finishes_a_stuck_cancellation(book):
    from bookings import events
    from portal.ops import tasks

    with time_machine.travel(MORNING, tick=True):
        booking = book(prices=("500.00",))
        with listeners_replaced(events.CancellationRequested, keep_apps=()):
            cancel_booking(booking=booking, actor="asha", by_staff=False, reason="")
    with time_machine.travel(MORNING + timedelta(minutes=5), tick=True):
        line = tasks.resume_sagas()

    assert "cancellations_resumed=1" in line
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CANCELLED
    assert Refund.objects.get().status == RefundStatus.REFUNDED


def test_a_cancelled_appointment_gives_its_place_back_at_once(user, service_priced):
    from portal.flows import start_booking
    from scheduling.models import Slot
    from tests.support.factories import ADULT_BIRTHDAY

    consultation = service_priced("800.00", requires_appointment=True)
    doctor = PractitionerFactory(services=[consultation])
    with time_machine.travel(MORNING, tick=True):
        slot = SlotFactory(practitioner=doctor, start=MORNING + timedelta(days=2))
        booking = start_booking(
            user=user,
            patient_name="Asha Verma",
            gender="female",
            date_of_birth=ADULT_BIRTHDAY,
            service_ids=[consultation.pk],
            payment_token="tok_visa",
            slot_id=slot.pk,
        )
        assert Slot.objects.get(pk=slot.pk).booked == 1
        cancel_booking(
            booking=Booking.objects.get(pk=booking.pk), actor="asha", by_staff=False, reason=""
        )

    assert trail(booking)[6:] == [
        "CancellationRequested",
        "SlotReleased",
        "PaymentRefunded",
        "ReceiptIssued",
        "BookingCancelled",
    ]
    assert Slot.objects.get(pk=slot.pk).booked == 0
    assert Refund.objects.get().amount == Decimal("800.00")  # two days' notice: all of it
    assert find_violations() == []
