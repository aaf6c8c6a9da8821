"""The cancellation policy as pure arithmetic: what comes back, and until when."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from bookings.money import percent_of, to_money


@dataclass(frozen=True)
class Tier:
    min_hours_before: int
    refund_percent: Decimal
    fee: Decimal


@dataclass(frozen=True)
class Policy:
    version: int
    tiers: tuple[Tier, ...]  # longest notice first
    reschedule_until_hours_before: int
    max_reschedules: int


@dataclass(frozen=True)
class Refund:
    amount: Decimal
    fee: Decimal
    tier: Tier | None  # None: a staff cancellation, or no tier applies
    # Until when this refund holds: the moment its tier stops applying (None when
    # nothing depends on the time: a staff cancellation, or nothing left to lose).
    holds_until: datetime | None


def refund_for(
    *, policy: Policy, paid: Decimal, visit_starts: datetime, now: datetime, by_staff: bool
) -> Refund:
    """What comes back of `paid` when cancelled at `now`.

    A staff cancellation gives everything back. A patient's follows the tier with the
    longest notice that `now` still meets; with none, nothing comes back.
    """
    if by_staff:
        return Refund(amount=to_money(paid), fee=Decimal("0.00"), tier=None, holds_until=None)
    notice = visit_starts - now
    met = [t for t in policy.tiers if notice >= timedelta(hours=t.min_hours_before)]
    if not met:
        return Refund(amount=Decimal("0.00"), fee=Decimal("0.00"), tier=None, holds_until=None)
    tier = met[0]
    share = percent_of(paid, tier.refund_percent)
    fee = min(to_money(tier.fee), share)  # a fee never takes more than the share
    return Refund(
        amount=share - fee,
        fee=fee,
        tier=tier,
        holds_until=visit_starts - timedelta(hours=tier.min_hours_before),
    )


def _tier_words(tier: Tier) -> str:
    return f"{tier.refund_percent.normalize():f}% back, fee ₹{tier.fee:.2f}"


def differences(current: Policy, proposed: Policy) -> list[str]:
    """What publishing `proposed` would change against `current`, one line each, in the
    manager's words (empty: nothing would change)."""
    found = []
    if proposed.reschedule_until_hours_before != current.reschedule_until_hours_before:
        found.append(
            f"Moves allowed until {current.reschedule_until_hours_before} h before the "
            f"visit → {proposed.reschedule_until_hours_before} h"
        )
    if proposed.max_reschedules != current.max_reschedules:
        found.append(f"Moves per booking: {current.max_reschedules} → {proposed.max_reschedules}")
    before = {t.min_hours_before: t for t in current.tiers}
    after = {t.min_hours_before: t for t in proposed.tiers}
    for hours in sorted(before.keys() | after.keys(), reverse=True):
        old, new = before.get(hours), after.get(hours)
        if old is None and new is not None:
            found.append(f"New tier, at least {hours} h before: {_tier_words(new)}")
        elif new is None and old is not None:
            found.append(f"Tier at least {hours} h before removed (was {_tier_words(old)})")
        elif (
            old is not None
            and new is not None
            and (old.refund_percent, old.fee)
            != (
                new.refund_percent,
                new.fee,
            )
        ):
            found.append(f"At least {hours} h before: {_tier_words(old)} → {_tier_words(new)}")
    return found
