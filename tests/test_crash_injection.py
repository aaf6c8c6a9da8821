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
