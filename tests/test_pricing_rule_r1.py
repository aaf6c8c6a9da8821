"""R1: a woman on her birthday (clinic date), or a base price strictly above ₹1000."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine

from pricing.rules import REASON_BIRTHDAY, REASON_PRICE, discount_eligibility

TODAY = date(2026, 11, 24)


@pytest.mark.parametrize(
    ("gender", "date_of_birth", "base_price", "today", "expected"),
    [
        pytest.param(
            "female",
            date(1990, 11, 24),
            "500.00",
            TODAY,
            (True, REASON_BIRTHDAY),
            id="female-birthday-today",
        ),
        pytest.param(
            "female",
            date(1990, 11, 23),
            "500.00",
            TODAY,
            (False, ""),
            id="female-birthday-yesterday",
        ),
        pytest.param(
            "female",
            date(1990, 11, 25),
            "500.00",
            TODAY,
            (False, ""),
            id="female-birthday-tomorrow",
        ),
        pytest.param(
            "male", date(1990, 11, 24), "500.00", TODAY, (False, ""), id="male-on-his-birthday"
        ),
        pytest.param(
            "other", date(1990, 11, 24), "500.00", TODAY, (False, ""), id="other-on-their-birthday"
        ),
        pytest.param(
            "female",
            date(2000, 2, 29),
            "500.00",
            date(2027, 2, 28),
            (True, REASON_BIRTHDAY),
            id="leap-day-born-on-28-feb-non-leap-year",
        ),
        pytest.param(
            "female",
            date(2000, 2, 29),
            "500.00",
            date(2027, 3, 1),
            (False, ""),
            id="leap-day-born-not-on-1-march",
        ),
        pytest.param(
            "female",
            date(2000, 2, 29),
            "500.00",
            date(2028, 2, 28),
            (False, ""),
            id="leap-day-born-not-on-28-feb-in-leap-year",
        ),
        pytest.param(
            "female",
            date(2000, 2, 29),
            "500.00",
            date(2028, 2, 29),
            (True, REASON_BIRTHDAY),
            id="leap-day-born-on-29-feb-leap-year",
        ),
        pytest.param(
            "male",
            date(1990, 1, 1),
            "1000.00",
            TODAY,
            (False, ""),
            id="base-exactly-1000-not-eligible",
        ),
        pytest.param(
            "male",
            date(1990, 1, 1),
            "1000.01",
            TODAY,
            (True, REASON_PRICE),
            id="base-1000.01-eligible",
        ),
        pytest.param(
            "female",
            date(1990, 11, 24),
            "2500.00",
            TODAY,
            (True, REASON_BIRTHDAY),
            id="both-reasons-birthday-named-first",
        ),
    ],
)
def test_discount_eligibility_table(gender, date_of_birth, base_price, today, expected):
    assert (
        discount_eligibility(
            gender=gender, date_of_birth=date_of_birth, base_price=Decimal(base_price), today=today
        )
        == expected
    )


@pytest.mark.usefixtures("commits")
def test_birthday_uses_the_clinic_date_not_utc(book):
    # 20:00 UTC on 23 Nov is 01:30 IST on 24 Nov: it is her birthday in the clinic.
    with time_machine.travel(datetime(2026, 11, 23, 20, 0, tzinfo=UTC), tick=False):
        booking = book(gender="female", date_of_birth=date(1990, 11, 24))
    assert booking.clinic_day == date(2026, 11, 24)
    assert booking.discount_eligible is True
    assert booking.eligibility_reason == REASON_BIRTHDAY
    assert booking.discount_applied is True


@pytest.mark.usefixtures("commits")
def test_utc_birthday_that_is_already_over_in_ist_gets_no_discount(book):
    # 19:00 UTC on 24 Nov is 00:30 IST on 25 Nov: her birthday (24 Nov) has passed.
    with time_machine.travel(datetime(2026, 11, 24, 19, 0, tzinfo=UTC), tick=False):
        booking = book(gender="female", date_of_birth=date(1990, 11, 24))
    assert booking.clinic_day == date(2026, 11, 25)
    assert booking.discount_eligible is False
    assert booking.discount_applied is False
    assert booking.final_price == booking.base_price


@pytest.mark.usefixtures("commits")
def test_base_price_is_the_sum_of_chosen_services(book):
    booking = book(prices=("600.00", "400.01"))
    assert booking.base_price == Decimal("1000.01")
    assert booking.discount_eligible is True
    assert booking.eligibility_reason == REASON_PRICE
