"""API.md, Accounts: POST /api/auth/logout revokes the token it was sent with, and a
password set anywhere (web change, reset link, admin, shell) revokes every token."""

import re

import pytest
from django.core import mail
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.support.admin_helpers import superuser
from tests.support.factories import UserFactory

LOGOUT = "/api/auth/logout"
PASSWORD = "correct-horse-battery-staple"
NEW_PASSWORD = "another-long-passphrase"


@pytest.fixture
def patient(db):
    return UserFactory()


def client_with_token(user) -> tuple[APIClient, str]:
    key = Token.objects.get_or_create(user=user)[0].key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client, key


def test_logout_is_204_and_the_token_is_401_afterwards(patient):
    client, key = client_with_token(patient)
    response = client.post(LOGOUT)
    assert response.status_code == 204
    assert response.content == b""
    assert not Token.objects.filter(key=key).exists()
    assert client.get("/api/booking").status_code == 401
    assert client.post(LOGOUT).status_code == 401


def test_logout_without_credentials_is_401(db):
    assert APIClient().post(LOGOUT).status_code == 401


def test_logout_only_accepts_post(patient):
    client, key = client_with_token(patient)
    assert client.get(LOGOUT).status_code == 405
    assert Token.objects.filter(key=key).exists()


def test_logout_leaves_other_users_tokens_alone(patient):
    client, _ = client_with_token(patient)
    _, others = client_with_token(UserFactory())
    client.post(LOGOUT)
    assert Token.objects.filter(key=others).exists()


def test_a_new_login_after_logout_gets_a_fresh_working_token(patient):
    client, old = client_with_token(patient)
    client.post(LOGOUT)
    fresh = APIClient().post(
        "/api/auth/token", {"username": patient.username, "password": PASSWORD}, format="json"
    )
    assert fresh.status_code == 200
    assert fresh.json()["token"] != old
    client.credentials(HTTP_AUTHORIZATION=f"Token {fresh.json()['token']}")
    assert client.get("/api/booking").status_code == 200


def test_the_web_password_change_revokes_every_token(client, patient):
    api, key = client_with_token(patient)
    client.force_login(patient)
    response = client.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert not Token.objects.filter(user=patient).exists()
    assert api.get("/api/booking").status_code == 401


def test_a_password_reset_revokes_every_token(client, patient):
    api, _ = client_with_token(patient)
    client.post("/accounts/password_reset/", {"email": patient.email})
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    form_url = client.get(link).url
    client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    patient.refresh_from_db()
    assert patient.check_password(NEW_PASSWORD)
    assert api.get("/api/booking").status_code == 401


def test_a_password_set_by_an_admin_revokes_every_token(client, patient):
    api, _ = client_with_token(patient)
    client.force_login(superuser())
    response = client.post(
        f"/admin/auth/user/{patient.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302
    assert api.get("/api/booking").status_code == 401


def test_a_password_set_in_code_revokes_every_token(patient):
    api, _ = client_with_token(patient)
    patient.set_password(NEW_PASSWORD)
    patient.save()
    assert api.get("/api/booking").status_code == 401


def test_saving_a_user_without_a_new_password_keeps_the_token(patient):
    api, _ = client_with_token(patient)
    patient.first_name = "Asha"
    patient.save()
    assert patient.check_password(PASSWORD)  # a hash upgrade on login is no password change
    assert api.get("/api/booking").status_code == 200


REVOCATION_HELP = b"signs the mobile app out"


def test_the_revocation_line_shows_where_a_password_is_changed_not_where_one_is_first_set(
    client, patient
):
    """Forms that change a password say it signs the app out; forms that set an account's
    first password (sign-up, the admin's "Add user") do not: there is no token yet."""
    admin_user = superuser()
    client.force_login(admin_user)
    add_user = client.get("/admin/auth/user/add/")
    assert add_user.status_code == 200
    assert REVOCATION_HELP not in add_user.content
    assert b"at least 8 characters" in add_user.content  # the rules themselves stay
    for changing in (
        "/accounts/password_change/",
        "/admin/password_change/",
        f"/admin/auth/user/{patient.pk}/password/",
    ):
        assert REVOCATION_HELP in client.get(changing).content, changing
    client.logout()
    assert REVOCATION_HELP not in client.get("/accounts/signup/").content
