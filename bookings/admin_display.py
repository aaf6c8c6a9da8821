"""How the admin shows money and times: ₹ (bookings.money.format_inr), clock time in IST."""

from datetime import datetime

from django.utils import timezone

from bookings.money import NOT_SET as NOT_YET
from bookings.money import format_inr as inr  # noqa: F401 - the admin's name for it


def clinic_time(moment: datetime | None) -> str:
    """A moment as the clinic's clock shows it, with the zone's abbreviation (IST)."""
    if moment is None:
        return NOT_YET
    local = timezone.localtime(moment)
    return local.strftime("%d %b %Y, %H:%M:%S %Z")
