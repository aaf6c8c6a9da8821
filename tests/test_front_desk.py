"""The front desk: a day's slots per practitioner with the patients booked; check in and
no-show change a confirmed booking once, each with an AuditLog row. Staff schedules and
leave in the admin: the Clinic manager edits, Reception views, leave over bookings is refused."""

from datetime import date, time, timedelta

import pytest
import time_machine

from bookings.models import AuditLog, BookingStatus
from bookings.services import clinic_today
from scheduling.models import OpeningHours, ScheduleException, Slot, WeeklySchedule
from tests.support.admin_helpers import staff_member
from tests.support.factories import SlotFactory, UserFactory
from tests.support.scheduling import appointment_service, clinic_time, practitioner, slot

# Transactional still: after the rebase two new tests failed under `commits` near IST
# midnight (one fails on main too at that hour); to be checked before converting.
pytestmark = pytest.mark.django_db(transaction=True)
DESK = "/admin/front-desk/"


@pytest.fixture
def booked_today(book):
    """A confirmed booking at 18:00 IST today, the test run at noon IST today (so it runs
    whatever the hour the suite runs at: later, the slot would be past)."""
    with time_machine.travel(clinic_time(clinic_today(), 12), tick=True):
        consult = appointment_service()
        doctor = practitioner(consult, name="Dr. Desk Rao")
        late = clinic_time(clinic_today(), 18)  # still to come at noon
        the_slot = SlotFactory(practitioner=doctor, start=late, capacity=2)
        booking = book(services=[consult], slot=the_slot)
        assert booking.status == BookingStatus.CONFIRMED
        yield booking


def test_reception_sees_the_day_and_checks_a_patient_in(client, booked_today):
    client.force_login(staff_member("Reception"))
    page = client.get(DESK).content.decode()
    assert "Dr. Desk Rao" in page and "18:00" in page and booked_today.patient_name in page
    assert 'value="check_in"' in page

    answer = client.post(
        DESK,
        {"action": "check_in", "booking": str(booked_today.pk), "day": clinic_today().isoformat()},
    )
    assert answer.status_code == 302
    booked_today.refresh_from_db()
    assert booked_today.status == BookingStatus.COMPLETED
    audit = AuditLog.objects.get(action="booking.checked_in")
    assert audit.object_id == str(booked_today.pk)
    assert (audit.before, audit.after) == ({"status": "confirmed"}, {"status": "completed"})

    again = client.post(DESK, {"action": "no_show", "booking": str(booked_today.pk)})
    assert again.status_code == 302
    booked_today.refresh_from_db()
    assert booked_today.status == BookingStatus.COMPLETED  # marked once only
    assert AuditLog.objects.filter(action="booking.no_show").count() == 0


def test_no_show_is_confirmed_only_once_the_visit_began_and_undone_the_same_day(
    client, booked_today
):
    client.force_login(staff_member("Reception"))
    mark = {"action": "no_show", "booking": str(booked_today.pk)}
    # Noon: the 18:00 visit has not begun; the page offers no "No-show" for it.
    assert 'value="no_show"' not in client.get(DESK).content.decode()
    asked = client.post(DESK, mark)
    assert asked.status_code == 200 and 'name="confirm" value="yes"' in asked.content.decode()
    assert "Mark Asha Verma as a no-show?" in asked.content.decode()
    early = client.post(DESK, {**mark, "confirm": "yes"})
    assert early.status_code == 302
    booked_today.refresh_from_db()
    assert booked_today.status == BookingStatus.CONFIRMED  # asked and refused: not yet
    assert not AuditLog.objects.filter(action="booking.no_show").exists()

    with time_machine.travel(clinic_time(clinic_today(), 18, 20), tick=False):
        assert 'value="no_show"' in client.get(DESK).content.decode()
        client.post(DESK, {**mark, "confirm": "yes"})
        booked_today.refresh_from_db()
        assert booked_today.status == BookingStatus.NO_SHOW
        assert AuditLog.objects.filter(action="booking.no_show", actor__isnull=False).count() == 1
        assert 'value="undo_no_show"' in client.get(DESK).content.decode()
        client.post(DESK, {"action": "undo_no_show", "booking": str(booked_today.pk)})
        booked_today.refresh_from_db()
        assert booked_today.status == BookingStatus.CONFIRMED
        undone = AuditLog.objects.get(action="booking.no_show_undone")
        assert (undone.before, undone.after) == ({"status": "no_show"}, {"status": "confirmed"})
        client.post(DESK, {**mark, "confirm": "yes"})  # marked again
    # The next day the mark stands: it is the record of that day.
    with time_machine.travel(clinic_time(clinic_today() + timedelta(days=1), 9), tick=False):
        client.post(DESK, {"action": "undo_no_show", "booking": str(booked_today.pk)})
    booked_today.refresh_from_db()
    assert booked_today.status == BookingStatus.NO_SHOW
    assert AuditLog.objects.filter(action="booking.no_show_undone").count() == 1


