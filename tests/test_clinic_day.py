"""The day of a booking is the clinic date (Asia/Kolkata) of its request: R1's "today",
R2's quota day and the walk-in's visit date, whatever UTC says and whenever the saga's
later steps happen to run."""

from datetime import UTC, date, datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from bookings import events
from quotas.models import DiscountQuota
from tests.support.saga_hooks import delivery_stopped

pytestmark = pytest.mark.usefixtures("commits")


def test_a_request_at_2330_utc_is_booked_on_the_next_clinic_day(book):
    # 23:30 UTC on 24 Nov is 05:00 IST on 25 Nov, her birthday in the clinic.
    with time_machine.travel(datetime(2026, 11, 24, 23, 30, tzinfo=UTC), tick=False):
        booking = book(gender="female", date_of_birth=date(1990, 11, 25), prices=("500.00",))

    assert (booking.clinic_day, booking.visit_date) == (date(2026, 11, 25), date(2026, 11, 25))
    assert (booking.status, booking.discount_applied) == ("confirmed", True)
    assert list(DiscountQuota.objects.values_list("day", "used")) == [(date(2026, 11, 25), 1)]


def test_steps_that_run_after_midnight_keep_the_day_of_the_request(book, settings):
    settings.SAGA_TIMEOUT_SECONDS = 0
    settings.SAGA_HARD_DEADLINE_SECONDS = 3600
    # Requested at 23:55 IST on 24 Nov, her birthday; the process died right after.
    with (
        time_machine.travel(datetime(2026, 11, 24, 18, 25, tzinfo=UTC), tick=False),
        delivery_stopped(events.BookingRequested),
    ):
        booking = book(gender="female", date_of_birth=date(1990, 11, 24), prices=("500.00",))
    # Recovery prices and reserves it ten minutes later: 00:05 IST on 25 Nov.
    with time_machine.travel(datetime(2026, 11, 24, 18, 35, tzinfo=UTC), tick=False):
        call_command("resume_sagas", stdout=StringIO())

    booking.refresh_from_db()
    assert booking.clinic_day == date(2026, 11, 24)
    assert (booking.status, booking.discount_eligible, booking.discount_applied) == (
        "confirmed",
        True,
        True,
    )
    assert list(DiscountQuota.objects.values_list("day", "used")) == [(date(2026, 11, 24), 1)]
