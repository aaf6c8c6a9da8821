"""Real processes killed (SIGKILL) at every step boundary, then `resume_sagas`: nothing lost.

Each child (tests/support/crash_child.py) runs one booking against the test database and
dies at its crash point; the event log and the gateway's ledger are all that
survive. Then resume_sagas runs in another process, as cron would run it.
"""

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bookings.models import Booking, BookingStatus, SagaEvent
from payments.models import SimulatedGatewayCharge
from tests.support import servers
from tests.support.recovery_checks import assert_all_sound

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
PARALLEL_CHILDREN = 4

# crash point → (payment token, how the booking ends once resumed before the deadline)
CRASH_POINTS = {
    "BookingRequested": ("tok_visa", BookingStatus.CONFIRMED),
    "PricingCalculated": ("tok_visa", BookingStatus.CONFIRMED),
    "DiscountQuotaReserved": ("tok_visa", BookingStatus.CONFIRMED),
    "charge:before_gateway": ("tok_visa", BookingStatus.CONFIRMED),
    "charge:after_ledger": ("tok_visa", BookingStatus.CONFIRMED),
    "PaymentCompleted": ("tok_visa", BookingStatus.CONFIRMED),
    "BookingConfirmed": ("tok_visa", BookingStatus.CONFIRMED),
    "PaymentFailed": ("tok_chargeDeclined", BookingStatus.FAILED),
    "CompensationTriggered": ("tok_chargeDeclined", BookingStatus.FAILED),
    "DiscountQuotaReleased": ("tok_chargeDeclined", BookingStatus.FAILED),
    "PaymentReversed": ("tok_visa", BookingStatus.FAILED),  # confirmation crashed first
    "BookingFailed": ("tok_chargeDeclined", BookingStatus.FAILED),
}


def crash_children(user, service) -> dict[str, int]:
    """Run one child per crash point, a few at a time; return each one's exit code."""
    env = servers.child_env()
    codes: dict[str, int] = {}
    points = list(CRASH_POINTS)
    for start in range(0, len(points), PARALLEL_CHILDREN):
        running = {
            point: subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.support.crash_child",
                    point,
                    str(user.pk),
                    str(service.pk),
                    CRASH_POINTS[point][0],
                    point,  # the request key: finds the child's booking afterwards
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for point in points[start : start + PARALLEL_CHILDREN]
        }
        for point, child in running.items():
            _, stderr = child.communicate(timeout=120)
            codes[point] = child.returncode
            assert child.returncode == -signal.SIGKILL, f"{point}: {child.returncode} {stderr}"
    return codes


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return servers.manage(*args, env=servers.child_env(**env))


def bookings_by_crash_point() -> dict[str, Booking]:
    return {b.request_key: b for b in Booking.objects.all()}


def test_every_crash_point_leaves_a_booking_that_resume_sagas_ends_soundly(user, service_priced):
    service = service_priced("2500.00")
    crash_children(user, service)

    crashed = bookings_by_crash_point()
    assert set(crashed) == set(CRASH_POINTS)
    pending = {p for p, b in crashed.items() if b.status == BookingStatus.PENDING}
    # Only the two that died after their last step are not stuck.
    assert pending == set(CRASH_POINTS) - {"BookingConfirmed", "BookingFailed"}
    # The kill inside the charge after the gateway's insert: money taken, our row pending.
    after_ledger = crashed["charge:after_ledger"]
    assert after_ledger.payment.status == "pending"
    assert SimulatedGatewayCharge.objects.get(
        idempotency_key=str(after_ledger.correlation_id)
    ).captured

    resumed = manage("resume_sagas", SAGA_TIMEOUT_SECONDS="0", SAGA_HARD_DEADLINE_SECONDS="3600")

    assert resumed.returncode == 0, resumed.stderr
    assert f"claimed={len(pending)} resumed={len(pending)} compensated=0" in resumed.stdout
    for point, booking in bookings_by_crash_point().items():
        assert booking.status == CRASH_POINTS[point][1], point
    assert_all_sound()  # confirmed: one captured ledger row each; failed: nothing held
    checked = manage("check_saga_invariants")
    assert checked.returncode == 0, checked.stderr
    # The sagas resumed to the end of their designed trails, each event once.
    confirmed = Booking.objects.get(request_key="charge:after_ledger")
    assert list(
        SagaEvent.objects.filter(correlation_id=confirmed.correlation_id)
        .order_by("sequence")
        .values_list("event_type", flat=True)
    ) == [
        "BookingRequested",
        "PricingCalculated",
        "DiscountQuotaReserved",
        "PaymentCompleted",
        "BookingConfirmed",
        "ReceiptIssued",
    ]


def test_past_the_deadline_every_crashed_saga_is_compensated(user, service_priced):
    service = service_priced("2500.00")
    crash_children(user, service)
    pending = Booking.objects.filter(status=BookingStatus.PENDING).count()
    assert pending == len(CRASH_POINTS) - 2  # all but those that died after their last step

    resumed = manage("resume_sagas", SAGA_TIMEOUT_SECONDS="0", SAGA_HARD_DEADLINE_SECONDS="0")

    assert resumed.returncode == 0, resumed.stderr
    assert f"claimed={pending} " in resumed.stdout
    ended = bookings_by_crash_point()
    assert ended["BookingConfirmed"].status == BookingStatus.CONFIRMED  # it had ended
    others = {p: b.status for p, b in ended.items() if p != "BookingConfirmed"}
    assert set(others.values()) == {BookingStatus.FAILED}
    # The charge whose outcome was unknown was found at the gateway and refunded.
    unknown = ended["charge:after_ledger"]
    assert unknown.payment.status == "refunded"
    assert SimulatedGatewayCharge.objects.get(
        idempotency_key=str(unknown.correlation_id)
    ).refund_reference
    assert_all_sound()
    assert manage("check_saga_invariants").returncode == 0


