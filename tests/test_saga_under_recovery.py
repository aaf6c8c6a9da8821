"""Bookings racing an impatient recovery: the run that found the mixed end states.

Twelve threads book at once (eligible bookings, one card in four declined) while
recovery runs in a loop with SAGA_TIMEOUT_SECONDS = 0 and a hard deadline of 0, so it
claims every saga still running and compensates it under the request's feet: forward
steps, confirmations and compensations of the same sagas interleave on separate
connections. Every booking must end one way (confirmed and charged, or failed with
nothing held), with no step failing on a sequence clash or a deadlock.
"""

import logging
import threading

import pytest

from bookings.models import Booking, BookingStatus, SagaEvent
from portal.flows import start_booking
from portal.ops.invariants import find_violations
from portal.ops.recovery import resume_stuck_sagas
from tests.support.factories import ADULT_BIRTHDAY, UserFactory
from tests.support.racing import at_once
from tests.support.recovery_checks import assert_all_sound

pytestmark = pytest.mark.django_db(transaction=True)

BOOKERS = 12
BOOKINGS_EACH = 4


@pytest.fixture
def impatient_recovery(settings):
    settings.SAGA_TIMEOUT_SECONDS = 0
    settings.SAGA_HARD_DEADLINE_SECONDS = 0
    settings.SAGA_RERAISE_RECEIVER_ERRORS = False  # as in production: logged, retried
    return settings


def test_bookings_racing_recovery_end_one_way_each(
    impatient_recovery, service_priced, set_default_limit, caplog
):
    set_default_limit(BOOKERS * BOOKINGS_EACH // 2)  # some discounts run out
    service = service_priced("2500.00")
    users = [UserFactory() for _ in range(BOOKERS)]
    done = threading.Event()

    def book(index: int):
        for round_ in range(BOOKINGS_EACH):
            start_booking(
                user=users[index],
                patient_name="Asha Verma",
                gender="female",
                date_of_birth=ADULT_BIRTHDAY,
                service_ids=[service.pk],
                payment_token="tok_chargeDeclined" if (index + round_) % 4 == 0 else "tok_visa",
            )

    def recover_meanwhile():
        runs = 0
        while not done.is_set() or runs == 0:
            resume_stuck_sagas()
            runs += 1
        return runs

    with caplog.at_level(logging.WARNING):
        recovery = threading.Thread(target=lambda: at_once([recover_meanwhile]))
        recovery.start()
        try:
            at_once([lambda i=i: book(i) for i in range(BOOKERS)])
        finally:
            done.set()
            recovery.join()
        resume_stuck_sagas()  # whatever the last run left

    problems = [
        r.getMessage() + (f" {r.exc_info[1]!r}" if r.exc_info else "")
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.name.startswith(("saga", "django.db"))
    ]
    # Not one step failed: no sequence clash, no deadlock, no recovery error.
    assert problems == []
    assert Booking.objects.count() == BOOKERS * BOOKINGS_EACH
    assert not Booking.objects.filter(status=BookingStatus.PENDING).exists()
    assert_all_sound()
    assert find_violations() == []
    # No saga logs both a confirmation and an undo.
    for booking in Booking.objects.all():
        logged = set(
            SagaEvent.objects.filter(correlation_id=booking.correlation_id).values_list(
                "event_type", flat=True
            )
        )
        if booking.status == BookingStatus.CONFIRMED:
            assert not logged & {"CompensationTriggered", "PaymentReversed", "BookingFailed"}
        else:
            assert "BookingConfirmed" not in logged
