"""How the admin shows money and times: ₹ with two decimals, clock time in the clinic's zone."""

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

NOT_YET = "—"


def inr(amount: Decimal | None) -> str:
    """₹ with two decimals and Indian digit grouping: ₹1,25,000.00 (— when not set yet)."""
    if amount is None:
        return NOT_YET
    value = Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if value < 0 else ""
    rupees, paise = f"{abs(value):.2f}".split(".")
    # Indian grouping: the last three digits, then groups of two (lakh, crore).
    head, tail = rupees[:-3], rupees[-3:]
    groups = []
    while len(head) > 2:
        groups.insert(0, head[-2:])
        head = head[:-2]
    if head:
        groups.insert(0, head)
    grouped = ",".join([*groups, tail])
    return f"{sign}₹{grouped}.{paise}"


def clinic_time(moment: datetime | None) -> str:
    """A moment as the clinic's clock shows it, with the zone's abbreviation (IST)."""
    if moment is None:
        return NOT_YET
    local = timezone.localtime(moment)
    return local.strftime("%d %b %Y, %H:%M:%S %Z")
