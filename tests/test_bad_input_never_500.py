"""Bad input is never a 500 (API.md, Errors): lone surrogates in JSON strings, and NUL
bytes, surrogates and junk in every admin changelist's query string."""

import json

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.test import RequestFactory
from django.urls import reverse

from bookings.models import Booking
from tests.support.admin_helpers import superuser
from tests.support.factories import ADULT_BIRTHDAY

LONE_SURROGATE = '"\\ud800"'  # a JSON escape: valid JSON syntax, not a Unicode string


def json_with(body: dict, field: str) -> str:
    """The body as JSON text with `field` set to a lone surrogate (json.dumps cannot)."""
    text = json.dumps({**body, field: "PLACEHOLDER"})
    return text.replace('"PLACEHOLDER"', LONE_SURROGATE)


REGISTRATION = {
    "username": "meera",
    "password": "saffron-lantern-42",
    "email": "meera@example.in",
    "full_name": "Meera Nair",
    "gender": "female",
    "date_of_birth": "1992-03-14",
}


def says_what_to_fix(response, field: str) -> None:
    """A 400 on that field (DRF's shape) that names the problem, not the input."""
    assert response.status_code == 400, response.content
    message = response.json()[field][0]
    assert "surrogate" in message


REGISTRATION_FIELDS = [
    "gender",
    "full_name",
    "username",
    "email",
    "password",
    "language",
    "phone",
    "date_of_birth",
    "unknown_field",  # a string no serializer reads is refused too
]


@pytest.mark.parametrize("field", REGISTRATION_FIELDS)
def test_a_lone_surrogate_in_registration_is_400(api, field):
    response = api.post(
        "/api/auth/register", json_with(REGISTRATION, field), content_type="application/json"
    )
    says_what_to_fix(response, field)
    assert not User.objects.filter(username="meera").exists()


@pytest.mark.parametrize("field", ["language", "full_name", "email", "phone"])
def test_a_lone_surrogate_in_a_profile_change_is_400(api, field):
    registered = api.post("/api/auth/register", REGISTRATION, format="json")
    api.credentials(HTTP_AUTHORIZATION=f"Token {registered.json()['token']}")
    before = api.get("/api/me").json()
    response = api.patch("/api/me", json_with({}, field), content_type="application/json")
    says_what_to_fix(response, field)
    assert api.get("/api/me").json() == before


BOOKING_FIELDS = [
    "gender",
    "patient_name",
    "payment_token",
    "date_of_birth",
    "expected_total",
    "visit_date",
    "service_ids",
]


@pytest.mark.parametrize("field", BOOKING_FIELDS)
def test_a_lone_surrogate_in_a_booking_is_400(patient_api, service_priced, field):
    body = {
        "patient_name": "Asha Verma",
        "gender": "female",
        "date_of_birth": ADULT_BIRTHDAY.isoformat(),
        "service_ids": [service_priced("500.00").pk],
    }
    response = patient_api.post(
        "/api/booking", json_with(body, field), content_type="application/json"
    )
    says_what_to_fix(response, field)
    assert not Booking.objects.exists()


def test_a_lone_surrogate_deep_inside_a_value_or_in_a_key_is_400(patient_api, service_priced):
    nested = '{"service_ids": [1, ["x", {"k": "a\\udfffb"}]], "gender": "female"}'
    response = patient_api.post("/api/booking", nested, content_type="application/json")
    says_what_to_fix(response, "service_ids")
    response = patient_api.post("/api/booking", '{"\\ud800": 1}', content_type="application/json")
    says_what_to_fix(response, "non_field_errors")
    response = patient_api.post("/api/booking", '["\\ud800"]', content_type="application/json")
    says_what_to_fix(response, "non_field_errors")
    assert not Booking.objects.exists()


def test_a_pair_of_surrogates_is_one_character_and_fine(api):
    body = json.dumps({**REGISTRATION, "full_name": "Meera \U0001f600"}, ensure_ascii=True)
    assert "\\ud83d\\ude00" in body
    response = api.post("/api/auth/register", body, content_type="application/json")
    assert response.status_code == 201, response.content


def test_a_lone_surrogate_in_a_login_is_400(api):
    body = json_with({"username": "x", "password": "y"}, "username")
    response = api.post("/api/auth/token", body, content_type="application/json")
    assert response.status_code == 400


# --- The admin ---------------------------------------------------------------

