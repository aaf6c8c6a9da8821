"""Answers a browser or a proxy must handle safely: JSON 404s under /api/, no caching of
personal data, a Content-Security-Policy everywhere, and gunicorn trusting only
X-Forwarded-Proto, only from the proxies it is told of."""

import importlib.util
import os
from pathlib import Path

import pytest

from tests.support.admin_helpers import superuser

GUNICORN_CONF = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"


@pytest.mark.parametrize(
    "path", ["/api/nope", "/api/booking/x/status/extra", "/api/auth/", "/api/schema/nope"]
)
def test_an_unknown_api_address_is_a_json_404(client, db, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_an_unknown_page_is_still_the_html_404(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_api_answers_with_personal_data_are_not_stored(patient_api, book, user, api):
    booking = book()
    for path in ("/api/booking", f"/api/booking/{booking.pk}/status"):
        response = patient_api.get(path)
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"], path
    login = api.post(
        "/api/auth/token",
        {"username": user.username, "password": "correct-horse-battery-staple"},
        format="json",
    )
    assert "no-store" in login["Cache-Control"]


def test_a_booking_answer_is_not_stored(patient_api, service_priced):
    from tests.support.factories import ADULT_BIRTHDAY

    response = patient_api.post(
        "/api/booking",
        {
            "patient_name": "Asha Verma",
            "gender": "female",
            "date_of_birth": ADULT_BIRTHDAY.isoformat(),
            "service_ids": [service_priced("500.00").pk],
        },
        format="json",
    )
    assert response.status_code == 201
    assert "no-store" in response["Cache-Control"]


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = [part.strip().split() for part in header.split(";") if part.strip()]
    return {name: values for name, *values in directives}


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/accounts/signup/", "/healthz"])
def test_patient_pages_have_a_strict_content_security_policy(client, db, path):
    csp = policy(client.get(path))
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]  # no inline script, no other origin
    assert csp["style-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]


@pytest.mark.parametrize("path", ["/admin/", "/admin/bookings/booking/", "/api/docs/"])
def test_the_admin_and_the_api_docs_allow_only_inline_styles_more(client, db, path):
    client.force_login(superuser())
    response = client.get(path)
    assert response.status_code == 200
    csp = policy(response)
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'", "'unsafe-inline'"]


def test_the_api_docs_load_their_script_from_this_origin(client, db):
    page = client.get("/api/docs/").content.decode()
    assert "<script>" not in page  # the Swagger UI set-up is a file, not inline
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.content.decode()


def load_gunicorn_conf(monkeypatch, **env: str):
    for name in ("FORWARDED_ALLOW_IPS", "GUNICORN_BIND", "PORT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("gunicorn_conf_under_test", GUNICORN_CONF)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gunicorn_trusts_only_x_forwarded_proto(monkeypatch):
    conf = load_gunicorn_conf(monkeypatch)
    # gunicorn's default also trusts X-Forwarded-Ssl and X-Forwarded-Protocol.
    assert conf.secure_scheme_headers == {"X-FORWARDED-PROTO": "https"}
    assert conf.forwarded_allow_ips == "127.0.0.1"


def test_gunicorn_trusts_the_configured_proxies_only(monkeypatch):
    conf = load_gunicorn_conf(monkeypatch, FORWARDED_ALLOW_IPS="10.0.0.5,10.0.0.6")
    assert conf.forwarded_allow_ips == "10.0.0.5,10.0.0.6"
    assert os.environ["FORWARDED_ALLOW_IPS"] == "10.0.0.5,10.0.0.6"
