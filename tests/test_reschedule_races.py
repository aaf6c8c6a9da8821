"""Reschedules racing on PostgreSQL, each request on its own connection: the last place
of a slot, two patients swapping slots, and a cancellation racing a move."""

from datetime import timedelta

import pytest

from bookings.models import Booking, BookingStatus
from bookings.services import clinic_today
from portal.ops.invariants import find_violations
from scheduling.models import Slot, SlotBooking
from tests.support.factories import UserFactory
from tests.support.racing import at_once
from tests.support.scheduling import appointment_service, practitioner, slot

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("default_cancellation_policy"),
]

ROUNDS = 8


@pytest.fixture
def consult(db):
    return appointment_service("900.00", duration_minutes=5)  # the races use 5-minute slots


@pytest.fixture
def doctor(consult):
    return practitioner(consult)


@pytest.fixture
def day():
    return clinic_today() + timedelta(days=2)


@pytest.fixture
def patient(book, consult, token_client):
    """patient(the_slot) -> (their confirmed booking in it, their API client)."""

    def make(the_slot):
        user = UserFactory()
        booking = book(services=[consult], slot=the_slot, by=user)
        assert booking.status == BookingStatus.CONFIRMED
        return booking, token_client(user)

    return make


def move(client, booking, the_slot):
    def run():
        return client.post(
            f"/api/booking/{booking.pk}/reschedule", {"slot_id": the_slot.pk}, format="json"
        )

    return run


def assert_sound(*bookings):
    for booking in bookings:
        booking.refresh_from_db()
        live = SlotBooking.objects.filter(booking=booking, released_at=None)
        if booking.status == BookingStatus.CONFIRMED:
            # exactly one live place, and it is the time the booking shows
            assert [sb.slot.start for sb in live] == [booking.appointment_start]
        else:
            assert not live.exists()
    for the_slot in Slot.objects.all():
        held = SlotBooking.objects.filter(slot=the_slot, released_at=None).count()
        assert the_slot.booked == held <= the_slot.capacity
    assert find_violations() == []


def test_two_patients_moving_into_the_last_place_of_a_slot_one_wins(doctor, day, patient):
    for n in range(ROUNDS):
        last_place = slot(doctor, day=day, at=(14, n * 5), minutes=5, capacity=2)
        patient(last_place)  # one place left
        asha, asha_api = patient(slot(doctor, day=day, at=(9, n * 5), minutes=5))
        ravi, ravi_api = patient(slot(doctor, day=day, at=(10, n * 5), minutes=5))

        answers = at_once([move(asha_api, asha, last_place), move(ravi_api, ravi, last_place)])

        assert sorted(a.status_code for a in answers) == [200, 409]
        assert [a.json()["code"] for a in answers if a.status_code == 409] == ["slot_unavailable"]
        last_place.refresh_from_db()
        assert last_place.booked == last_place.capacity == 2
        moved = [b for b, a in zip((asha, ravi), answers, strict=True) if a.status_code == 200]
        stayed = [b for b, a in zip((asha, ravi), answers, strict=True) if a.status_code == 409]
        assert Booking.objects.get(pk=moved[0].pk).appointment_start == last_place.start
        assert Booking.objects.get(pk=stayed[0].pk).reschedules == 0
        assert_sound(asha, ravi)


def test_two_patients_swapping_slots_never_deadlock(doctor, day, patient):
    """Each move locks both slots; taken in slot-id order, two opposite moves queue up
    instead of each holding the lock the other needs (PostgreSQL would kill one)."""
    for n in range(ROUNDS):
        first = slot(doctor, day=day, at=(9, n * 5), minutes=5, capacity=2)
        second = slot(doctor, day=day, at=(11, n * 5), minutes=5, capacity=2)
        asha, asha_api = patient(first)
        ravi, ravi_api = patient(second)

        answers = at_once([move(asha_api, asha, second), move(ravi_api, ravi, first)])

        assert [a.status_code for a in answers] == [200, 200], [a.content for a in answers]
        asha.refresh_from_db()
        ravi.refresh_from_db()
        assert (asha.appointment_start, ravi.appointment_start) == (second.start, first.start)
        assert_sound(asha, ravi)


def test_a_cancellation_racing_a_move_of_the_same_booking_ends_consistently(doctor, day, patient):
    for n in range(ROUNDS):
        old = slot(doctor, day=day, at=(9, n * 5), minutes=5)
        new = slot(doctor, day=day, at=(12, n * 5), minutes=5)
        booking, client = patient(old)

        def cancel(client=client, booking=booking):
            return client.post(f"/api/booking/{booking.pk}/cancel", {}, format="json")

        moved, cancelled = at_once([move(client, booking, new), cancel])

        booking.refresh_from_db()
        old.refresh_from_db()
        new.refresh_from_db()
        if booking.status == BookingStatus.CANCELLED:
            assert cancelled.status_code == 200
            assert (old.booked, new.booked) == (0, 0)
            if moved.status_code == 200:  # moved first, then cancelled
                assert (booking.appointment_start, booking.reschedules) == (new.start, 1)
            else:  # cancelled first: the move refused, the booking where it was
                assert (moved.status_code, moved.json()["code"]) == (409, "not_reschedulable")
                assert (booking.appointment_start, booking.reschedules) == (old.start, 0)
        else:  # the move won and the cancellation was refused
            assert booking.status == BookingStatus.CONFIRMED
            assert booking.cancellation_requested_at is None
            assert (cancelled.status_code, cancelled.json()["code"]) == (409, "not_cancellable")
            assert moved.status_code == 200
            assert (old.booked, new.booked, booking.appointment_start) == (0, 1, new.start)
        assert_sound(booking)
