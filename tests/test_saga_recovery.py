"""`manage.py resume_sagas`: stuck sagas are resumed, or compensated past the deadline."""

import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from bookings import events
from bookings.models import AuditLog, Booking, BookingStatus, SagaEvent
from payments.gateway import SimulatedGateway, get_gateway
from payments.models import Payment, PaymentStatus, SimulatedGatewayCharge
from portal.ops.recovery import claim_stuck_bookings, resume_saga, resume_stuck_sagas
from tests.support.factories import PaymentFactory
from tests.support.racing import at_once
from tests.support.recovery_checks import assert_all_sound, assert_ended_soundly
from tests.support.saga_hooks import CountingGateway, hook_runs_first, listeners_replaced

pytestmark = pytest.mark.django_db(transaction=True)  # crashes and their recovery

ELIGIBLE = ("2500.00",)  # above ₹1000: takes one of the day's discounts


@pytest.fixture
def no_wait(settings):
    """Recovery may act at once (the default waits SAGA_TIMEOUT_SECONDS)."""
    settings.SAGA_TIMEOUT_SECONDS = 0
    settings.SAGA_HARD_DEADLINE_SECONDS = 3600
    return settings


def stuck_after(book, event_name: str, *, token: str = "tok_visa", keep_apps=()) -> Booking:
    """A booking whose saga stopped right after `event_name` was logged, as if it crashed."""
    with listeners_replaced(events.CATALOG[event_name], keep_apps=keep_apps):
        booking = book(prices=ELIGIBLE, payment_token=token)
    assert booking.status == BookingStatus.PENDING
    return booking


def run_resume() -> str:
    out = StringIO()
    call_command("resume_sagas", stdout=out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("event_name", "token", "ends"),
    [
        ("BookingRequested", "tok_visa", "confirmed"),
        ("PricingCalculated", "tok_visa", "confirmed"),
        ("DiscountQuotaReserved", "tok_visa", "confirmed"),
        ("PaymentCompleted", "tok_visa", "confirmed"),
        ("DiscountQuotaReserved", "tok_chargeDeclined", "failed"),
        ("CompensationTriggered", "tok_chargeDeclined", "failed"),
    ],
)
def test_a_saga_stuck_after_an_event_is_resumed_to_its_end(book, no_wait, event_name, token, ends):
    booking = stuck_after(book, event_name, token=token)

    output = run_resume()

    booking.refresh_from_db()
    assert booking.status == ends
    assert "claimed=1 resumed=1" in output
    assert_ended_soundly(booking)
    assert_all_sound()


def test_a_compensation_stopped_half_way_is_finished(book, no_wait):
    # Quotas released the discount; payments and bookings never heard the event.
    booking = stuck_after(
        book, "CompensationTriggered", token="tok_chargeDeclined", keep_apps=("quotas",)
    )
    assert not booking.quota_reservations.filter(released_at__isnull=True).exists()

    run_resume()

    booking.refresh_from_db()
    assert booking.status == BookingStatus.FAILED
    assert booking.failure_reason == "card_declined"
    assert_all_sound()


def test_a_failed_booking_whose_release_crashed_gets_its_discount_back(book, no_wait):
    no_wait.SAGA_RERAISE_RECEIVER_ERRORS = False  # as in production: logged, not raised

    def release_crashes(**_):
        raise ConnectionError("database connection lost")

    compensation = events.CompensationTriggered
    with listeners_replaced(compensation, release_crashes, keep_apps=("payments", "bookings")):
        booking = book(prices=ELIGIBLE, payment_token="tok_chargeDeclined")
    # Bookings, the last receiver, marked it failed although the discount is still held.
    assert booking.status == BookingStatus.FAILED
    assert booking.quota_reservations.filter(released_at__isnull=True).exists()

    output = run_resume()

    assert "claimed=1 resumed=1" in output
    assert not booking.quota_reservations.filter(released_at__isnull=True).exists()
    assert_all_sound()


def test_a_charge_taken_but_never_recorded_is_settled_from_the_gateway(book, no_wait, settings):
    booking = stuck_after(book, "DiscountQuotaReserved")
    # The process died after the gateway took the money, before our row said so.
    payment = PaymentFactory(booking=booking)
    get_gateway().charge(
        amount=payment.amount, token="tok_visa", idempotency_key=str(booking.correlation_id)
    )
    settings.PAYMENT_GATEWAY = "tests.support.saga_hooks.CountingGateway"
    CountingGateway.charges.clear()

    run_resume()

    assert CountingGateway.charges == {}  # asked (lookup), never charged again
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert_ended_soundly(booking)


