"""R2: at most N discounts per clinic day, reserved by a conditional UPDATE."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from bookings.models import Booking
from quotas.models import DiscountQuota, QuotaReservation
from quotas.services import ensure_day, release_discount, set_daily_limit
from tests.support.racing import at_once

pytestmark = pytest.mark.usefixtures("commits")


def test_when_the_quota_runs_out_later_bookings_pay_full_price(book, set_default_limit):
    set_default_limit(2)
    first, second, third = (book(prices=("1500.00",)) for _ in range(3))

    assert [b.discount_applied for b in (first, second, third)] == [True, True, False]
    assert third.status == "confirmed"
    assert third.discount_eligible is True
    assert third.quota_exhausted is True
    assert third.discount_amount == Decimal("0.00")
    assert third.final_price == Decimal("1500.00")
    assert third.payment.amount == Decimal("1500.00")
    quota = DiscountQuota.objects.get(day=first.clinic_day)
    assert (quota.used, quota.limit) == (2, 2)


def test_a_booking_that_is_not_eligible_takes_no_quota(book, set_default_limit):
    set_default_limit(1)
    booking = book(prices=("500.00",))
    assert booking.discount_applied is False
    assert booking.quota_exhausted is False
    assert not QuotaReservation.objects.exists()


def test_a_new_ist_day_has_a_fresh_quota(book, set_default_limit):
    set_default_limit(1)
    # 18:29 UTC is 23:59 IST on 24 Nov; 18:31 UTC is 00:01 IST on 25 Nov.
    with time_machine.travel(datetime(2026, 11, 24, 18, 29, tzinfo=UTC), tick=False):
        late = book(prices=("1500.00",))
        late_and_out = book(prices=("1500.00",))
    with time_machine.travel(datetime(2026, 11, 24, 18, 31, tzinfo=UTC), tick=False):
        next_day = book(prices=("1500.00",))

    assert late.clinic_day == date(2026, 11, 24)
    assert next_day.clinic_day == date(2026, 11, 25)
    assert (late.discount_applied, late_and_out.discount_applied) == (True, False)
    assert next_day.discount_applied is True
    assert DiscountQuota.objects.get(day=date(2026, 11, 24)).used == 1
    assert DiscountQuota.objects.get(day=date(2026, 11, 25)).used == 1


def test_release_is_exact_and_idempotent(book, set_default_limit):
    set_default_limit(5)
    kept = book(prices=("1500.00",))
    released = book(prices=("1500.00",))
    quota = DiscountQuota.objects.get(day=kept.clinic_day)
    assert quota.used == 2
    # As if its saga were still running when compensation came (and marked it so).
    Booking.objects.filter(pk=released.pk).update(
        status="pending", confirmation_code=None, compensating=True
    )

    release_discount(correlation_id=released.correlation_id)
    release_discount(correlation_id=released.correlation_id)

    quota.refresh_from_db()
    assert quota.used == 1
    assert QuotaReservation.objects.get(correlation_id=released.correlation_id).released_at
    assert QuotaReservation.objects.get(correlation_id=kept.correlation_id).released_at is None


def test_releasing_a_saga_without_a_reservation_changes_nothing(book, set_default_limit):
    set_default_limit(5)
    held = book(prices=("1500.00",))
    not_eligible = book(prices=("100.00",))
    release_discount(correlation_id=not_eligible.correlation_id)
    assert DiscountQuota.objects.get(day=held.clinic_day).used == 1


@pytest.mark.django_db(transaction=True)  # threads, or a dropped connection
def test_the_day_row_is_created_race_free(set_default_limit):
    set_default_limit(7)
    day = date(2030, 1, 1)
    at_once([lambda: ensure_day(day)] * 20)

    assert DiscountQuota.objects.filter(day=day).count() == 1
    assert DiscountQuota.objects.get(day=day).limit == 7


def test_the_limit_cannot_go_below_what_is_used(book, set_default_limit):
    set_default_limit(5)
    for _ in range(3):
        book(prices=("1500.00",))
    day = DiscountQuota.objects.get().day

    with pytest.raises(ValidationError, match="3 discounts are already granted"):
        set_daily_limit(day=day, limit=2, actor="reception")

    assert set_daily_limit(day=day, limit=3, actor="reception").limit == 3


def test_reading_a_day_with_no_discount_yet_writes_nothing(set_default_limit):
    from quotas.services import quota_for_day

    set_default_limit(9)
    quota = quota_for_day(date(2031, 5, 5))
    assert (quota.limit, quota.used, quota.remaining) == (9, 0, 9)
    assert not DiscountQuota.objects.filter(day=date(2031, 5, 5)).exists()
