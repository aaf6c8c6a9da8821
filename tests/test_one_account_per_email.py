"""Issue 22: one account per e-mail address, case-insensitively, held by the database (a
unique index on lower(email), blanks left out), said as a clear 400 or form error by
every door that sets an address; existing duplicates handled by the migration."""

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from rest_framework.test import APIClient

from bookings.models import AuditLog
from tests.support.admin_helpers import superuser
from tests.support.factories import UserFactory
from tests.support.racing import outcomes_at_once

TAKEN = "An account with this e-mail address already exists; log in or reset its password."

REGISTRATION = {
    "username": "meera",
    "password": "saffron-lantern-42",
    "email": "meera@example.in",
    "full_name": "Meera Nair",
    "gender": "female",
    "date_of_birth": "1992-03-14",
}


@pytest.fixture(autouse=True)
def generous_throttles(settings):
    settings.THROTTLE_REGISTER_RATE = "1000/minute"
    settings.SIGNUP_RATE = "1000/hour"


def register(**changes):
    return APIClient().post("/api/auth/register", {**REGISTRATION, **changes}, format="json")


@pytest.mark.django_db
def test_the_api_refuses_a_second_account_for_an_address_in_any_case():
    assert register().status_code == 201
    again = register(username="meera2", email="Meera@Example.IN")
    assert again.status_code == 400
    assert again.json() == {"email": [TAKEN]}
    assert User.objects.filter(email__iexact="meera@example.in").count() == 1


@pytest.mark.django_db
def test_the_sign_up_page_says_the_address_has_an_account(client):
    UserFactory(email="asha@example.in")
    page = client.post(
        "/accounts/signup/",
        {
            **REGISTRATION,
            "email": "ASHA@example.in",
            "password_again": REGISTRATION["password"],
        },
    )
    assert page.status_code == 200  # the form again
    assert page.context["form"].errors["email"] == [TAKEN]
    assert not User.objects.filter(username="meera").exists()


@pytest.mark.django_db
def test_the_sign_up_page_says_it_in_hindi(client):
    UserFactory(email="asha@example.in")
    client.cookies["django_language"] = "hi"
    page = client.post(
        "/accounts/signup/",
        {**REGISTRATION, "email": "asha@example.in", "password_again": REGISTRATION["password"]},
        HTTP_ACCEPT_LANGUAGE="hi",
    )
    assert page.context["form"].errors["email"] == [
        "इस ई-मेल पते से एक खाता पहले से है; लॉग इन करें या उसका पासवर्ड रीसेट करें।"
    ]


@pytest.mark.django_db
def test_changing_to_a_taken_address_is_a_400_and_ones_own_in_another_case_is_fine():
    UserFactory(email="taken@example.in")
    token = register().json()["token"]
    api = APIClient(HTTP_AUTHORIZATION=f"Token {token}")
    refused = api.patch("/api/me", {"email": "TAKEN@example.in"}, format="json")
    assert refused.status_code == 400
    assert refused.json() == {"email": [TAKEN]}
    own = api.patch("/api/me", {"email": "MEERA@example.in"}, format="json")
    assert own.status_code == 200
    assert own.json()["email"] == "MEERA@example.in"


@pytest.mark.django_db
def test_the_admin_account_page_says_the_address_is_taken(client):
    UserFactory(email="taken@example.in")
    other = UserFactory(email="other@example.in")
    client.force_login(superuser())
    form = client.get(f"/admin/auth/user/{other.pk}/change/").context["adminform"].form
    data = {
        name: field.initial if not callable(field.initial) else field.initial()
        for name, field in form.fields.items()
        if field.initial is not None
    }
    data.update(
        username=other.username,
        email="Taken@Example.in",
        date_joined_0="2026-01-01",
        date_joined_1="10:00:00",
    )
    data = {key: value for key, value in data.items() if key not in ("password", "groups")}
    response = client.post(f"/admin/auth/user/{other.pk}/change/", data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["email"] == [TAKEN]
    other.refresh_from_db()
    assert other.email == "other@example.in"


@pytest.mark.django_db
def test_the_database_holds_it_and_blank_addresses_are_left_out():
    UserFactory(email="one@example.in")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="sneaky", email="ONE@example.in")
    User.objects.create(username="desk-919800000001", email="")
    User.objects.create(username="desk-919800000002", email="")  # phone-only accounts


CASES = ("race@example.in", "Race@EXAMPLE.in")


@pytest.mark.django_db(transaction=True)
def test_sign_ups_with_one_address_at_the_same_instant_make_one_account():
    """Eight registrations of one address (different usernames and cases) released at
    once: the unique index settles it; exactly one 201, the rest a 400 on email."""
    answers = outcomes_at_once(
        [(lambda n=n: register(username=f"racer{n}", email=CASES[n % 2])) for n in range(8)]
    )
    codes = sorted(answer.status_code for answer in answers)
    assert codes == [201] + [400] * 7
    assert all(a.json() == {"email": [TAKEN]} for a in answers if a.status_code == 400)
    assert User.objects.filter(email__iexact="race@example.in").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_the_oldest_accounts_address_and_clears_the_rest():
    executor = MigrationExecutor(connection)
    executor.migrate([("bookings", "0017_cancellation_request_key")])
    first = User.objects.create(username="first", email="dup@example.in")
    second = User.objects.create(username="second", email="DUP@example.in")
    third = User.objects.create(username="third", email="dup@EXAMPLE.in")
    User.objects.create(username="alone", email="alone@example.in")
    blank = [User.objects.create(username=f"desk{n}", email="") for n in range(2)]

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    emails = {u.username: u.email for u in User.objects.all()}
    assert emails["first"] == "dup@example.in"
    assert (emails["second"], emails["third"]) == ("", "")
    assert emails["alone"] == "alone@example.in"
    assert all(emails[u.username] == "" for u in blank)
    cleared = AuditLog.objects.filter(action="account.duplicate_email_cleared").order_by(
        "object_id"
    )
    assert [(e.object_id, e.before, e.after) for e in cleared] == [
        (str(u.pk), {"email": u.email}, {"email": "", "address_kept_by_user_id": first.pk})
        for u in (second, third)
    ]
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="fourth", email="Dup@example.in")
