"""Fifty patients race for one slot of capacity 3, each on its own connection (PostgreSQL)."""

import random

import pytest

from bookings import events
from bookings.models import Booking, BookingStatus, SagaEvent
from portal.ops.invariants import find_violations
from scheduling.models import Slot, SlotBooking
from tests.support.factories import ADULT_BIRTHDAY, UserFactory
from tests.support.racing import at_once
from tests.support.recovery_checks import assert_all_sound
from tests.support.saga_hooks import listeners_replaced
from tests.support.scheduling import appointment_service, practitioner, slot

pytestmark = pytest.mark.django_db(transaction=True)

RACERS = 50
CAPACITY = 3


def racers(token_client, service, the_slot, tokens):
    clients = [token_client(UserFactory()) for _ in tokens]

    def post(client, token):
        def run():
            return client.post(
                "/api/booking",
                {
                    "patient_name": "Racer",
                    "gender": "male",
                    "date_of_birth": ADULT_BIRTHDAY.isoformat(),
                    "service_ids": [service.pk],
                    "payment_token": token,
                    "slot_id": the_slot.pk,
                },
                format="json",
            )

        return run

    return [post(c, t) for c, t in zip(clients, tokens, strict=True)]


def assert_slot_sound(the_slot):
    the_slot.refresh_from_db()
    live = SlotBooking.objects.filter(slot=the_slot, released_at__isnull=True)
    assert the_slot.booked == live.count() <= the_slot.capacity
    assert not live.exclude(booking__status=BookingStatus.CONFIRMED).exists()
    assert find_violations() == []


def test_fifty_parallel_bookings_of_a_slot_of_three(token_client):
    service = appointment_service()
    the_slot = slot(practitioner(service), capacity=CAPACITY)

    answers = at_once(racers(token_client, service, the_slot, ["tok_visa"] * RACERS))

    codes = sorted(a.status_code for a in answers)
    assert codes == [201] * CAPACITY + [409] * (RACERS - CAPACITY)
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"slot_unavailable"}
    assert Booking.objects.count() == CAPACITY  # the refused left no booking behind
    assert Booking.objects.filter(status=BookingStatus.CONFIRMED).count() == CAPACITY
    the_slot.refresh_from_db()
    assert the_slot.booked == CAPACITY
    assert_slot_sound(the_slot)
    assert_all_sound()


def test_places_freed_by_declined_cards_are_taken_by_others(token_client):
    service = appointment_service()
    the_slot = slot(practitioner(service), capacity=CAPACITY)
    tokens = ["tok_chargeDeclined"] * 20 + ["tok_visa"] * (RACERS - 20)
    random.Random(13).shuffle(tokens)

    answers = at_once(racers(token_client, service, the_slot, tokens))

    outcomes = [(token, a.status_code, a.json()) for token, a in zip(tokens, answers, strict=True)]
    refused = [body for _, code, body in outcomes if code != 201]
    confirmed = [b for t, code, b in outcomes if code == 201 and t == "tok_visa"]
    failed = [b for t, code, b in outcomes if code == 201 and t == "tok_chargeDeclined"]
    # Every refusal is the full slot's 409; a card that was taken confirms, one declined fails.
    assert {code for _, code, _ in outcomes} - {201} == {409}  # 30 cards for 3 places
    assert {b["code"] for b in refused} == {"slot_unavailable"}
    assert [b["status"] for b in confirmed] == ["confirmed"] * len(confirmed)
    assert [(b["status"], b["failure_reason"]) for b in failed] == [
        ("failed", "card_declined")
    ] * len(failed)
    # The first CAPACITY requests to reach the slot all get a place (a place comes back
    # only after its holder's saga ran): at least that many were taken.
    assert len(confirmed) + len(failed) >= CAPACITY
    assert len(confirmed) + len(failed) + len(refused) == RACERS
    # The refused left no booking; the confirmed hold the slot's places, the failed none.
    assert Booking.objects.count() == len(confirmed) + len(failed)
    assert Booking.objects.filter(status=BookingStatus.CONFIRMED).count() == len(confirmed)
    the_slot.refresh_from_db()
    assert the_slot.booked == len(confirmed)
    for booking in failed:  # each failure gave its place back, once
        trail = SagaEvent.objects.filter(correlation_id=booking["correlation_id"])
        assert trail.filter(event_type="SlotReleased").count() == 1
    assert_slot_sound(the_slot)
    # Whatever failures freed is bookable again, up to the capacity.
    free = CAPACITY - len(confirmed)
    more = at_once(racers(token_client, service, the_slot, ["tok_visa"] * (free + 2)))
    assert sorted(a.status_code for a in more) == [201] * free + [409] * 2
    the_slot.refresh_from_db()
    assert the_slot.booked == CAPACITY
    assert_slot_sound(the_slot)
    assert_all_sound()


@pytest.fixture
def no_wait(settings):
    settings.SAGA_TIMEOUT_SECONDS = 0
    settings.SAGA_HARD_DEADLINE_SECONDS = 3600
    return settings


def book_stuck_after(event_name, *, token, user, keep_apps=()):
    from portal.flows import start_booking

    service = appointment_service()
    the_slot = slot(practitioner(service), capacity=1)
    with listeners_replaced(events.CATALOG[event_name], keep_apps=keep_apps):
        booking = start_booking(
            user=user,
            patient_name="Asha",
            gender="female",
            date_of_birth=ADULT_BIRTHDAY,
            service_ids=[service.pk],
            payment_token=token,
            slot_id=the_slot.pk,
        )
    booking.refresh_from_db()
    assert booking.status == BookingStatus.PENDING
    the_slot.refresh_from_db()
    assert the_slot.booked == 1
    return booking, the_slot


@pytest.mark.parametrize(
    ("event_name", "token", "ends", "booked"),
    [
        ("BookingRequested", "tok_visa", "confirmed", 1),
        ("DiscountQuotaReserved", "tok_chargeDeclined", "failed", 0),
        ("CompensationTriggered", "tok_chargeDeclined", "failed", 0),
    ],
)
def test_a_crash_after_the_slot_was_taken_is_recovered(
    user, no_wait, event_name, token, ends, booked
):
    from django.core.management import call_command

    booking, the_slot = book_stuck_after(event_name, token=token, user=user)

    call_command("resume_sagas")

    booking.refresh_from_db()
    the_slot.refresh_from_db()
    assert (booking.status, the_slot.booked) == (ends, booked)
    assert_all_sound()


def test_past_the_deadline_a_stuck_booking_gives_its_slot_back(user, settings):
    from django.core.management import call_command

    settings.SAGA_TIMEOUT_SECONDS = 0
    settings.SAGA_HARD_DEADLINE_SECONDS = 0
    booking, the_slot = book_stuck_after("BookingRequested", token="tok_visa", user=user)

    call_command("resume_sagas")

    booking.refresh_from_db()
    the_slot.refresh_from_db()
    assert (booking.status, the_slot.booked) == ("failed", 0)
    assert Slot.objects.get(pk=the_slot.pk).booked == 0
    assert_all_sound()
