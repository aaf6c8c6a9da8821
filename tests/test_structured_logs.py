"""Log lines are JSON, carry each saga step's ids, and never a patient's personal data."""

import io
import json
import logging
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from bookings import events
from bookings.models import Booking, SagaEvent
from clinic_site.log_format import JsonFormatter, SagaContextFilter
from tests.support.saga_hooks import delivery_stopped

pytestmark = pytest.mark.usefixtures("commits")

PATIENT_NAME = "Asha Verma"  # what the `book` fixture books for
DATE_OF_BIRTH = "1990-06-15"  # tests.support.factories.ADULT_BIRTHDAY


@pytest.fixture
def log_lines():
    """The lines the configured console handler (settings.LOGGING) writes, as parsed JSON."""
    console = next(h for h in logging.getLogger().handlers if h.name == "console")
    assert isinstance(console.formatter, JsonFormatter)
    assert any(isinstance(f, SagaContextFilter) for f in console.filters)
    buffer = io.StringIO()
    previous = console.setStream(buffer)

    def read() -> list[dict]:
        raw = buffer.getvalue()
        assert PATIENT_NAME not in raw and "Asha" not in raw
        assert DATE_OF_BIRTH not in raw and "15/06/1990" not in raw
        return [json.loads(line) for line in raw.splitlines()]  # every line is JSON

    yield read
    console.setStream(previous)


def saga_lines(lines: list[dict], booking: Booking) -> list[dict]:
    return [
        line
        for line in lines
        if line.get("correlation_id") == str(booking.correlation_id) and "event" in line
    ]


@pytest.mark.parametrize("token", ["tok_visa", "tok_chargeDeclined"])
def test_each_saga_step_writes_one_line_with_its_ids_and_no_personal_data(book, log_lines, token):
    booking = book(prices=("2500.00",), payment_token=token)

    lines = saga_lines(log_lines(), booking)

    trail = list(
        SagaEvent.objects.filter(correlation_id=booking.correlation_id)
        .order_by("sequence")
        .values_list("event_type", flat=True)
    )
    assert [line["event"] for line in lines] == trail
    assert all(line["booking_id"] == str(booking.pk) for line in lines)
    assert all(line["step"] for line in lines)
    assert {line["logger"] for line in lines} == {"saga"}
    steps = {line["event"]: line["step"] for line in lines}
    assert steps["PricingCalculated"] == "pricing"
    assert steps["DiscountQuotaReserved"] == "quotas.reserve"


def test_resumed_sagas_log_their_ids(book, log_lines, settings):
    with delivery_stopped(events.PricingCalculated):
        booking = book(prices=("2500.00",))
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Booking.objects.filter(pk=booking.pk).update(created_at=an_hour_ago, updated_at=an_hour_ago)
    settings.SAGA_TIMEOUT_SECONDS = 60
    settings.SAGA_HARD_DEADLINE_SECONDS = 10**6

    call_command("resume_sagas", stdout=io.StringIO())

    lines = [
        line for line in log_lines() if line.get("correlation_id") == str(booking.correlation_id)
    ]
    recovery = [line for line in lines if line["logger"] == "saga.recovery"]
    assert [(line["step"], line["event"]) for line in recovery] == [
        ("recovery.resumed", "PricingCalculated")
    ]
    resumed_events = [line["event"] for line in lines if line["logger"] == "saga"]
    assert resumed_events[-4:] == [
        "DiscountQuotaReserved",
        "PaymentCompleted",
        "BookingConfirmed",
        "ReceiptIssued",
    ]
    assert all(line["booking_id"] == str(booking.pk) for line in lines)


def test_extra_fields_outside_the_allow_list_never_reach_the_line():
    record = logging.LogRecord("saga", logging.INFO, __file__, 1, "hello", None, None)
    record.patient_name = PATIENT_NAME
    record.correlation_id = "abc"

    line = json.loads(JsonFormatter().format(record))

    assert line["correlation_id"] == "abc"
    assert PATIENT_NAME not in json.dumps(line)