@pytest.mark.clinic_hours
def test_the_days_walk_ins_are_listed_searchable_with_the_same_actions(client, book):
    """A walk-in may come any time the clinic is open: a no-show once it has closed."""
    friday = date(2026, 12, 4)
    for weekday in range(7):
        OpeningHours.objects.update_or_create(
            weekday=weekday, defaults={"opens": time(8), "closes": time(17), "closed": False}
        )
    with time_machine.travel(clinic_time(friday, 10), tick=False):
        ecg = book(prices=("300.00",))
        other = book(prices=("450.00",))
        other.__class__.objects.filter(pk=other.pk).update(patient_name="Ravi Kumar")
        client.force_login(staff_member("Reception"))
        page = client.get(DESK).content.decode()
        walk_ins = page.split('id="walk-ins"')[1].split("</table>")[0]
        assert "Asha Verma" in walk_ins and ecg.confirmation_code in walk_ins
        assert "Ravi Kumar" in walk_ins
        assert 'value="check_in"' in walk_ins and 'value="no_show"' not in walk_ins
        found = client.get(DESK, {"q": "ravi"}).content.decode()
        listed = found.split('id="walk-ins"')[1].split("</table>")[0]
        assert "Ravi Kumar" in listed and "Asha Verma" not in listed
        early = client.post(DESK, {"action": "no_show", "booking": str(ecg.pk), "confirm": "yes"})
        assert early.status_code == 302
        ecg.refresh_from_db()
        assert ecg.status == BookingStatus.CONFIRMED
        client.post(DESK, {"action": "check_in", "booking": str(other.pk)})
        other.refresh_from_db()
        assert other.status == BookingStatus.COMPLETED
    with time_machine.travel(clinic_time(friday, 17, 5), tick=False):
        page = client.get(DESK).content.decode()
        assert 'value="no_show"' in page.split('id="walk-ins"')[1].split("</table>")[0]
        client.post(DESK, {"action": "no_show", "booking": str(ecg.pk), "confirm": "yes"})
        ecg.refresh_from_db()
        assert ecg.status == BookingStatus.NO_SHOW
        assert AuditLog.objects.filter(action="booking.no_show").count() == 1


def test_a_past_slot_is_never_shown_free(client, booked_today):
    """At noon the morning's empty slots are past, the afternoon's free."""
    doctor = booked_today.slot_bookings.get().slot.practitioner
    for hour in (9, 15):
        start = clinic_time(clinic_today(), hour)
        Slot.objects.create(
            practitioner=doctor, start=start, end=start + timedelta(minutes=15), capacity=1
        )
    client.force_login(staff_member("Reception"))
    page = client.get(DESK).content.decode()
    rows = [r for r in page.split("<tr>") if "<td>09:00</td>" in r or "<td>15:00</td>" in r]
    assert len(rows) == 2
    assert "past" in rows[0] and "free" not in rows[0]
    assert "free" in rows[1]


def test_a_future_visit_cannot_be_checked_in(client, book):
    consult = appointment_service()
    booking = book(services=[consult], slot=slot(practitioner(consult)))
    client.force_login(staff_member("Reception"))
    client.post(DESK, {"action": "check_in", "booking": str(booking.pk)})
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED


