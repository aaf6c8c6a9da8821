"""`manage.py check_saga_invariants` passes on a sound database and names each breach."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from bookings.models import Booking
from payments.models import Payment, SimulatedGatewayCharge
from quotas.models import DiscountQuota, QuotaReservation
from scheduling.models import Slot, SlotBooking

pytestmark = pytest.mark.usefixtures("commits")


def test_passes_when_every_saga_ended_soundly(book, capsys):
    book(prices=("2500.00",))
    book(prices=("2500.00",), payment_token="tok_chargeDeclined")
    call_command("check_saga_invariants")
    assert "All saga invariants hold" in capsys.readouterr().out


def test_reports_a_quota_count_that_disagrees_with_live_reservations(book):
    booking = book(prices=("2500.00",))
    DiscountQuota.objects.filter(day=booking.clinic_day).update(used=5)
    with pytest.raises(CommandError, match="1 invariant violation"):
        call_command("check_saga_invariants")


def test_reports_a_confirmed_booking_whose_payment_is_not_its_final_price(book):
    booking = book(prices=("2500.00",))
    Payment.objects.filter(booking=booking).update(amount="1.00")
    with pytest.raises(CommandError):
        call_command("check_saga_invariants")


def test_reports_a_confirmed_booking_without_a_payment(book, capsys):
    booking = book(prices=("500.00",))
    Payment.objects.filter(booking=booking).delete()
    # Every side of it: no payment for the booking, money at the gateway unrecorded, and
    # a receipt for a payment that is not there.
    with pytest.raises(CommandError, match="3 invariant violation"):
        call_command("check_saga_invariants")
    err = capsys.readouterr().err
    assert "confirmed without one captured payment" in err
    assert "a receipt for payment" in err


def test_reports_money_the_gateway_kept_that_no_payment_records(book, capsys):
    booking = book(prices=("500.00",), payment_token="tok_chargeDeclined")
    # The gateway's books say it took the money the clinic's books say was declined.
    SimulatedGatewayCharge.objects.filter(idempotency_key=str(booking.correlation_id)).update(
        captured=True
    )
    with pytest.raises(CommandError, match="1 invariant violation"):
        call_command("check_saga_invariants")
    assert "the gateway holds ₹500.00" in capsys.readouterr().err


def test_reports_a_failed_booking_still_holding_money_or_a_discount(book):
    booking = book(prices=("2500.00",), payment_token="tok_chargeDeclined")
    Payment.objects.filter(booking=booking).update(status="captured")
    QuotaReservation.objects.filter(booking=booking).update(released_at=None)
    DiscountQuota.objects.filter(day=booking.clinic_day).update(used=1)
    with pytest.raises(CommandError, match="2 invariant violation"):
        call_command("check_saga_invariants")


def test_reports_a_booking_pending_past_the_deadline(book):
    booking = book(prices=("500.00",))
    Booking.objects.filter(pk=booking.pk).update(
        status="pending", confirmation_code=None, created_at=timezone.now() - timedelta(hours=1)
    )
    with pytest.raises(CommandError):
        call_command("check_saga_invariants")


def test_reports_a_failed_booking_whose_payment_outcome_was_never_settled(book):
    booking = book(prices=("500.00",), payment_token="tok_chargeDeclined")
    Payment.objects.filter(booking=booking).update(status="pending")
    with pytest.raises(CommandError, match="1 invariant violation"):
        call_command("check_saga_invariants")


def test_reports_a_moved_booking_whose_place_is_not_at_the_time_it_shows(
    book, user, token_client, default_cancellation_policy, capsys
):
    from tests.support.scheduling import appointment_service, practitioner, slot

    consult = appointment_service()
    doctor = practitioner(consult)
    booking = book(services=[consult], slot=slot(doctor, at=(9, 0)))
    later = slot(doctor, at=(11, 0))
    moved = token_client(user).post(
        f"/api/booking/{booking.pk}/reschedule", {"slot_id": later.pk}, format="json"
    )
    assert moved.status_code == 200
    call_command("check_saga_invariants")  # sound after the move

    Booking.objects.filter(pk=booking.pk).update(
        appointment_start=booking.appointment_start, appointment_end=booking.appointment_end
    )  # the copy still shows the old time

    with pytest.raises(CommandError, match="1 invariant violation"):
        call_command("check_saga_invariants")
    assert "1 live place(s), not one at its time" in capsys.readouterr().err


# --- Cancellations ------------------------------------------------------------------


def cancelled_by_staff(book):
    """A booking cancelled by the clinic (everything back, whatever the hour)."""
    from portal.flows import cancel_booking

    booking = book(prices=("500.00",))
    cancel_booking(booking=booking, actor="reception1", by_staff=True, reason="doctor away")
    return booking


@pytest.mark.usefixtures("default_cancellation_policy")
def test_reports_a_refund_we_mark_refunded_that_the_gateway_never_made(book):
    from payments.models import SimulatedGatewayRefund
    from portal.ops.invariants import find_violations

    booking = cancelled_by_staff(book)
    assert find_violations() == []
    SimulatedGatewayRefund.objects.all().delete()  # the gateway's books have no refund

    assert find_violations() == [
        f"cancellation {booking.correlation_id}: refund of ₹500.00 marked refunded, "
        "but the gateway has no such refund"
    ]


@pytest.mark.usefixtures("default_cancellation_policy")
def test_reports_a_refund_the_gateway_made_for_another_amount(book):
    from payments.models import SimulatedGatewayRefund
    from portal.ops.invariants import find_violations

    booking = cancelled_by_staff(book)
    SimulatedGatewayRefund.objects.update(amount="400.00")

    found = find_violations()
    assert (
        f"cancellation {booking.correlation_id}: refund of ₹500.00 marked refunded, "
        "but the gateway refunded ₹400.00"
    ) in found


@pytest.mark.usefixtures("default_cancellation_policy")
def test_reports_a_cancellation_stuck_half_way_past_the_deadline(book, settings, capsys):
    from portal.ops.invariants import find_violations

    stuck = book(prices=("500.00",))
    fresh = book(prices=("500.00",))
    long_ago = timezone.now() - timedelta(seconds=settings.SAGA_HARD_DEADLINE_SECONDS + 60)
    # Requested (the winning UPDATE) but the saga never went on: still confirmed.
    Booking.objects.filter(pk=stuck.pk).update(cancellation_requested_at=long_ago)
    Booking.objects.filter(pk=fresh.pk).update(cancellation_requested_at=timezone.now())

    found = find_violations()

    assert len(found) == 1
    assert found[0].startswith(f"booking {stuck.pk}: cancellation requested at ")
    assert found[0].endswith("still confirmed past the saga deadline")
    with pytest.raises(CommandError, match="1 invariant violation"):
        call_command("check_saga_invariants")


@pytest.fixture
def booked_slot(book):
    from tests.support.scheduling import appointment_service, practitioner, slot

    consult = appointment_service()
    the_slot = slot(practitioner(consult), at=(9, 0), capacity=3)
    booking = book(services=[consult], slot=the_slot)
    assert booking.status == "confirmed"
    call_command("check_saga_invariants")  # sound as booked
    return booking, the_slot


@pytest.mark.parametrize("booked", [0, 2])
def test_reports_a_slot_whose_booked_count_is_not_its_live_bookings(booked_slot, capsys, booked):
    _, the_slot = booked_slot
    Slot.objects.filter(pk=the_slot.pk).update(booked=booked)
    with pytest.raises(CommandError, match="1 invariant violation"):
        call_command("check_saga_invariants")
    err = capsys.readouterr().err
    assert f"slot {the_slot.pk}: booked={booked}, live slot bookings=1, capacity=3" in err


def test_reports_a_released_place_still_counted(booked_slot, capsys):
    """The place given back (released_at set) but `booked` not lowered."""
    booking, the_slot = booked_slot
    SlotBooking.objects.filter(booking=booking).update(released_at=timezone.now())
    with pytest.raises(CommandError, match="invariant violation"):
        call_command("check_saga_invariants")
    err = capsys.readouterr().err
    assert f"slot {the_slot.pk}: booked=1, live slot bookings=0, capacity=3" in err


def test_booked_over_capacity_cannot_even_be_written(booked_slot):
    """booked > capacity is refused by the database's CHECK, so the checker never sees it."""
    _, the_slot = booked_slot
    with pytest.raises(IntegrityError), transaction.atomic():
        Slot.objects.filter(pk=the_slot.pk).update(capacity=0)


def test_reports_a_failed_booking_still_holding_a_place(book, capsys):
    from tests.support.scheduling import appointment_service, practitioner, slot

    consult = appointment_service()
    the_slot = slot(practitioner(consult), at=(9, 0), capacity=3)
    booking = book(services=[consult], slot=the_slot, payment_token="tok_chargeDeclined")
    assert booking.status == "failed"
    call_command("check_saga_invariants")  # its place was given back
    SlotBooking.objects.filter(booking=booking).update(released_at=None)
    Slot.objects.filter(pk=the_slot.pk).update(booked=1)  # counted, so only this is wrong

    with pytest.raises(CommandError, match="1 invariant violation"):
        call_command("check_saga_invariants")
    assert f"booking {booking.pk} is failed but still holds a place in a slot" in (
        capsys.readouterr().err
    )
