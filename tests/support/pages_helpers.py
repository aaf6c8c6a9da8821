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


def fill_sign_up(
    page, *, email: str = "meera@example.in", password: str = "a-long-unusual-passphrase"
) -> None:
    """Fill the sign-up page for Meera Nair (a browser test's new patient); not sent."""
    page.get_by_label("Username").fill("meera")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Full name").fill("Meera Nair")
    page.get_by_label("Gender").select_option("female")
    page.get_by_label("Date of birth").fill("1992-03-14")
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Password (again)").fill(password)
