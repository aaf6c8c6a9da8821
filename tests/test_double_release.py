"""A place or a discount is given back once: never the wrong row, never twice.

- After a move, the cancellation gives back the place the booking holds now (the old
  one was given back by the move, without a SlotReleased of its own). scheduling picks
  the saga's live row; were it to pick the newest row (SlotBooking's ordering) without
  that filter, it would still be the live one, so this fails only with both gone.
- Two releases of one saga at the same moment (compensation delivered twice: its own
  delivery and recovery's replay): both read the live row before either writes; the
  second, once the first has committed, must find nothing left to release. Here the
  test holds the row's lock until both are waiting on it, so the race is certain.
"""

import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection, transaction

from bookings import events
from bookings.models import BookingStatus, SagaEvent
from bookings.services import clinic_today
from portal.flows import cancel_booking, reschedule_booking
from portal.ops.invariants import find_violations
from quotas.models import DiscountQuota, QuotaReservation
from quotas.services import release_discount
from scheduling.models import Slot, SlotBooking
from scheduling.services import release_slot
from tests.support.factories import UserFactory
from tests.support.saga_hooks import delivery_stopped
from tests.support.scheduling import appointment_service, practitioner, slot

pytestmark = pytest.mark.usefixtures("commits")


@pytest.mark.usefixtures("default_cancellation_policy")
def test_a_cancellation_after_a_move_gives_back_the_new_place_once(book):
    consult = appointment_service()
    doctor = practitioner(consult)
    day = clinic_today() + timedelta(days=2)
    old = slot(doctor, day=day, at=(9, 0), capacity=2)
    new = slot(doctor, day=day, at=(11, 0))
    other = book(services=[consult], slot=old, by=UserFactory())  # stays in the old slot
    mine = book(services=[consult], slot=old)
    assert {other.status, mine.status} == {BookingStatus.CONFIRMED}

    reschedule_booking(booking=mine, slot_id=new.pk, actor="reception", by_staff=True)
    cancel_booking(booking=mine, actor="reception", by_staff=True, reason="patient phoned")

    mine.refresh_from_db()
    assert mine.status == BookingStatus.CANCELLED
    assert Slot.objects.get(pk=new.pk).booked == 0  # the place held now, given back
    assert Slot.objects.get(pk=old.pk).booked == 1  # the other patient's, untouched
    assert list(
        SlotBooking.objects.filter(released_at__isnull=True).values_list("booking_id", flat=True)
    ) == [other.pk]
    assert (
        SagaEvent.objects.filter(
            correlation_id=mine.correlation_id, event_type=events.SlotReleased.name
        ).count()
        == 1
    )
    assert find_violations() == []


def waiting_on_locks() -> int:
    """Sessions of this database waiting for a lock now (not a cached snapshot)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def two_releases_at_once(release: Callable[[], None], held_row) -> list[object]:
    """Run `release` in two threads (two connections) that have both read `held_row` as
    live and are both waiting to update it; then let them go. What each returned or raised."""
    outcomes: list[object] = ["not run", "not run"]

    def run(index: int) -> None:
        try:
            outcomes[index] = release()
        except BaseException as error:  # noqa: BLE001 - handed back to the test
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    with transaction.atomic():
        list(held_row.select_for_update())
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while waiting_on_locks() < 2:
            assert time.monotonic() < deadline, "the releases never both waited for the row"
            time.sleep(0.02)
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.fixture
def being_undone(book):
    """An eligible booking of a slot (capacity 1) whose compensation is logged and not yet
    delivered: it holds its place and one of the day's discounts (the only one used)."""
    consult = appointment_service("2500.00")
    the_slot = slot(practitioner(consult))
    with delivery_stopped(events.CompensationTriggered):
        booking = book(services=[consult], slot=the_slot, payment_token="tok_chargeDeclined")
    assert (booking.status, booking.compensating) == (BookingStatus.PENDING, True)
    assert Slot.objects.get(pk=the_slot.pk).booked == 1
    assert DiscountQuota.objects.get(day=booking.clinic_day).used == 1
    return booking


@pytest.mark.django_db(transaction=True)  # threads at once
def test_two_releases_of_one_place_at_once_give_it_back_once(being_undone):
    booking = being_undone
    held = SlotBooking.objects.filter(correlation_id=booking.correlation_id)

    outcomes = two_releases_at_once(
        lambda: release_slot(correlation_id=booking.correlation_id), held
    )

    assert outcomes == [None, None]  # the second found nothing to release, quietly
    assert held.get().released_at is not None
    assert Slot.objects.get(pk=held.get().slot_id).booked == 0
    assert (
        SagaEvent.objects.filter(
            correlation_id=booking.correlation_id, event_type=events.SlotReleased.name
        ).count()
        == 1
    )


@pytest.mark.django_db(transaction=True)  # threads at once
def test_two_releases_of_one_discount_at_once_give_it_back_once(being_undone):
    booking = being_undone
    held = QuotaReservation.objects.filter(correlation_id=booking.correlation_id)

    outcomes = two_releases_at_once(
        lambda: release_discount(correlation_id=booking.correlation_id), held
    )

    assert outcomes == [None, None]  # the second found nothing to release, quietly
    assert held.get().released_at is not None
    assert DiscountQuota.objects.get(day=booking.clinic_day).used == 0
    assert (
        SagaEvent.objects.filter(
            correlation_id=booking.correlation_id, event_type=events.DiscountQuotaReleased.name
        ).count()
        == 1
    )
