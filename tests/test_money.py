"""Money: Decimal, half-up to the paisa, and bookings keep their own copy of prices."""

from decimal import Decimal

import pytest

from bookings.models import BookingItem
from bookings.money import percent_of
from pricing.models import DiscountSettings


@pytest.mark.parametrize(
    ("base", "percent", "discount"),
    [
        ("2500.00", "12.00", "300.00"),
        ("1000.01", "12.00", "120.00"),  # 120.0012 rounds down
        ("1000.05", "10.00", "100.01"),  # 100.005 rounds half-up, not to even
        ("1000.25", "10.00", "100.03"),  # 100.025 → 100.03 (banker's rounding would say .02)
        ("1234.56", "12.50", "154.32"),
        ("1500.00", "0.00", "0.00"),
        ("1500.00", "100.00", "1500.00"),
    ],
)
def test_discount_rounds_half_up_to_the_paisa(base, percent, discount):
    result = percent_of(Decimal(base), Decimal(percent))
    assert result == Decimal(discount)
    assert result.as_tuple().exponent == -2


@pytest.mark.usefixtures("commits")
def test_final_price_is_base_minus_the_rounded_discount(book):
    DiscountSettings.objects.update_or_create(pk=1, defaults={"discount_percent": Decimal("10")})
    booking = book(prices=("1000.05",))
    assert booking.discount_percent == Decimal("10.00")
    assert booking.discount_amount == Decimal("100.01")
    assert booking.final_price == Decimal("900.04")
    assert booking.payment.amount == Decimal("900.04")


@pytest.mark.usefixtures("commits")
def test_booking_items_keep_the_price_and_name_they_were_booked_at(book, service_priced):
    xray = service_priced("700.00", name="Test Chest X-Ray")
    booking = book(services=[xray])

    xray.price = Decimal("950.00")
    xray.name = "Test Chest X-Ray (digital)"
    xray.save()

    item = BookingItem.objects.get(booking=booking)
    assert (item.name, item.price) == ("Test Chest X-Ray", Decimal("700.00"))
    booking.refresh_from_db()
    assert booking.base_price == Decimal("700.00")


@pytest.mark.usefixtures("commits")
def test_a_later_change_of_percentage_does_not_rewrite_a_booking(book):
    booking = book(prices=("2000.00",))
    DiscountSettings.objects.filter(pk=1).update(discount_percent=Decimal("50"))
    booking.refresh_from_db()
    assert booking.discount_percent == Decimal("12.00")
    assert booking.final_price == Decimal("1760.00")
