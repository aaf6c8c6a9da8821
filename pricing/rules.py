"""Rule R1, as pure functions of the booking's facts and the clinic's date."""

from datetime import date
from decimal import Decimal

PRICE_THRESHOLD = Decimal("1000.00")  # strictly above this, any booking is eligible

REASON_BIRTHDAY = "birthday"
REASON_PRICE = "base_price_above_threshold"


def is_birthday(date_of_birth: date, today: date) -> bool:
    """29 February birthdays fall on 28 February in years without one."""
    if (date_of_birth.month, date_of_birth.day) == (today.month, today.day):
        return True
    leap_day = (date_of_birth.month, date_of_birth.day) == (2, 29)
    return leap_day and (today.month, today.day) == (2, 28) and not _is_leap(today.year)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def discount_eligibility(
    *, gender: str, date_of_birth: date, base_price: Decimal, today: date
) -> tuple[bool, str]:
    """(eligible, reason). A woman on her birthday, or a base price above ₹1000."""
    if gender == "female" and is_birthday(date_of_birth, today):
        return True, REASON_BIRTHDAY
    if base_price > PRICE_THRESHOLD:
        return True, REASON_PRICE
    return False, ""
