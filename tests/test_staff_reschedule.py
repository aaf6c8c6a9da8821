"""Staff change a booking's time from its admin page or the front desk, and cancel from
the front desk (everything back, a reason required); each action is audited."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission

from bookings.models import AuditLog, Booking, BookingStatus
from bookings.services import clinic_today
from payments.models import Refund
from scheduling.models import Slot
from tests.support.admin_helpers import staff_member
from tests.support.factories import UserFactory
from tests.support.scheduling import appointment_service, practitioner, slot

pytestmark = pytest.mark.usefixtures("commits", "default_cancellation_policy")
DESK = "/admin/front-desk/"
DAY = clinic_today() + timedelta(days=2)


@pytest.fixture
def consult(db):
    return appointment_service("900.00")


@pytest.fixture
def doctor(consult):
    return practitioner(consult, name="Dr. Desk Rao")


@pytest.fixture
def booked(book, consult, doctor):
    booking = book(services=[consult], slot=slot(doctor, day=DAY, at=(9, 0)))
    assert booking.status == BookingStatus.CONFIRMED
    return booking


def test_reception_moves_a_booking_from_its_admin_page(client, booked, doctor):
    later = slot(doctor, day=DAY, at=(16, 0))
    desk = staff_member("Reception")
    client.force_login(desk)
    url = f"/admin/bookings/booking/{booked.pk}/change-time/"

    change_page = client.get(f"/admin/bookings/booking/{booked.pk}/change/").text
    times = client.get(url, {"day": DAY.isoformat()}).text
    done = client.post(url, {"slot": later.pk}, follow=True)

    assert f'href="{url}"' in change_page
    assert f'value="{later.pk}"' in times
    assert done.redirect_chain[-1][0] == f"/admin/bookings/booking/{booked.pk}/change/"
    assert "Moved: the appointment is now" in done.text
    assert Booking.objects.get(pk=booked.pk).appointment_start == later.start
    audit = AuditLog.objects.get(action="booking.rescheduled")
    assert audit.actor == desk.username


def test_a_patient_or_a_staff_member_without_the_permission_cannot_move_it(client, booked):
    url = f"/admin/bookings/booking/{booked.pk}/change-time/"
    client.force_login(UserFactory())
    assert client.get(url).status_code == 302  # to the admin login
    limited = staff_member("Reception")
    limited.groups.clear()
    limited.user_permissions.add(Permission.objects.get(codename="view_booking"))
    client.force_login(limited)
    assert client.get(url).status_code == 403


def test_the_front_desk_links_change_time_and_cancels_with_a_reason(client, booked):
    client.force_login(staff_member("Reception"))

    page = client.get(DESK, {"day": DAY.isoformat()}).text
    no_reason = client.post(
        DESK, {"action": "cancel", "booking": str(booked.pk), "day": DAY.isoformat()}, follow=True
    )
    assert Booking.objects.get(pk=booked.pk).status == BookingStatus.CONFIRMED
    done = client.post(
        DESK,
        {
            "action": "cancel",
            "booking": str(booked.pk),
            "day": DAY.isoformat(),
            "reason": "Doctor unwell",
        },
        follow=True,
    )

    assert f"/admin/bookings/booking/{booked.pk}/change-time/" in page
    assert 'value="cancel"' in page
    assert "give the reason" in no_reason.text
    assert "goes back to the patient" in done.text
    booked.refresh_from_db()
    assert booked.status == BookingStatus.CANCELLED
    assert Refund.objects.get().amount == booked.final_price  # the clinic refunds everything
    assert Slot.objects.get(slot_bookings__booking=booked).booked == 0
    audit = AuditLog.objects.get(action="booking.cancellation_requested")
    assert audit.after["reason"] == "Doctor unwell" and audit.after["by_staff"] is True
