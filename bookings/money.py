"""Money is Decimal with two places, in INR. Shared by every participant."""

from decimal import ROUND_HALF_UP, Decimal

PAISA = Decimal("0.01")


def to_money(value: Decimal | str | int) -> Decimal:
    return Decimal(value).quantize(PAISA, rounding=ROUND_HALF_UP)


def percent_of(amount: Decimal, percent: Decimal) -> Decimal:
    """amount × percent / 100, rounded half-up to the paisa."""
    return (amount * percent / Decimal(100)).quantize(PAISA, rounding=ROUND_HALF_UP)
