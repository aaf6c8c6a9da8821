"""A practitioner's own day: the "Practitioner" group, a practitioner linked to a staff
account sees their appointments and the walk-ins the desk sent them (with arrival), marks
a visit completed, and nobody else's patients; Reception records a practitioner's leave
(never a clinic holiday); the demo's doctor login (no default password)."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from bookings.models import AuditLog, BookingStatus
from bookings.services import clinic_today
from scheduling.models import ExceptionKind, Practitioner, ScheduleException, WalkInAssignment
from tests.support.admin_helpers import staff_member
from tests.support.factories import MedicalServiceFactory
from tests.support.scheduling import appointment_service, clinic_time, practitioner, slot

pytestmark = pytest.mark.usefixtures("commits", "morning")
MY_DAY = "/admin/my-day/"
DESK = "/admin/front-desk/"


@pytest.fixture
def two_doctors(db):
    consult = appointment_service()
    rao = practitioner(consult, name="Dr. Own Rao")
    iyer = practitioner(consult, name="Dr. Other Iyer")
    rao.user = staff_member("Practitioner", username="dr.own")
    rao.save()
    return consult, rao, iyer


@pytest.fixture
def day_of_two(book, user, two_doctors):
    """Today: one appointment with each doctor at 10:00, and a lab walk-in."""
    consult, rao, iyer = two_doctors
    today = clinic_today()
    mine = book(services=[consult], slot=slot(rao, day=today, at=(10, 0)))
    theirs = book(services=[consult], slot=slot(iyer, day=today, at=(10, 0)))
    walk_in = book(services=[MedicalServiceFactory(name="CBC")])
    assert {b.status for b in (mine, theirs, walk_in)} == {BookingStatus.CONFIRMED}
    return mine, theirs, walk_in


def listed(client, booking) -> bool:
    """Whether the booking is a row of the practitioner's day (not just named in a message)."""
    return f'data-code="{booking.confirmation_code}"' in client.get(MY_DAY).content.decode()


def test_the_practitioner_sees_their_appointments_only(client, two_doctors, day_of_two):
    _, rao, _ = two_doctors
    mine, theirs, walk_in = day_of_two
    client.force_login(rao.user)
    page = client.get(MY_DAY)
    assert page.status_code == 200
    text = page.content.decode()
    assert mine.confirmation_code in text and "10:00" in text and "Expected" in text
    assert listed(client, mine)
    assert theirs.confirmation_code not in text
    assert walk_in.confirmation_code not in text  # not sent to them yet
    assert 'href="/admin/my-day/"' in client.get("/admin/").content.decode()


def test_a_walk_in_sent_by_the_desk_shows_on_that_practitioners_day(
    client, two_doctors, day_of_two
):
    _, rao, iyer = two_doctors
    _, _, walk_in = day_of_two
    client.force_login(staff_member("Reception"))
    desk = client.get(DESK).content.decode()
    assert 'value="assign"' in desk and "Dr. Own Rao" in desk
    sent = client.post(
        DESK,
        {"action": "assign", "booking": str(walk_in.pk), "practitioner": str(rao.pk)},
    )
    assert sent.status_code == 302
    assert WalkInAssignment.objects.get(booking=walk_in).practitioner == rao
    assert AuditLog.objects.filter(action="walk_in.assigned", object_id=str(walk_in.pk)).exists()

    client.force_login(rao.user)
    assert listed(client, walk_in)
    # Sent to the other doctor instead: gone from this day.
    client.force_login(staff_member("Reception", username="desk2"))
    client.post(
        DESK, {"action": "assign", "booking": str(walk_in.pk), "practitioner": str(iyer.pk)}
    )
    client.force_login(rao.user)
    assert not listed(client, walk_in)


def test_arrival_then_the_practitioner_marks_the_visit_completed(client, two_doctors, day_of_two):
    _, rao, _ = two_doctors
    mine, _, _ = day_of_two
    client.force_login(staff_member("Reception"))
    client.post(DESK, {"action": "check_in", "booking": str(mine.pk)})
    client.force_login(rao.user)
    assert "Arrived (checked in)" in client.get(MY_DAY).content.decode()

    done = client.post(MY_DAY, {"booking": str(mine.pk)})
    assert done.status_code == 302
    mine.refresh_from_db()
    assert mine.status == BookingStatus.COMPLETED and mine.visit_finished_at is not None
    assert mine.visit_finished_by == "dr.own"
    assert AuditLog.objects.filter(action="booking.visit_finished").count() == 1
    page = client.get(MY_DAY).content.decode()
    assert "Visit completed" in page and "Mark completed" not in page
    client.post(MY_DAY, {"booking": str(mine.pk)})  # once only
    assert AuditLog.objects.filter(action="booking.visit_finished").count() == 1


def test_a_patient_who_went_straight_in_is_completed_too(client, two_doctors, day_of_two):
    _, rao, _ = two_doctors
    mine, _, _ = day_of_two
    client.force_login(rao.user)
    client.post(MY_DAY, {"booking": str(mine.pk)})
    mine.refresh_from_db()
    assert mine.status == BookingStatus.COMPLETED and mine.visit_finished_at is not None