def test_a_future_visit_cannot_be_marked_a_no_show(client, book):
    """A no-show is final: only for a visit whose day has come, never one next week."""
    consult = appointment_service()
    next_week = clinic_today() + timedelta(days=7)
    booking = book(services=[consult], slot=slot(practitioner(consult), day=next_week))
    client.force_login(staff_member("Reception"))

    answer = client.post(
        DESK, {"action": "no_show", "booking": str(booking.pk), "confirm": "yes"}, follow=True
    )

    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert not AuditLog.objects.filter(action="booking.no_show").exists()
    assert "its visit has not begun" in answer.content.decode()


def test_patients_and_strangers_are_kept_out(client):
    client.force_login(UserFactory())
    assert client.get(DESK).status_code == 302  # to the admin login
    client.force_login(UserFactory(is_staff=True))
    assert client.get(DESK).status_code == 403
    client.force_login(staff_member("Reception"))
    assert client.post(DESK, {"action": "explode", "booking": "x"}).status_code == 403


def test_manager_edits_schedules_reception_views_them_and_records_leave(client):
    doctor = practitioner()
    url = f"/admin/scheduling/practitioner/{doctor.pk}/change/"
    client.force_login(staff_member("Reception"))
    assert client.get(url).status_code == 200
    assert client.post(url, {"name": "Renamed"}).status_code == 403
    assert client.get("/admin/scheduling/weeklyschedule/add/").status_code == 403
    # A practitioner's leave is the desk's to record (issue 25; tests/test_practitioner_day.py).
    assert client.get("/admin/scheduling/scheduleexception/add/").status_code == 200
    client.force_login(staff_member("Clinic manager"))
    assert client.get("/admin/scheduling/scheduleexception/add/").status_code == 200


def test_leave_over_booked_slots_is_refused_in_the_admin_with_the_bookings(client, book):
    consult = appointment_service()
    doctor = practitioner(consult)
    day = clinic_today() + timedelta(days=1)
    held = slot(doctor, day=day, at=(9, 0))
    free = slot(doctor, day=day, at=(11, 0))
    booking = book(services=[consult], slot=held)
    client.force_login(staff_member("Clinic manager"))

    def add_leave(start, end):
        return client.post(
            "/admin/scheduling/scheduleexception/add/",
            {
                "practitioner": doctor.pk,
                "kind": "leave",
                "start_0": day.isoformat(),
                "start_1": start,
                "end_0": day.isoformat(),
                "end_1": end,
                "note": "",
            },
        )

    refused = add_leave("08:00", "12:00")
    assert refused.status_code == 200
    assert str(booking.pk) in refused.content.decode()
    assert not ScheduleException.objects.exists()
    free.refresh_from_db()
    assert free.capacity == 1  # nothing closed

    accepted = add_leave("10:00", "12:00")
    assert accepted.status_code == 302
    free.refresh_from_db()
    assert free.capacity == 0
    assert AuditLog.objects.filter(action="scheduleexception.added").count() == 1


def test_reception_cannot_change_a_practitioner_or_add_hours_by_post(client):
    """Reception views practitioners and schedules; a crafted POST changes nothing."""
    consult = appointment_service()
    doctor = practitioner(consult, name="Dr. Kept Rao")
    client.force_login(staff_member("Reception"))
    day = clinic_today() + timedelta(days=1)

    changed = client.post(
        f"/admin/scheduling/practitioner/{doctor.pk}/change/",
        {
            "name": "Dr. Renamed",
            "specialty": "Surgeon",
            "registration_number": doctor.registration_number,
            "active": "on",
            "services": [consult.pk],
            "schedules-TOTAL_FORMS": "0",
            "schedules-INITIAL_FORMS": "0",
        },
    )
    added = client.post(
        "/admin/scheduling/weeklyschedule/add/",
        {
            "practitioner": doctor.pk,
            "weekday": day.weekday(),
            "start": "09:00",
            "end": "10:00",
            "slot_minutes": 15,
            "capacity": 1,
            "valid_from": day.isoformat(),
            "valid_to": "",
        },
    )

    assert (changed.status_code, added.status_code) == (403, 403)
    doctor.refresh_from_db()
    assert doctor.name == "Dr. Kept Rao"
    assert not WeeklySchedule.objects.filter(practitioner=doctor).exists()
    assert not AuditLog.objects.filter(action__in=["practitioner.changed", "weeklyschedule.added"])
