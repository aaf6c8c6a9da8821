"""A schedule or leave changed after the days were generated: the coming slots follow.
Hours cut close the free slots they no longer cover (booked ones stay and are listed);
a new slot length never makes overlapping slots; shortened leave opens its time again."""

from datetime import date, time, timedelta

import pytest

from bookings.services import clinic_today
from scheduling.models import ExceptionKind, ScheduleException, Slot, WeeklySchedule
from scheduling.selectors import bookable_slots
from scheduling.services import ensure_slots, schedules_changed
from tests.support.admin_helpers import staff_member
from tests.support.factories import UserFactory
from tests.support.scheduling import clinic_time, practitioner

pytestmark = pytest.mark.django_db


def next_weekday(weekday: int) -> date:
    day = clinic_today() + timedelta(days=1)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return day


@pytest.fixture
def day():
    return next_weekday(2)


@pytest.fixture
def doctor():
    return practitioner()


@pytest.fixture
def hours(doctor, day):
    """09:00–10:00, 30-minute slots, two patients each; the day generated."""
    schedule = WeeklySchedule.objects.create(
        practitioner=doctor,
        weekday=day.weekday(),
        start=time(9),
        end=time(10),
        slot_minutes=30,
        capacity=2,
        valid_from=day - timedelta(days=7),
    )
    ensure_slots(day)
    return schedule


def open_slots(doctor):
    return list(
        Slot.objects.filter(practitioner=doctor, capacity__gt=0)
        .order_by("start")
        .values_list("start", "end")
    )


def test_cut_hours_close_the_free_slot_they_no_longer_cover(doctor, day, hours):
    hours.end = time(9, 30)
    hours.save()

    assert schedules_changed() == []

    assert open_slots(doctor) == [(clinic_time(day, 9), clinic_time(day, 9, 30))]
    assert [s.start for s in bookable_slots(day=day, practitioner_id=doctor.pk)] == [
        clinic_time(day, 9)
    ]
    closed = Slot.objects.get(practitioner=doctor, start=clinic_time(day, 9, 30))
    assert (closed.capacity, closed.booked) == (0, 0)


def test_cut_hours_keep_a_booked_slot_and_list_it(doctor, day, hours):
    held = Slot.objects.get(practitioner=doctor, start=clinic_time(day, 9, 30))
    Slot.objects.filter(pk=held.pk).update(booked=1)
    hours.end = time(9, 30)
    hours.save()

    stranded = schedules_changed()

    assert [s.pk for s in stranded] == [held.pk]
    held.refresh_from_db()
    assert (held.capacity, held.booked) == (2, 1)  # kept, its patient keeps the time


def test_a_shorter_slot_length_makes_no_overlapping_slots(doctor, day, hours):
    hours.slot_minutes = 20
    hours.save()

    schedules_changed()

    assert open_slots(doctor) == [
        (clinic_time(day, 9, m), clinic_time(day, 9, m) + timedelta(minutes=20))
        for m in (0, 20, 40)
    ]


def test_a_new_length_skips_starts_overlapping_a_booked_slot(doctor, day, hours):
    held = Slot.objects.get(practitioner=doctor, start=clinic_time(day, 9, 30))
    Slot.objects.filter(pk=held.pk).update(booked=1)
    hours.slot_minutes = 20
    hours.save()

    assert [s.pk for s in schedules_changed()] == [held.pk]

    slots = open_slots(doctor)
    assert slots == [
        (clinic_time(day, 9), clinic_time(day, 9, 20)),
        (clinic_time(day, 9, 30), clinic_time(day, 10)),  # the booked one, as it was
    ]
    for (_, end), (start, _) in zip(slots, slots[1:], strict=False):
        assert end <= start


def test_added_hours_add_slots_to_generated_days(doctor, day, hours):
    hours.end = time(11)
    hours.save()
    schedules_changed()
    assert len(open_slots(doctor)) == 4


def test_shortened_leave_opens_the_time_it_no_longer_covers(client, doctor, day, hours):
    client.force_login(staff_member("Clinic manager"))

    def leave_form(end: str) -> dict:
        return {
            "practitioner": doctor.pk,
            "kind": "leave",
            "start_0": day.isoformat(),
            "start_1": "09:00",
            "end_0": day.isoformat(),
            "end_1": end,
            "note": "",
        }

    added = client.post("/admin/scheduling/scheduleexception/add/", leave_form("10:00"))
    assert added.status_code == 302
    assert open_slots(doctor) == []
    leave = ScheduleException.objects.get()

    url = f"/admin/scheduling/scheduleexception/{leave.pk}/change/"
    assert client.post(url, leave_form("09:30")).status_code == 302
    assert open_slots(doctor) == [(clinic_time(day, 9, 30), clinic_time(day, 10))]

    client.force_login(UserFactory(is_staff=True, is_superuser=True))  # may delete leave
    deleted = client.post(
        f"/admin/scheduling/scheduleexception/{leave.pk}/delete/", {"post": "yes"}
    )
    assert deleted.status_code == 302
    assert len(open_slots(doctor)) == 2


def test_a_holiday_stays_closed_when_hours_change(doctor, day, hours):
    first = clinic_time(day, 0)
    ScheduleException.objects.create(
        kind=ExceptionKind.HOLIDAY, start=first, end=first + timedelta(days=1)
    )
    Slot.objects.filter(practitioner=doctor).update(capacity=0)
    hours.end = time(11)
    hours.save()
    schedules_changed()
    assert open_slots(doctor) == []


def test_the_admin_lists_booked_slots_left_outside_new_hours(client, doctor, day, hours):
    held = Slot.objects.get(practitioner=doctor, start=clinic_time(day, 9, 30))
    Slot.objects.filter(pk=held.pk).update(booked=1)
    client.force_login(staff_member("Clinic manager"))
    url = f"/admin/scheduling/weeklyschedule/{hours.pk}/change/"
    answer = client.post(
        url,
        {
            "practitioner": doctor.pk,
            "weekday": hours.weekday,
            "start": "09:00",
            "end": "09:30",
            "slot_minutes": 30,
            "capacity": 2,
            "valid_from": hours.valid_from.isoformat(),
            "valid_to": "",
        },
        follow=True,
    )
    assert answer.status_code == 200
    assert "were kept; move or cancel those appointments" in answer.content.decode()
    assert f"{doctor.name} {day:%d %b} 09:30 (1 booked)" in answer.content.decode()
