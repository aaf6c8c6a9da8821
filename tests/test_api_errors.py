"""API.md, Errors: bad bodies are 400 or 415 in DRF's shapes, never a 500."""

import json

import pytest

from bookings.models import Booking
from tests.support.bodies import booking_body

ENDPOINTS_WITH_BODIES = [
    ("post", "/api/auth/register"),
    ("post", "/api/auth/token"),
    ("post", "/api/booking"),
    ("put", "/api/admin/quota"),
]


@pytest.fixture
def staff_api(token_client):
    from tests.support.admin_helpers import staff_member

    return token_client(staff_member("Reception"))


def send_raw(client, method, path, content, content_type="application/json"):
    return getattr(client, method)(path, data=content, content_type=content_type)


@pytest.mark.parametrize("method, path", ENDPOINTS_WITH_BODIES)
def test_malformed_json_is_400_with_a_detail(staff_api, method, path):
    response = send_raw(staff_api, method, path, '{"username": "meera",')
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


@pytest.mark.parametrize("method, path", ENDPOINTS_WITH_BODIES)
def test_a_json_array_is_400_for_the_whole_body(staff_api, method, path):
    response = send_raw(staff_api, method, path, "[1, 2, 3]")
    assert response.status_code == 400
    assert "Expected a dictionary" in response.json()["non_field_errors"][0]


@pytest.mark.parametrize("method, path", ENDPOINTS_WITH_BODIES)
def test_a_form_encoded_body_is_415(staff_api, method, path):
    response = send_raw(
        staff_api, method, path, "limit=5", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert "Unsupported media type" in response.json()["detail"]


@pytest.mark.parametrize("method, path", ENDPOINTS_WITH_BODIES)
def test_a_multipart_body_is_415(staff_api, method, path):
    response = getattr(staff_api, method)(path, {"limit": "5"}, format="multipart")
    assert response.status_code == 415


@pytest.mark.parametrize("method, path", ENDPOINTS_WITH_BODIES)
def test_json_nested_thousands_deep_is_400(staff_api, method, path):
    response = send_raw(staff_api, method, path, "[" * 100_000 + "]" * 100_000)
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_standard_json_numbers_are_400(staff_api, constant):
    response = send_raw(staff_api, "put", "/api/admin/quota", f'{{"limit": {constant}}}')
    assert response.status_code == 400


def test_a_body_over_the_upload_limit_is_400(staff_api):
    huge = json.dumps({"limit": 1, "padding": "x" * 3_000_000})
    response = send_raw(staff_api, "put", "/api/admin/quota", huge)
    assert response.status_code == 400
    assert "too large" in response.json()["detail"]


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"service_ids": [10**30]}, "service_ids"),
        ({"service_ids": [2**31]}, "service_ids"),
        ({"service_ids": [-1]}, "service_ids"),
        ({"service_ids": [1.5]}, "service_ids"),
        ({"service_ids": ["abc"]}, "service_ids"),
        ({"service_ids": [[1]]}, "service_ids"),
        ({"service_ids": {"a": 1}}, "service_ids"),
        ({"service_ids": None}, "service_ids"),
        ({"patient_name": "x" * 100_000}, "patient_name"),
        ({"patient_name": "Asha\x00Verma"}, "patient_name"),
        ({"patient_name": "Asha \ud800"}, "patient_name"),
        ({"patient_name": ["Asha"]}, "patient_name"),
        ({"patient_name": {"first": "Asha"}}, "patient_name"),
        ({"gender": ["female"]}, "gender"),
        ({"gender": None}, "gender"),
        ({"date_of_birth": "0000-01-01"}, "date_of_birth"),
        ({"date_of_birth": "99999-01-01"}, "date_of_birth"),
        ({"date_of_birth": 19900101}, "date_of_birth"),
        ({"payment_token": "t" * 65}, "payment_token"),
        ({"payment_token": "tok_\x00"}, "payment_token"),
        ({"payment_token": None}, "payment_token"),
    ],
)
def test_hostile_or_wrongly_typed_booking_fields_are_400(
    patient_api, service_priced, changes, field
):
    # json.dumps escapes what the test client could not encode (a lone surrogate).
    body = json.dumps(booking_body(service_priced("500.00"), **changes))
    response = send_raw(patient_api, "post", "/api/booking", body)
    assert response.status_code == 400
    assert field in response.json()
    assert Booking.objects.count() == 0


@pytest.mark.parametrize(
    "changes",
    [
        {"username": "x" * 10_000},
        {"username": "meera\x00"},
        {"email": "a" * 300 + "@example.in"},
        {"password": "p" * 10_000},
        {"full_name": "x" * 121},
        {"date_of_birth": "1992-02-30"},
    ],
)
def test_hostile_registration_fields_are_400(api, changes):
    body = {
        "username": "meera",
        "password": "saffron-lantern-42",
        "email": "meera@example.in",
        "full_name": "Meera Nair",
        "gender": "female",
        "date_of_birth": "1992-03-14",
        **changes,
    }
    response = api.post("/api/auth/register", body, format="json")
    assert response.status_code == 400
    assert set(response.json()) == set(changes)


@pytest.mark.parametrize(
    "path",
    [
        "/api/booking",
        "/api/booking/3f1c6a52-0000-4000-8000-000000000000/status",
        "/api/auth/register",
        "/api/auth/token",
        "/api/services",
        "/api/config/discount",
        "/api/quota/status",
        "/api/admin/quota",
        "/healthz",
    ],
)
def test_options_is_405_everywhere(staff_api, path):
    response = staff_api.options(path)
    assert response.status_code == 405


@pytest.mark.parametrize(
    "method, path",
    [
        ("put", "/api/booking"),
        ("patch", "/api/booking"),
        ("delete", "/api/booking/3f1c6a52-0000-4000-8000-000000000000/status"),
        ("get", "/api/auth/register"),
        ("get", "/api/auth/token"),
        ("post", "/api/services"),
        ("delete", "/api/config/discount"),
        ("post", "/api/quota/status"),
        ("get", "/api/admin/quota"),
        ("post", "/healthz"),
    ],
)
def test_a_method_an_endpoint_lacks_is_405(staff_api, method, path):
    assert getattr(staff_api, method)(path).status_code == 405


def test_an_unknown_api_path_is_404(api):
    assert api.get("/api/nothing-here").status_code == 404


def test_an_empty_body_is_400_naming_the_missing_fields(patient_api):
    response = send_raw(patient_api, "post", "/api/booking", "")
    assert response.status_code == 400
    assert {"patient_name", "gender", "date_of_birth", "service_ids"} <= set(response.json())