def test_a_charge_that_never_reached_the_gateway_is_made_once(book, no_wait, settings):
    booking = stuck_after(book, "DiscountQuotaReserved")
    PaymentFactory(booking=booking)
    settings.PAYMENT_GATEWAY = "tests.support.saga_hooks.CountingGateway"
    CountingGateway.charges.clear()

    run_resume()

    assert CountingGateway.charges == {str(booking.correlation_id): 1}
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert_ended_soundly(booking)


@pytest.mark.parametrize(
    "event_name",
    ["BookingRequested", "PricingCalculated", "DiscountQuotaReserved", "PaymentCompleted"],
)
def test_past_the_hard_deadline_a_stuck_saga_is_compensated(book, no_wait, event_name):
    booking = stuck_after(book, event_name)
    no_wait.SAGA_HARD_DEADLINE_SECONDS = 0

    output = run_resume()

    booking.refresh_from_db()
    assert booking.status == BookingStatus.FAILED
    assert booking.failure_reason == "saga_deadline_passed"
    assert "compensated=1" in output
    assert_ended_soundly(booking)
    assert_all_sound()
    assert AuditLog.objects.filter(actor="system:recovery", action="saga.compensated").exists()


def test_past_the_deadline_money_taken_but_never_recorded_is_refunded(book, no_wait):
    booking = stuck_after(book, "DiscountQuotaReserved")
    PaymentFactory(booking=booking)
    get_gateway().charge(
        amount=booking.final_price, token="tok_visa", idempotency_key=str(booking.correlation_id)
    )
    no_wait.SAGA_HARD_DEADLINE_SECONDS = 0

    run_resume()

    booking.refresh_from_db()
    assert booking.status == BookingStatus.FAILED
    assert Payment.objects.get(booking=booking).status == PaymentStatus.REFUNDED
    assert SimulatedGatewayCharge.objects.get().refund_reference != ""
    assert_all_sound()


def test_a_young_pending_saga_is_left_alone(book, settings):
    settings.SAGA_TIMEOUT_SECONDS = 60
    booking = stuck_after(book, "PricingCalculated")

    assert "claimed=0" in run_resume()

    booking.refresh_from_db()
    assert booking.status == BookingStatus.PENDING


def test_ended_sagas_are_not_touched(book, no_wait):
    book(prices=ELIGIBLE)
    book(prices=ELIGIBLE, payment_token="tok_chargeDeclined")

    assert "claimed=0" in run_resume()


def test_a_claimed_saga_is_not_claimed_again_within_the_timeout(book, settings):
    settings.SAGA_TIMEOUT_SECONDS = 60
    booking = stuck_after(book, "PricingCalculated")
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Booking.objects.filter(pk=booking.pk).update(created_at=an_hour_ago, updated_at=an_hour_ago)

    now = timezone.now()
    assert claim_stuck_bookings(now=now, limit=10) == [booking.pk]
    assert claim_stuck_bookings(now=now, limit=10) == []  # another host finds nothing


def test_a_saga_confirmed_between_its_claim_and_its_resume_is_left_alone(book, no_wait):
    """Claimed as stuck, then its own slow delivery confirms it before recovery gets to
    it: recovery sends nothing again and records nothing."""
    booking = stuck_after(book, "PaymentCompleted")
    now = timezone.now()
    assert claim_stuck_bookings(now=now, limit=1) == [booking.pk]
    events.replay(
        SagaEvent.objects.get(
            correlation_id=booking.correlation_id, event_type=events.PaymentCompleted.name
        )
    )
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    sent_again = []

    def heard(*, correlation_id, **_):
        sent_again.append(correlation_id)

    with hook_runs_first(events.BookingConfirmed, heard):
        assert resume_saga(booking.pk, now=now) == ""

    assert sent_again == []
    assert not AuditLog.objects.filter(action__startswith="saga.").exists()
    assert_ended_soundly(booking)


def test_a_saga_that_cannot_be_resumed_is_reported_and_the_command_fails(book, no_wait):
    booking = stuck_after(book, "DiscountQuotaReserved")
    good = stuck_after(book, "PaymentCompleted")

    def gateway_down(**_):
        raise ConnectionError("gateway unreachable")

    with listeners_replaced(events.DiscountQuotaReserved, gateway_down, keep_apps=()):
        with pytest.raises(CommandError, match="1 saga"):
            call_command("resume_sagas", stdout=StringIO(), stderr=StringIO())

    good.refresh_from_db()
    assert good.status == BookingStatus.CONFIRMED  # the other stuck saga went on
    booking.refresh_from_db()
    assert booking.status == BookingStatus.FAILED  # the crash was compensated
    assert_all_sound()


