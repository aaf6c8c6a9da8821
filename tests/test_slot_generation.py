"""Slots come from the weekly schedules when a day is first needed, never twice, never
over leave; leave covering booked slots is refused with the bookings it would strand."""

from datetime import date, time, timedelta

import pytest
from django.core.exceptions import ValidationError

from bookings.services import clinic_today
from scheduling.models import (
    ExceptionKind,
    ScheduleException,
    Slot,
    SlotDay,
    WeeklySchedule,
)
from scheduling.services import SlotsStillBooked, close_slots, ensure_slots
from tests.support.racing import at_once
from tests.support.scheduling import appointment_service, clinic_time, practitioner, slot

pytestmark = pytest.mark.django_db


def next_weekday(weekday: int) -> date:
    day = clinic_today() + timedelta(days=1)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return day


def schedule(doctor, day: date, *, start=time(9), end=time(10), minutes=15, capacity=2):
    return WeeklySchedule.objects.create(
        practitioner=doctor,
        weekday=day.weekday(),
        start=start,
        end=end,
        slot_minutes=minutes,
        capacity=capacity,
        valid_from=day - timedelta(days=7),
    )


def test_a_day_gets_its_slots_from_the_schedule_in_clinic_time():
    doctor = practitioner()
    day = next_weekday(2)
    schedule(doctor, day)

    ensure_slots(day)

    slots = list(Slot.objects.filter(practitioner=doctor).order_by("start"))
    assert [s.start for s in slots] == [clinic_time(day, 9, m) for m in (0, 15, 30, 45)]
    assert {(s.capacity, s.booked) for s in slots} == {(2, 0)}
    assert slots[0].start.isoformat() == f"{day.isoformat()}T03:30:00+00:00"  # 09:00 IST


def test_generation_is_skipped_once_done_and_respects_validity_and_leave():
    doctor, other = practitioner(), practitioner()
    day = next_weekday(3)
    schedule(doctor, day)
    expired = schedule(other, day)
    expired.valid_to = day - timedelta(days=1)
    expired.save()
    ScheduleException.objects.create(
        practitioner=doctor,
        kind=ExceptionKind.LEAVE,
        start=clinic_time(day, 9, 30),
        end=clinic_time(day, 10),
    )
    ensure_slots(day)
    assert Slot.objects.filter(practitioner=doctor).count() == 2  # 09:00 and 09:15
    assert not Slot.objects.filter(practitioner=other).exists()

    Slot.objects.filter(practitioner=doctor).delete()
    ensure_slots(day)  # the day is marked done: nothing is generated again
    assert not Slot.objects.filter(practitioner=doctor).exists()


def test_a_clinic_holiday_closes_every_practitioner():
    day = next_weekday(4)
    doctors = [practitioner(), practitioner()]
    for doctor in doctors:
        schedule(doctor, day)
    first = clinic_time(day, 0)
    ScheduleException.objects.create(
        kind=ExceptionKind.HOLIDAY, start=first, end=first + timedelta(days=1)
    )
    ensure_slots(day)
    assert not Slot.objects.filter(practitioner__in=doctors).exists()


@pytest.mark.django_db(transaction=True)
def test_racing_generators_write_each_slot_once():
    doctor = practitioner()
    day = next_weekday(1)
    schedule(doctor, day, end=time(13))

    at_once([lambda: ensure_slots(day)] * 8)

    assert Slot.objects.filter(practitioner=doctor).count() == 16
    assert SlotDay.objects.filter(day=day).count() == 1


def test_leave_over_free_slots_closes_them():
    service = appointment_service()
    doctor = practitioner(service)
    free = slot(doctor, at=(9, 0), capacity=2)
    later = slot(doctor, at=(12, 0), capacity=2)

    closed = close_slots(practitioner_id=doctor.pk, start=free.start, end=free.end)

    assert closed == 1
    free.refresh_from_db()
    later.refresh_from_db()
    assert (free.capacity, later.capacity) == (0, 2)


@pytest.mark.usefixtures("commits")
def test_leave_over_a_booked_slot_is_refused_with_the_bookings(book):
    service = appointment_service()
    doctor = practitioner(service)
    held = slot(doctor, at=(9, 0), capacity=2)
    free = slot(doctor, at=(9, 15), capacity=2)
    booking = book(services=[service], slot=held)
    assert booking.status == "confirmed"

    with pytest.raises(SlotsStillBooked) as refused:
        close_slots(practitioner_id=doctor.pk, start=held.start, end=free.end)

    assert isinstance(refused.value, ValidationError)
    assert [sb.booking_id for sb in refused.value.bookings] == [booking.pk]
    assert str(booking.pk) in refused.value.messages[0]
    free.refresh_from_db()
    assert free.capacity == 2  # nothing was closed
