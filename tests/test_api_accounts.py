"""API.md, Accounts: registration and token login."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from bookings.models import PatientProfile
from bookings.services import clinic_today

REGISTER = "/api/auth/register"
TOKEN = "/api/auth/token"


def registration(**changes):
    body = {
        "username": "meera",
        "password": "saffron-lantern-42",
        "email": "meera@example.in",
        "full_name": "Meera Nair",
        "gender": "female",
        "date_of_birth": "1992-03-14",
    }
    body.update(changes)
    return body


def test_register_creates_the_account_profile_and_token(api):
    response = api.post(REGISTER, registration(), format="json")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "username", "token"}
    user = get_user_model().objects.get(pk=body["id"])
    assert body["username"] == user.username == "meera"
    assert Token.objects.get(user=user).key == body["token"]
    profile = PatientProfile.objects.get(user=user)
    assert (profile.full_name, profile.gender, str(profile.date_of_birth)) == (
        "Meera Nair",
        "female",
        "1992-03-14",
    )
    assert user.check_password("saffron-lantern-42")


def test_the_registration_token_authenticates(api):
    token = api.post(REGISTER, registration(), format="json").json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/booking").status_code == 200


def test_register_refuses_a_taken_username(api, user):
    response = api.post(REGISTER, registration(username=user.username.upper()), format="json")
    assert response.status_code == 400
    assert "taken" in response.json()["username"][0]


def test_register_refuses_a_weak_password(api):
    response = api.post(REGISTER, registration(password="12345678"), format="json")
    assert response.status_code == 400
    assert response.json()["password"]  # Django's validators say why
    assert not get_user_model().objects.filter(username="meera").exists()


@pytest.mark.parametrize(
    "field, value",
    [
        ("gender", "unknown"),
        ("email", "not-an-email"),
        ("full_name", ""),
        ("username", "bad name!"),
        ("date_of_birth", "14/03/1992"),
    ],
)
def test_register_refuses_a_bad_field(api, field, value):
    response = api.post(REGISTER, registration(**{field: value}), format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_register_refuses_a_birth_date_in_the_future(api):
    tomorrow = (clinic_today() + timedelta(days=1)).isoformat()
    response = api.post(REGISTER, registration(date_of_birth=tomorrow), format="json")
    assert response.status_code == 400
    assert "past" in response.json()["date_of_birth"][0]


def test_register_refuses_missing_fields_naming_each(api):
    response = api.post(REGISTER, {}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {
        "username",
        "password",
        "email",
        "full_name",
        "gender",
        "date_of_birth",
    }


def test_token_login_answers_the_accounts_token(api, user):
    response = api.post(
        TOKEN,
        {"username": user.username, "password": "correct-horse-battery-staple"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user=user).key}


def test_token_login_gives_the_same_token_each_time(api, user):
    credentials = {"username": user.username, "password": "correct-horse-battery-staple"}
    first = api.post(TOKEN, credentials, format="json").json()["token"]
    assert api.post(TOKEN, credentials, format="json").json()["token"] == first


def test_token_login_refuses_wrong_credentials_with_400(api, user):
    response = api.post(TOKEN, {"username": user.username, "password": "wrong"}, format="json")
    assert response.status_code == 400
    assert response.json()["non_field_errors"]
    assert not Token.objects.filter(user=user).exists()


def test_token_login_refuses_an_inactive_account(api, user):
    user.is_active = False
    user.save()
    credentials = {"username": user.username, "password": "correct-horse-battery-staple"}
    assert api.post(TOKEN, credentials, format="json").status_code == 400


def test_an_invalid_token_is_401_even_on_a_public_endpoint(api):
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = api.get("/api/services")
    assert response.status_code == 401


@pytest.mark.parametrize(
    "header", ["Token abc\x00def", "Token " + "g" * 40, "Token " + "A" * 40, "Token  ", "Token a b"]
)
def test_a_malformed_token_is_401(api, header):
    api.credentials(HTTP_AUTHORIZATION=header)
    response = api.get("/api/booking")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_registration_is_throttled_with_retry_after(api, settings):
    settings.THROTTLE_REGISTER_RATE = "2/hour"
    for n in range(2):
        response = api.post(
            REGISTER,
            registration(username=f"meera{n}", email=f"meera{n}@example.in"),  # one per address
            format="json",
        )
        assert response.status_code == 201
    response = api.post(
        REGISTER, registration(username="meera9", email="meera9@example.in"), format="json"
    )
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert not get_user_model().objects.filter(username="meera9").exists()


def test_login_is_throttled_with_retry_after(api, user, settings):
    settings.THROTTLE_LOGIN_RATE = "3/minute"
    for _ in range(3):
        response = api.post(TOKEN, {"username": user.username, "password": "x"}, format="json")
        assert response.status_code == 400
    response = api.post(
        TOKEN,
        {"username": user.username, "password": "correct-horse-battery-staple"},
        format="json",
    )
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0


def test_a_forged_forwarded_for_header_does_not_dodge_the_login_throttle(api, user, settings):
    settings.THROTTLE_LOGIN_RATE = "2/minute"
    for n in range(2):
        api.post(
            TOKEN,
            {"username": user.username, "password": "x"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
        )
    response = api.post(
        TOKEN,
        {"username": user.username, "password": "x"},
        format="json",
        HTTP_X_FORWARDED_FOR="203.0.113.99",
    )
    assert response.status_code == 429