def test_two_resumers_at_once_claim_each_saga_once_and_never_charge_twice(book, settings):
    settings.SAGA_TIMEOUT_SECONDS = 60
    settings.SAGA_HARD_DEADLINE_SECONDS = 10**6
    settings.PAYMENT_GATEWAY = "tests.support.saga_hooks.CountingGateway"
    stuck = [stuck_after(book, "DiscountQuotaReserved") for _ in range(6)]
    stuck += [stuck_after(book, "PricingCalculated") for _ in range(4)]
    stuck += [stuck_after(book, "PaymentCompleted") for _ in range(2)]
    # Two whose charge went through at the gateway before the process died.
    for booking in stuck[:2]:
        PaymentFactory(booking=booking)
        get_gateway().charge(
            amount=booking.final_price,
            token="tok_visa",
            idempotency_key=str(booking.correlation_id),
        )
    CountingGateway.charges.clear()
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Booking.objects.update(created_at=an_hour_ago, updated_at=an_hour_ago)

    summaries = at_once([lambda: resume_stuck_sagas()] * 2)

    assert sum(s.claimed for s in summaries) == len(stuck)
    assert sum(s.confirmed for s in summaries) == len(stuck)
    assert all(s.errors == [] for s in summaries)
    # Charged only where the gateway had never seen the booking, and once each.
    assert set(CountingGateway.charges.values()) == {1}
    assert sum(CountingGateway.charges.values()) == 6 + 4 - 2
    assert SimulatedGatewayCharge.objects.count() == len(stuck)
    assert_all_sound()


class SlowLookupGateway(SimulatedGateway):
    """A gateway that hangs on the first lookups (the charge's outcome is unknown, so
    recovery asks): the first saga recovery works on takes longer than the timeout, and
    a second recovery run starts while the first is on the second saga."""

    hang_seconds = 0.0
    while_second_is_worked_on = None
    lookups = 0

    def lookup(self, *, idempotency_key: str, token: str):
        cls = SlowLookupGateway
        cls.lookups += 1
        if cls.lookups == 1:
            time.sleep(cls.hang_seconds)  # longer than SAGA_TIMEOUT_SECONDS
        elif cls.lookups == 2 and cls.while_second_is_worked_on is not None:
            cls.while_second_is_worked_on()
        return super().lookup(idempotency_key=idempotency_key, token=token)


def test_a_run_slower_than_the_timeout_keeps_the_sagas_it_works_on(book, settings):
    """Claims stay owned while being worked on: a second host starting while the first
    is still busy takes only sagas the first has not begun, never one it is working on
    or is about to."""
    settings.SAGA_TIMEOUT_SECONDS = 1
    settings.SAGA_HARD_DEADLINE_SECONDS = 10**6
    settings.PAYMENT_GATEWAY = "tests.test_saga_recovery.SlowLookupGateway"
    # Three sagas whose charge outcome is unknown (the process died during it): each
    # resume asks the gateway first.
    stuck = [stuck_after(book, "DiscountQuotaReserved") for _ in range(3)]
    for booking in stuck:
        PaymentFactory(booking=booking)
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Booking.objects.update(created_at=an_hour_ago, updated_at=an_hour_ago)
    other_host = []

    def second_host_runs():
        other_host.extend(at_once([resume_stuck_sagas]))

    SlowLookupGateway.lookups = 0
    SlowLookupGateway.hang_seconds = settings.SAGA_TIMEOUT_SECONDS + 0.5
    SlowLookupGateway.while_second_is_worked_on = second_host_runs
    try:
        first_host = resume_stuck_sagas()
    finally:
        SlowLookupGateway.while_second_is_worked_on = None

    (second,) = other_host
    assert first_host.errors == second.errors == []
    # Each saga claimed once in all: the second host took only the one not yet begun.
    assert first_host.claimed + second.claimed == len(stuck)
    assert (first_host.claimed, second.claimed) == (2, 1)
    resumed = AuditLog.objects.filter(actor="system:recovery", action="saga.resumed")
    assert sorted(resumed.values_list("object_id", flat=True)) == sorted(str(b.pk) for b in stuck)
    assert_all_sound()
