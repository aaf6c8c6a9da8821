"""A patient moves an appointment from the booking page: the deadline first, then a day
and a free time; the booking page then shows the new time."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from bookings.models import AuditLog, Booking
from scheduling.models import Slot
from tests.support.clock import MORNING
from tests.support.factories import UserFactory
from tests.support.scheduling import practitioner, slot

pytestmark = pytest.mark.usefixtures("commits", "default_cancellation_policy", "morning")

DAY = MORNING.date() + timedelta(days=2)


@pytest.fixture
def booked(book, consult, doctor):
    return book(services=[consult], slot=slot(doctor, day=DAY, at=(9, 0)))


def test_the_booking_page_offers_change_time_beside_cancel(client, user, booked):
    client.force_login(user)

    page = client.get(f"/bookings/{booked.pk}/").text

    assert f'href="/bookings/{booked.pk}/change-time/"' in page
    assert f'href="/bookings/{booked.pk}/cancel/"' in page
    assert "until 12 Dec 2026, 05:00 IST, at the same price" in page


def test_the_patient_picks_a_day_and_a_time_and_sees_the_new_time(client, user, booked, doctor):
    later = slot(doctor, day=DAY, at=(15, 30))
    client.force_login(user)
    url = f"/bookings/{booked.pk}/change-time/"

    days = client.get(url).text
    times = client.get(url, {"day": DAY.isoformat()}).text
    done = client.post(url, {"slot": later.pk}, follow=True)

    assert "You may change the time until <strong>12 Dec 2026, 05:00 IST</strong>" in days
    assert f'href="?day={DAY.isoformat()}"' in days
    assert f'value="{later.pk}"' in times and "15:30" in times
    assert "Move to this time" in times
    assert done.redirect_chain[-1][0] == f"/bookings/{booked.pk}/"
    assert "Moved: the appointment is now Saturday 12 December 2026, 15:30 IST." in done.text
    assert "Saturday 12 December 2026, 15:30 IST with Dr. Test Rao" in done.text
    assert "Appointment moved" in done.text  # the timeline
    assert Booking.objects.get(pk=booked.pk).appointment_start == later.start
    assert AuditLog.objects.filter(action="booking.rescheduled", actor=user.username).exists()


def test_a_time_taken_meanwhile_is_refused_with_words(client, user, booked, doctor):
    gone = slot(doctor, day=DAY, at=(15, 30), capacity=1)
    Slot.objects.filter(pk=gone.pk).update(capacity=0)
    client.force_login(user)
    url = f"/bookings/{booked.pk}/change-time/"

    done = client.post(url, {"slot": gone.pk}, follow=True)

    assert done.redirect_chain[-1][0] == url
    assert "That time is no longer free" in done.text
    assert Booking.objects.get(pk=booked.pk).appointment_start == booked.appointment_start


def test_too_late_or_not_theirs(client, user, booked, doctor):
    client.force_login(UserFactory())
    assert client.get(f"/bookings/{booked.pk}/change-time/").status_code == 404
    client.force_login(user)
    with time_machine.travel(datetime(2026, 12, 12, 6, 0, tzinfo=ZoneInfo("Asia/Kolkata"))):
        page = client.get(f"/bookings/{booked.pk}/").text
        late = client.get(f"/bookings/{booked.pk}/change-time/", follow=True)
    assert "/change-time/" not in page
    assert "Too late" in late.text


def test_the_list_shows_the_new_practitioner_after_a_move(client, user, booked, consult):
    """Moved to another practitioner: the list and the booking page name the new one."""
    other = practitioner(consult, name="Dr. Second Iyer")
    theirs = slot(other, day=DAY, at=(11, 0))
    client.force_login(user)

    client.post(f"/bookings/{booked.pk}/change-time/", {"slot": theirs.pk})

    listed = client.get("/bookings/").text
    assert "11:00 IST · Dr. Second Iyer" in listed
    assert "Dr. Test Rao" not in listed
    assert "with Dr. Second Iyer" in client.get(f"/bookings/{booked.pk}/").text