# Percent-encoded as a browser or an attacker would send them: a NUL, a lone surrogate
# in UTF-8 (CESU) form, bytes that are no UTF-8, and values of the wrong type or size.
JUNK_VALUES = [
    "%00",
    "a%00b",
    "%ED%A0%80",
    "%FF%FE",
    "%E2%80%AE",  # right-to-left override
    "-1",
    "99999999999999999999999",
    "2026-02-30",
    "'%20OR%201=1--",
    "x" * 300,
]


def changelists() -> list[tuple[str, type]]:
    return [
        (f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist", model)
        for model in admin.site._registry
    ]


def query_parameters(model, user) -> list[str]:
    """Every parameter a changelist reads: each list filter's, search, ordering, page."""
    model_admin = admin.site._registry[model]
    request = RequestFactory().get("/")
    request.user = user
    changelist = model_admin.get_changelist_instance(request)
    names = {"q", "o", "p", "e", "all"}
    for spec in changelist.filter_specs:
        names.update(spec.expected_parameters())
    return sorted(names)


@pytest.mark.parametrize(("name", "model"), changelists(), ids=lambda v: str(v).split(".")[-1])
def test_no_admin_changelist_query_string_is_a_500(client, book, name, model):
    book()  # a row on most lists
    user = superuser()
    client.force_login(user)
    client.raise_request_exception = False  # a 500 is counted, not raised
    url = reverse(name)
    parameters = query_parameters(model, user)
    failures = []
    for parameter in parameters:
        for value in JUNK_VALUES:
            response = client.get(f"{url}?{parameter}={value}")
            if response.status_code >= 500:
                failures.append((parameter, value, response.status_code))
    # A NUL in a parameter's name as well as its value.
    response = client.get(f"{url}?q%00=1")
    if response.status_code >= 500:
        failures.append(("q%00", "1", response.status_code))
    assert not failures, failures
    assert len(parameters) >= 4


def test_the_reported_nul_filter_is_a_400(client, db):
    client.force_login(superuser())
    response = client.get("/admin/bookings/booking/?status=%00")
    assert response.status_code == 400
    response = client.get("/admin/bookings/booking/?q=%00")
    assert response.status_code == 400


def test_a_nul_in_an_api_query_string_is_a_json_400(client, db):
    response = client.get("/api/services?x=%00")
    assert response.status_code == 400
    assert response.json() == {"detail": "The query string holds a NUL character."}


# Posted as a list action's selection: not ids, a NUL, out of every integer's range.
JUNK_SELECTIONS = ["abc", "1\x00", "\x00", "1.5", "99999999999999999999999", "x" * 300, ""]


def actions_of(model, user) -> list[str]:
    model_admin = admin.site._registry[model]
    request = RequestFactory().get("/")
    request.user = user
    return list(model_admin.get_actions(request))


@pytest.mark.parametrize(("name", "model"), changelists(), ids=lambda v: str(v).split(".")[-1])
def test_no_admin_action_post_with_a_junk_selection_is_a_500(client, book, name, model):
    """Every action of every registered changelist, posted as a superuser with a
    selection that cannot be its model's ids: a 4xx (or the admin's own answer), never
    a 500. `_selected_action=abc` was a 500 (ValueError) on most of them."""
    book()  # a row on most lists
    user = superuser()
    client.force_login(user)
    client.raise_request_exception = False  # a 500 is counted, not raised
    url = reverse(name)
    failures = []
    actions = actions_of(model, user)
    for action in actions or [""]:
        for junk in JUNK_SELECTIONS:
            for selection in ([junk], ["1", junk]):
                response = client.post(
                    url, {"action": action, "index": "0", "_selected_action": selection}
                )
                if response.status_code >= 500:
                    failures.append((action, selection, response.status_code))
    assert not failures, failures


def test_the_reported_junk_selection_is_a_400_saying_what_to_fix(client, db):
    client.force_login(superuser())
    for selection in ("abc", "\x00"):
        response = client.post(
            "/admin/auth/user/",
            {"action": "delete_selected", "index": "0", "_selected_action": selection},
        )
        assert response.status_code == 400
        assert b"not ids of this list" in response.content
    # Real ids still go through to the admin's confirmation page.
    user = superuser()
    response = client.post(
        "/admin/auth/user/",
        {"action": "delete_selected", "index": "0", "_selected_action": [str(user.pk)]},
    )
    assert response.status_code == 200
    assert b"Are you sure" in response.content