def test_another_practitioners_patient_is_a_404_and_changes_nothing(
    client, two_doctors, day_of_two
):
    _, rao, _ = two_doctors
    _, theirs, walk_in = day_of_two
    client.force_login(rao.user)
    for other in (theirs, walk_in):
        assert client.post(MY_DAY, {"booking": str(other.pk)}).status_code == 404
        other.refresh_from_db()
        assert other.status == BookingStatus.CONFIRMED and other.visit_finished_at is None
    assert client.post(MY_DAY, {"booking": "not-a-uuid"}).status_code == 404
    # The admin's lists of bookings, payments and patients are not theirs to read.
    for page in ("/admin/bookings/booking/", f"/admin/bookings/booking/{theirs.pk}/change/"):
        assert client.get(page).status_code == 403
    assert client.get(DESK).status_code == 403
    assert client.get(f"/api/booking/{theirs.pk}/status").status_code == 404


def test_only_a_linked_practitioner_has_a_day(client, two_doctors):
    unlinked = staff_member("Practitioner", username="dr.nobody")
    client.force_login(unlinked)
    assert client.get(MY_DAY).status_code == 403
    client.force_login(staff_member("Reception"))
    assert client.get(MY_DAY).status_code == 403  # the desk has the front desk instead


def test_reception_records_a_practitioners_leave_but_not_a_clinic_holiday(client, two_doctors):
    _, rao, _ = two_doctors
    client.force_login(staff_member("Reception"))
    day = clinic_today() + timedelta(days=3)
    leave = {
        "practitioner": str(rao.pk),
        "kind": ExceptionKind.LEAVE,
        "start_0": day.isoformat(),
        "start_1": "09:00",
        "end_0": day.isoformat(),
        "end_1": "13:00",
        "note": "Conference",
    }
    added = client.post("/admin/scheduling/scheduleexception/add/", leave)
    assert added.status_code == 302, added.content.decode()[:2000]
    recorded = ScheduleException.objects.get(practitioner=rao)
    assert recorded.start == clinic_time(day, 9)

    holiday = {**leave, "practitioner": "", "kind": ExceptionKind.HOLIDAY, "note": "Diwali"}
    refused = client.post("/admin/scheduling/scheduleexception/add/", holiday)
    assert refused.status_code == 200
    assert "closing the whole clinic for a holiday is the clinic manager" in (
        refused.content.decode()
    )
    assert not ScheduleException.objects.filter(kind=ExceptionKind.HOLIDAY).exists()

    manager = staff_member("Clinic manager", username="boss")
    client.force_login(manager)
    assert client.post("/admin/scheduling/scheduleexception/add/", holiday).status_code == 302
    holiday_row = ScheduleException.objects.get(kind=ExceptionKind.HOLIDAY)
    client.force_login(staff_member("Reception", username="desk3"))
    change = f"/admin/scheduling/scheduleexception/{holiday_row.pk}/change/"
    assert client.post(change, {**holiday, "note": "moved"}).status_code == 403


def test_the_demo_doctor_login_has_no_default_password(monkeypatch, db):
    staff_member("Practitioner", username="x")  # the groups exist
    doctor = practitioner(registration_number="KMC-DEMO-1", name="Dr. Demo")
    out = StringIO()
    monkeypatch.delenv("DEMO_PRACTITIONER_PASSWORD", raising=False)
    call_command("seed_practitioner_login", registration="KMC-DEMO-1", stdout=out)
    printed = out.getvalue()
    password = printed.split("with password ")[1].split(" ")[0]
    assert len(password) >= 16 and "shown this once" in printed
    account = Practitioner.objects.get(pk=doctor.pk).user
    assert account.username == "dr.rao" and account.check_password(password)
    assert account.is_staff and not account.is_superuser
    again = StringIO()
    call_command("seed_practitioner_login", registration="KMC-DEMO-1", stdout=again)
    assert password not in again.getvalue() and "already signs in" in again.getvalue()
    assert doctor.__class__.objects.get(pk=doctor.pk).user.groups.filter(name="Practitioner")


def test_the_demo_doctor_password_may_come_from_the_environment(monkeypatch, db):
    staff_member("Practitioner", username="x")
    practitioner(registration_number="KMC-DEMO-2", name="Dr. Env")
    monkeypatch.setenv("DEMO_PRACTITIONER_PASSWORD", "a-long-demo-secret-42")
    out = StringIO()
    call_command(
        "seed_practitioner_login", registration="KMC-DEMO-2", username="dr.env", stdout=out
    )
    assert "a-long-demo-secret-42" not in out.getvalue()
    account = Practitioner.objects.get(registration_number="KMC-DEMO-2").user
    assert account.check_password("a-long-demo-secret-42")
    with pytest.raises(CommandError):
        call_command("seed_practitioner_login", registration="nope")
