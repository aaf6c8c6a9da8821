"""A receiver that raises is called once more before its step counts as failed."""

from importlib import import_module

import pytest
from django.db import OperationalError

import confirmations.services
import pricing.services
from bookings.models import BookingStatus, SagaEvent
from payments.models import SimulatedGatewayCharge
from tests.support.recovery_checks import assert_all_sound, assert_ended_soundly

pytestmark = pytest.mark.usefixtures("commits")

ELIGIBLE = ("2500.00",)  # above ₹1000: takes one of the day's discounts


def fails_first_time(monkeypatch, module, name: str) -> list[str]:
    """Make `module.name` raise on its first call only, as a database blip would."""
    real = getattr(module, name)
    calls: list[str] = []

    def flaky(**kwargs):
        calls.append(name)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(**kwargs)

    monkeypatch.setattr(module, name, flaky)
    return calls


def compensated(booking) -> bool:
    return SagaEvent.objects.filter(
        correlation_id=booking.correlation_id, event_type="CompensationTriggered"
    ).exists()


@pytest.mark.parametrize(
    ("module_path", "name"),
    [
        ("pricing.services", "calculate_price"),
        ("quotas.services", "reserve_discount"),
        ("payments.services", "charge_booking"),
        ("confirmations.services", "confirm_booking"),
    ],
)
def test_a_step_that_fails_once_is_done_on_the_second_try_and_the_booking_confirmed(
    book, monkeypatch, module_path, name
):
    calls = fails_first_time(monkeypatch, import_module(module_path), name)

    booking = book(prices=ELIGIBLE)

    assert calls == [name, name]
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.discount_applied
    assert not compensated(booking)
    assert SimulatedGatewayCharge.objects.count() == 1
    assert_all_sound()


@pytest.mark.parametrize(
    ("module_path", "name"),
    [("quotas.services", "release_discount"), ("payments.services", "reverse_payment")],
)
def test_an_undo_that_fails_once_is_done_at_once_not_left_for_recovery(
    book, monkeypatch, settings, module_path, name
):
    calls = fails_first_time(monkeypatch, import_module(module_path), name)

    # A failure after the charge: both the discount and the money must be given back.
    def confirmation_breaks(**_):
        raise RuntimeError("confirmation cannot complete")

    monkeypatch.setattr(confirmations.services, "confirm_booking", confirmation_breaks)
    settings.SAGA_RERAISE_RECEIVER_ERRORS = False  # as in production

    booking = book(prices=ELIGIBLE)

    assert calls == [name, name]
    assert booking.status == BookingStatus.FAILED
    assert_ended_soundly(booking)  # nothing held, without resume_sagas
    assert_all_sound()


def test_a_step_that_keeps_failing_is_compensated_after_its_second_try(book, monkeypatch, settings):
    settings.SAGA_RERAISE_RECEIVER_ERRORS = False  # as in production
    calls = []

    def always_fails(**_):
        calls.append("calculate_price")
        raise RuntimeError("a bug, not a blip")

    monkeypatch.setattr(pricing.services, "calculate_price", always_fails)

    booking = book(prices=ELIGIBLE)

    assert len(calls) == 2
    assert booking.status == BookingStatus.FAILED
    assert booking.failure_reason == "internal_error in pricing"
    assert_all_sound()
