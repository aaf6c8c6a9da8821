"""start_booking refuses bad input before anything is written."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError

from bookings.models import Booking, SagaEvent
from bookings.services import register_patient
from portal.flows import start_booking
from tests.support.factories import ADULT_BIRTHDAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def valid(user, service_priced):
    return {
        "user": user,
        "patient_name": "Asha Verma",
        "gender": "female",
        "date_of_birth": ADULT_BIRTHDAY,
        "service_ids": [service_priced("500.00").pk],
        "payment_token": "tok_visa",
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("patient_name", "   ", "patient's name"),
        ("patient_name", "x" * 121, "patient's name"),
        ("gender", "unknown", "Must be one of"),
        ("date_of_birth", date.today() + timedelta(days=2), "past date"),
        ("date_of_birth", date(1800, 1, 1), "130 years"),
        ("service_ids", [], "between 1 and 10"),
        ("service_ids", [999999], "No active service with id 999999"),
        ("payment_token", "tok_unknown", "Unknown payment token"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_written(valid, field, value, message):
    with pytest.raises(ValidationError, match=message) as refused:
        start_booking(**{**valid, field: value})
    assert field in refused.value.message_dict
    assert not Booking.objects.exists()
    assert not SagaEvent.objects.exists()


def test_a_service_chosen_twice_is_refused(valid):
    with pytest.raises(ValidationError, match="only once"):
        start_booking(**{**valid, "service_ids": valid["service_ids"] * 2})


def test_an_inactive_service_cannot_be_booked(valid, service_priced):
    retired = service_priced("500.00", active=False)
    with pytest.raises(ValidationError, match=f"No active service with id {retired.pk}"):
        start_booking(**{**valid, "service_ids": [retired.pk]})


def test_registering_a_patient_creates_the_profile():
    user = register_patient(
        username="asha",
        password="a-long-unusual-passphrase",
        email="asha@example.in",
        full_name="Asha Verma",
        gender="female",
        date_of_birth=ADULT_BIRTHDAY,
    )
    assert user.check_password("a-long-unusual-passphrase")
    assert user.patient_profile.full_name == "Asha Verma"


@pytest.mark.parametrize(
    ("username", "password"),
    [("asha", "a-long-unusual-passphrase"), ("other", "password")],
)
def test_registration_refuses_a_taken_username_or_weak_password(username, password):
    register_patient(
        username="asha",
        password="a-long-unusual-passphrase",
        email="asha@example.in",
        full_name="Asha Verma",
        gender="female",
        date_of_birth=ADULT_BIRTHDAY,
    )
    with pytest.raises(ValidationError):
        register_patient(
            username=username.upper(),
            password=password,
            email="x@example.in",
            full_name="Someone",
            gender="male",
            date_of_birth=ADULT_BIRTHDAY,
        )
