"""POST /api/booking/<id>/reschedule (shared/API.md, "Cancelling and rescheduling"):
one step in scheduling, within the booking's policy, the price unchanged."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from bookings.models import AuditLog, Booking, BookingStatus, SagaEvent
from notifications import sender
from notifications.models import Channel, Kind, Notification, Status
from portal.ops.invariants import find_violations
from scheduling.models import Slot, SlotBooking
from tests.support.admin_helpers import staff_member
from tests.support.clock import MORNING
from tests.support.factories import UserFactory
from tests.support.scheduling import appointment_service, practitioner, slot

pytestmark = pytest.mark.usefixtures("commits", "default_cancellation_policy", "morning")

DAY = MORNING.date() + timedelta(days=2)


@pytest.fixture
def booked(book, consult, doctor):
    """A confirmed appointment at 09:00 two days ahead (policy: moves until 4 h before, 2 moves)."""
    booking = book(services=[consult], slot=slot(doctor, day=DAY, at=(9, 0)))
    assert booking.status == BookingStatus.CONFIRMED
    return booking


def move(client, booking, the_slot, **headers):
    return client.post(
        f"/api/booking/{booking.pk}/reschedule", {"slot_id": the_slot.pk}, format="json", **headers
    )


def live_slot_ids(booking) -> list[int]:
    return list(
        SlotBooking.objects.filter(booking=booking, released_at=None).values_list(
            "slot_id", flat=True
        )
    )


def test_the_owner_moves_the_appointment_keeping_the_price(booked, patient_api, doctor):
    old = Slot.objects.get(slot_bookings__booking=booked)
    new = slot(doctor, day=DAY, at=(11, 0))

    response = move(patient_api, booked, new)

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "confirmed"
    assert body["appointment"]["slot_id"] == new.pk
    assert body["appointment"]["start"] == "2026-12-12T11:00:00+05:30"
    assert body["final_price"] == "900.00"
    booked_after = Booking.objects.get(pk=booked.pk)
    assert (booked_after.appointment_start, booked_after.reschedules) == (new.start, 1)
    assert booked_after.final_price == booked.final_price
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.booked, new.booked) == (0, 1)
    assert live_slot_ids(booked) == [new.pk]
    event = SagaEvent.objects.get(
        correlation_id=booked.correlation_id, event_type="BookingRescheduled"
    )
    assert (event.occurrence, event.payload["from_slot_id"], event.payload["to_slot_id"]) == (
        1,
        old.pk,
        new.pk,
    )
    audit = AuditLog.objects.get(action="booking.rescheduled")
    assert audit.actor == booked.user.username
    assert (audit.before["slot_id"], audit.after["slot_id"]) == (old.pk, new.pk)
    assert find_violations() == []


def test_a_second_move_is_logged_as_the_second_and_a_third_is_refused(booked, patient_api, doctor):
    assert move(patient_api, booked, slot(doctor, day=DAY, at=(10, 0))).status_code == 200
    second = slot(doctor, day=DAY, at=(11, 0))
    assert move(patient_api, booked, second).status_code == 200

    third = move(patient_api, booked, slot(doctor, day=DAY, at=(12, 0)))

    assert third.status_code == 409
    assert third.json()["code"] == "not_reschedulable"
    assert "most allowed" in third.json()["detail"]
    occurrences = SagaEvent.objects.filter(
        correlation_id=booked.correlation_id, event_type="BookingRescheduled"
    ).values_list("occurrence", flat=True)
    assert sorted(occurrences) == [1, 2]
    assert Booking.objects.get(pk=booked.pk).appointment_start == second.start
    assert len(live_slot_ids(booked)) == 1
    assert find_violations() == []


def test_a_full_slot_is_a_409_slot_unavailable_and_changes_nothing(booked, patient_api, doctor):
    full = slot(doctor, day=DAY, at=(10, 0), capacity=1)
    book_other = UserFactory()
    from portal.flows import start_booking

    start_booking(
        user=book_other,
        patient_name="Other",
        gender="male",
        date_of_birth=booked.date_of_birth,
        service_ids=[booked.items.get().service_id],
        payment_token="tok_visa",
        slot_id=full.pk,
    )

    response = move(patient_api, booked, full)

    assert (response.status_code, response.json()["code"]) == (409, "slot_unavailable")
    after = Booking.objects.get(pk=booked.pk)
    assert (after.appointment_start, after.reschedules) == (booked.appointment_start, 0)
    assert not AuditLog.objects.filter(action="booking.rescheduled").exists()
    assert find_violations() == []


def test_too_late_under_the_policy_is_a_409(booked, patient_api, doctor):
    new = slot(doctor, day=DAY, at=(11, 0))
    # 09:00 on the visit day is 4 h before... 05:01 is 3 h 59 min before: too late.
    with time_machine.travel(datetime(2026, 12, 12, 5, 1, tzinfo=ZoneInfo("Asia/Kolkata"))):
        late = move(patient_api, booked, new)
    with time_machine.travel(datetime(2026, 12, 12, 5, 0, tzinfo=ZoneInfo("Asia/Kolkata"))):
        just_in_time = move(patient_api, booked, new)

    assert (late.status_code, late.json()["code"]) == (409, "not_reschedulable")
    assert "Too late" in late.json()["detail"]
    assert just_in_time.status_code == 200


def test_a_walk_in_or_cancelled_booking_is_not_reschedulable(book, patient_api, booked, doctor):
    walk_in = book(prices=("300.00",))
    new = slot(doctor, day=DAY, at=(11, 0))
    patient_api.post(f"/api/booking/{booked.pk}/cancel", {}, format="json")

    for booking in (walk_in, booked):
        response = move(patient_api, booking, new)
        assert (response.status_code, response.json()["code"]) == (409, "not_reschedulable")
    new.refresh_from_db()
    assert new.booked == 0


def test_a_slot_of_a_practitioner_who_does_not_provide_the_service_is_a_400(booked, patient_api):
    other = practitioner(appointment_service("700.00"))
    response = move(patient_api, booked, slot(other, day=DAY, at=(11, 0)))
    assert response.status_code == 400
    assert "slot_id" in response.json()


def test_someone_elses_booking_is_a_404_and_staff_may_move_it_beyond_the_policy(
    booked, token_client, doctor
):
    stranger = token_client(UserFactory())
    assert move(stranger, booked, slot(doctor, day=DAY, at=(8, 0))).status_code == 404
    desk = token_client(staff_member("Reception"))

    for hour in (10, 11, 12):  # three moves: the policy's two do not bind the clinic
        assert move(desk, booked, slot(doctor, day=DAY, at=(hour, 0))).status_code == 200

    assert AuditLog.objects.filter(action="booking.rescheduled").count() == 3
    assert find_violations() == []


def test_the_same_idempotency_key_replays_the_first_answer(booked, patient_api, doctor):
    new = slot(doctor, day=DAY, at=(11, 0))
    first = move(patient_api, booked, new, HTTP_IDEMPOTENCY_KEY="move-1")
    again = move(patient_api, booked, new, HTTP_IDEMPOTENCY_KEY="move-1")

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert Booking.objects.get(pk=booked.pk).reschedules == 1


def test_the_reminders_follow_the_appointment(booked, patient_api, doctor):
    before = dict(
        Notification.objects.filter(booking=booked, kind=Kind.REMINDER_24H).values_list(
            "channel", "due_at"
        )
    )
    new = slot(doctor, day=DAY, at=(15, 0))

    assert move(patient_api, booked, new).status_code == 200

    old_reminders = Notification.objects.filter(
        booking=booked, occurrence=0, kind__startswith="rem"
    )
    assert set(old_reminders.values_list("status", flat=True)) == {Status.SUPERSEDED}
    moved = Notification.objects.filter(booking=booked, occurrence=1, channel=Channel.EMAIL)
    assert set(moved.values_list("kind", "channel", "due_at")) == {
        (Kind.RESCHEDULED, Channel.EMAIL, moved.get(kind=Kind.RESCHEDULED).due_at),
        (Kind.REMINDER_24H, Channel.EMAIL, new.start - timedelta(hours=24)),
        (Kind.REMINDER_2H, Channel.EMAIL, new.start - timedelta(hours=2)),
    }
    assert before[Channel.EMAIL] == booked.appointment_start - timedelta(hours=24)


def test_a_reminder_of_the_old_time_a_worker_already_claimed_is_not_sent(
    booked, patient_api, doctor
):
    reminder = Notification.objects.get(
        booking=booked, kind=Kind.REMINDER_24H, channel=Channel.EMAIL
    )
    Notification.objects.filter(pk=reminder.pk).update(
        status=Status.SENDING, due_at=timezone.now()
    )  # claimed by a worker just before the move
    assert move(patient_api, booked, slot(doctor, day=DAY, at=(15, 0))).status_code == 200

    assert sender.send_one(reminder.pk) == "superseded"
    reminder.refresh_from_db()
    assert reminder.last_error == "superseded: booking moved"


def test_the_sweep_writes_the_rows_of_a_move_whose_signal_was_lost(booked, patient_api, doctor):
    from notifications.services import sweep_confirmed_without_notifications

    assert move(patient_api, booked, slot(doctor, day=DAY, at=(15, 0))).status_code == 200
    Notification.objects.filter(booking=booked, occurrence=1).delete()  # as if never heard

    assert sweep_confirmed_without_notifications() == 1
    assert set(
        Notification.objects.filter(booking=booked, occurrence=1).values_list("kind", flat=True)
    ) == {Kind.RESCHEDULED, Kind.REMINDER_24H, Kind.REMINDER_2H}
    assert sweep_confirmed_without_notifications() == 0
