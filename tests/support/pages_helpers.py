"""Shared set-up for the patient page tests."""

from bookings.models import PatientProfile
from tests.support.factories import ADULT_BIRTHDAY

VISA = "4242 4242 4242 4242"
DECLINED = "4000 0000 0000 0002"
INSUFFICIENT = "4000 0000 0000 9995"


def give_profile(user, *, gender: str = "female", full_name: str = "Asha Verma"):
    return PatientProfile.objects.create(
        user=user, full_name=full_name, gender=gender, date_of_birth=ADULT_BIRTHDAY
    )


def details(*services, **overrides) -> dict:
    data = {
        "services": [str(s.pk) for s in services],
        "patient_name": "Asha Verma",
        "gender": "female",
        "date_of_birth": ADULT_BIRTHDAY.isoformat(),
    }
    data.update(overrides)
    return data


def request_key_from(response) -> str:
    return str(response.context["form"]["request_key"].value())


def expected_total_from(response) -> str:
    """The price the review page showed, which its payment form sends back."""
    return str(response.context["form"]["expected_total"].value())
