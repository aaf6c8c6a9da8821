"""The refund policy at its edges: tiers, walk-ins, staff, a free booking, versions."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from pricing.cancellation import Policy, Tier, refund_for

IST = ZoneInfo("Asia/Kolkata")
VISIT = datetime(2026, 12, 10, 9, 0, tzinfo=IST)
POLICY = Policy(
    version=1,
    tiers=(
        Tier(24, Decimal("100.00"), Decimal("0.00")),
        Tier(6, Decimal("100.00"), Decimal("100.00")),
        Tier(2, Decimal("50.00"), Decimal("0.00")),
    ),
    reschedule_until_hours_before=4,
    max_reschedules=2,
)


def refund(paid: str, before: timedelta, *, by_staff: bool = False):
    return refund_for(
        policy=POLICY, paid=Decimal(paid), visit_starts=VISIT, now=VISIT - before, by_staff=by_staff
    )


@pytest.mark.parametrize(
    ("before", "amount", "fee"),
    [
        (timedelta(days=3), "2200.00", "0.00"),
        (timedelta(hours=24), "2200.00", "0.00"),  # exactly on the edge: the tier holds
        (timedelta(hours=24) - timedelta(minutes=1), "2100.00", "100.00"),
        (timedelta(hours=6), "2100.00", "100.00"),
        (timedelta(hours=6) - timedelta(minutes=1), "1100.00", "0.00"),
        (timedelta(hours=2), "1100.00", "0.00"),
        (timedelta(hours=2) - timedelta(minutes=1), "0.00", "0.00"),  # the last minutes
        (timedelta(minutes=1), "0.00", "0.00"),
    ],
)
def test_each_tier_holds_up_to_its_edge_and_not_a_minute_past(before, amount, fee):
    result = refund("2200.00", before)
    assert (result.amount, result.fee) == (Decimal(amount), Decimal(fee))


def test_the_refund_says_until_when_it_holds():
    assert refund("2200.00", timedelta(hours=10)).holds_until == VISIT - timedelta(hours=6)
    assert refund("2200.00", timedelta(hours=1)).holds_until is None


def test_a_fee_never_takes_more_than_the_share():
    result = refund("60.00", timedelta(hours=10))  # 100% of ₹60, fee ₹100
    assert (result.amount, result.fee) == (Decimal("0.00"), Decimal("60.00"))


def test_a_free_booking_has_nothing_to_refund():
    assert refund("0.00", timedelta(days=2)).amount == Decimal("0.00")


def test_staff_cancellations_refund_everything_even_at_the_last_minute():
    result = refund("2200.00", timedelta(minutes=5), by_staff=True)
    assert (result.amount, result.fee) == (Decimal("2200.00"), Decimal("0.00"))


def test_half_refunds_round_half_up_to_the_paisa():
    assert refund("100.01", timedelta(hours=3)).amount == Decimal("50.01")
