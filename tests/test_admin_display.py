"""Money as ₹ with two decimals (Indian grouping) and times in IST, as the admin shows them."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bookings.admin_display import clinic_time, inr


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (Decimal("0"), "₹0.00"),
        (Decimal("5.5"), "₹5.50"),
        (Decimal("999.99"), "₹999.99"),
        (Decimal("1000"), "₹1,000.00"),
        (Decimal("125000.5"), "₹1,25,000.50"),
        (Decimal("12345678.9"), "₹1,23,45,678.90"),
        (Decimal("0.005"), "₹0.01"),  # half-up to the paisa
        (Decimal("-300"), "-₹300.00"),
        (None, "—"),
    ],
)
def test_money_is_rupees_with_two_decimals(amount, shown):
    assert inr(amount) == shown


def test_times_are_shown_in_ist():
    # 20:00 UTC is 01:30 the next day in Asia/Kolkata.
    assert clinic_time(datetime(2026, 11, 24, 20, 0, tzinfo=UTC)) == "25 Nov 2026, 01:30:00 IST"