# --- The cancellation saga -------------------------------------------------------------

# Where a child cancelling a booking dies: when each event is delivered (before anyone
# acts on it), and twice inside the refund (our Refund row recorded but the gateway not
# yet asked; the gateway refunded but its answer not recorded).
CANCEL_CRASH_POINTS = (
    "CancellationRequested",  # nothing given back yet
    "SlotReleased",  # the place given back
    "DiscountQuotaReleased",  # the discount given back too
    "refund:before_gateway",
    "refund:after_ledger",
    "PaymentRefunded",  # refunded, not yet marked cancelled
)
CANCELLED_TRAIL = [
    "CancellationRequested",
    "SlotReleased",
    "DiscountQuotaReleased",
    "PaymentRefunded",
    "BookingCancelled",
]


def confirmed_appointments(user, count: int) -> list[Booking]:
    """Confirmed bookings with a place three days on and a discount: every step of a
    cancellation has something to give back (the place, the discount, the money)."""
    from datetime import timedelta

    from bookings.services import clinic_today
    from portal.flows import start_booking
    from tests.support.factories import ADULT_BIRTHDAY
    from tests.support.scheduling import appointment_service, practitioner, slot

    service = appointment_service("2500.00")  # above ₹1000: discounted
    doctor = practitioner(service)
    made = []
    for n in range(count):
        booking = start_booking(
            user=user,
            patient_name="Crash Test",
            gender="male",
            date_of_birth=ADULT_BIRTHDAY,
            service_ids=[service.pk],
            payment_token="tok_visa",
            slot_id=slot(doctor, day=clinic_today() + timedelta(days=3), at=(9 + n, 0)).pk,
        )
        booking.refresh_from_db()
        assert booking.status == BookingStatus.CONFIRMED and booking.discount_applied
        made.append(booking)
    return made


def test_a_cancellation_killed_at_each_step_is_finished_by_resume_sagas_refunding_once(
    user, set_default_limit, default_cancellation_policy
):
    from payments.models import Refund, SimulatedGatewayRefund
    from quotas.models import DiscountQuota
    from scheduling.models import Slot, SlotBooking

    set_default_limit(20)
    bookings = dict(
        zip(
            CANCEL_CRASH_POINTS, confirmed_appointments(user, len(CANCEL_CRASH_POINTS)), strict=True
        )
    )
    env = servers.child_env()
    for start in range(0, len(CANCEL_CRASH_POINTS), PARALLEL_CHILDREN):
        running = {
            point: subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.support.crash_child",
                    "cancel",
                    point,
                    str(bookings[point].pk),
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for point in CANCEL_CRASH_POINTS[start : start + PARALLEL_CHILDREN]
        }
        for point, child in running.items():
            _, stderr = child.communicate(timeout=120)
            assert child.returncode == -signal.SIGKILL, f"{point}: {child.returncode} {stderr}"

    # Every one was stopped half-way: requested, still confirmed.
    for point, booking in bookings.items():
        booking.refresh_from_db()
        assert booking.status == BookingStatus.CONFIRMED, point
        assert booking.cancellation_requested_at is not None, point
    before_gateway = Refund.objects.get(
        correlation_id=bookings["refund:before_gateway"].correlation_id
    )
    after_ledger = Refund.objects.get(correlation_id=bookings["refund:after_ledger"].correlation_id)
    assert (before_gateway.status, after_ledger.status) == ("pending", "pending")
    assert not SimulatedGatewayRefund.objects.filter(
        idempotency_key=before_gateway.idempotency_key
    ).exists()
    assert SimulatedGatewayRefund.objects.filter(
        idempotency_key=after_ledger.idempotency_key
    ).exists()  # the money went back; our books do not say so yet

    resumed = manage("resume_sagas", SAGA_TIMEOUT_SECONDS="0")
    again = manage("resume_sagas", SAGA_TIMEOUT_SECONDS="0")

    assert resumed.returncode == 0, resumed.stderr
    assert f"cancellations_resumed={len(CANCEL_CRASH_POINTS)}" in resumed.stdout
    assert "cancellations_resumed=0 refunds_made=0" in again.stdout
    for point, booking in bookings.items():
        booking.refresh_from_db()
        assert booking.status == BookingStatus.CANCELLED, point
        refund = Refund.objects.get(correlation_id=booking.correlation_id)  # exactly one
        assert (refund.status, refund.amount) == ("refunded", booking.final_price), point
        at_gateway = SimulatedGatewayRefund.objects.filter(idempotency_key=refund.idempotency_key)
        assert [r.amount for r in at_gateway] == [booking.final_price], point
        trail = list(
            SagaEvent.objects.filter(correlation_id=booking.correlation_id)
            .order_by("sequence")
            .values_list("event_type", flat=True)
        )
        # billing's ReceiptIssued (the refund note) follows PaymentRefunded, or, when the
        # crash came between the two, is logged last by resume_sagas' billing sweep.
        told = [event for event in trail if event != "ReceiptIssued"]
        assert told[-len(CANCELLED_TRAIL) :] == CANCELLED_TRAIL, point
        assert trail.count("ReceiptIssued") == 2, point  # the receipt and the refund note
        assert not SlotBooking.objects.filter(booking=booking, released_at__isnull=True).exists()
    assert SimulatedGatewayRefund.objects.count() == len(CANCEL_CRASH_POINTS)
    assert not Slot.objects.filter(booked__gt=0).exists()
    assert DiscountQuota.objects.get().used == 0
    checked = manage("check_saga_invariants")
    assert checked.returncode == 0, checked.stderr
