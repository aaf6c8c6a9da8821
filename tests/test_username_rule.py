"""Issue 12, item 12: one username rule for web sign-up and API registration (and the
service both call): letters, digits and . @ + - _ as the API has always accepted; no
spaces, colons, zero-width or direction-changing characters."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from bookings.services import register_patient
from tests.support.factories import ADULT_BIRTHDAY

REFUSED = [
    "zero\u200bwidth",  # zero-width space
    "join\u200dme",  # zero-width joiner
    "two words",
    "system:payments",
    "evil\u202egnp.exe",  # right-to-left override
    "bom\ufeff",
    "tab\tbed",
    "",
]
ACCEPTED = ["asha", "asha.verma", "asha+clinic@example.in", "asha_v-2", "अमन", "Åsa"]


def web_signup(client, username: str):
    return client.post(
        "/accounts/signup/",
        {
            "username": username,
            "email": "someone@example.in",
            "full_name": "Some One",
            "gender": "female",
            "date_of_birth": "1990-01-01",
            "password": "saffron-lantern-42",
            "password_again": "saffron-lantern-42",
        },
    )


def api_register(api, username: str):
    return api.post(
        "/api/auth/register",
        {
            "username": username,
            "password": "saffron-lantern-42",
            "email": "someone@example.in",
            "full_name": "Some One",
            "gender": "female",
            "date_of_birth": "1990-01-01",
        },
        format="json",
    )


@pytest.mark.django_db
@pytest.mark.parametrize("username", REFUSED)
def test_web_sign_up_refuses_what_the_api_refuses(client, api, username):
    page = web_signup(client, username)
    assert page.status_code == 200
    assert "username" in page.context["form"].errors
    assert api_register(api, username).status_code == 400
    assert not get_user_model().objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("username", ACCEPTED)
def test_both_doors_accept_what_the_api_accepted(client, api, username):
    assert web_signup(client, username).status_code == 302
    client.logout()
    get_user_model().objects.all().delete()
    assert api_register(api, username).status_code == 201


@pytest.mark.django_db
@pytest.mark.parametrize("username", [u for u in REFUSED if u])
def test_the_service_itself_refuses_them(username):
    with pytest.raises(ValidationError) as refused:
        register_patient(
            username=username,
            password="saffron-lantern-42",
            email="someone@example.in",
            full_name="Some One",
            gender="female",
            date_of_birth=ADULT_BIRTHDAY,
        )
    assert "username" in refused.value.message_dict
