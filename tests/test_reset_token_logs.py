"""Issue 22, B1: no log line the app or gunicorn writes holds a password-reset token, and
a reset link expires after PASSWORD_RESET_TIMEOUT (default one hour).

The token was in gunicorn's access line (`path="/accounts/reset/Njg/dj2zca-…/"`) when
the patient opened the link: anyone reading the log could set the password."""

import http.client
import logging
import re
from datetime import timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
import time_machine
from django.contrib.auth.tokens import default_token_generator
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from clinic_site.redaction import REDACTED, RedactSecrets, redact
from tests.support import servers
from tests.support.factories import UserFactory

HTTPS = {"X-Forwarded-Proto": "https", "Host": "clinic.example.in"}
ORIGIN = "https://clinic.example.in"


def cookies_of(headers: dict[str, str]) -> dict[str, str]:
    jar = SimpleCookie()
    for line in headers.get("set-cookie", "").split("\n"):
        if line:
            jar.load(line)
    return {name: morsel.value for name, morsel in jar.items()}


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def form_post(server, path: str, fields: dict[str, str], cookies: dict[str, str]):
    conn_headers = {
        **HTTPS,
        "Origin": ORIGIN,
        "Referer": f"{ORIGIN}{path}",
        "Cookie": cookie_header(cookies),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        conn.request("POST", path, body=urlencode(fields), headers=conn_headers)
        response = conn.getresponse()
        response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}
    finally:
        conn.close()


def csrf_of(body: bytes) -> str:
    found = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    assert found, body[:500]
    return found.group(1).decode()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_access_log_of_a_real_gunicorn_holds_no_reset_token(tmp_path):
    patient = UserFactory(email="asha.reset@example.in")
    mail_dir = tmp_path / "mail"
    env = servers.production_env(
        SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https",
        # The pages' static names without a collectstatic run (not what this test is about).
        STATICFILES_BACKEND="django.contrib.staticfiles.storage.StaticFilesStorage",
        EMAIL_URL=f"filemail:///{mail_dir}",
        LOG_LEVEL="INFO",
    )
    with servers.gunicorn(env, tmp_path, workers=1) as server:
        # Ask for the link, as the patient does on the reset page.
        status, headers, body = server.request("GET", "/accounts/password_reset/", headers=HTTPS)
        assert status == 200
        cookies = cookies_of(headers)
        status, _ = form_post(
            server,
            "/accounts/password_reset/",
            {"email": patient.email, "csrfmiddlewaretoken": csrf_of(body)},
            cookies,
        )
        assert status == 302
        (sent,) = list(mail_dir.iterdir())  # the file backend: one file, the reset mail
        text = sent.read_text()
        link = re.search(r"https://clinic\.example\.in(/accounts/reset/([^/]+)/([^/\s]+)/)", text)
        assert link, text
        path, uid, token = link.groups()

        # Open it: Django swaps the token for its session and redirects.
        status, headers, _ = server.request("GET", path, headers=HTTPS)
        assert status == 302
        assert headers["location"] == f"/accounts/reset/{uid}/set-password/"
        status, _, page = server.request(
            "GET",
            headers["location"],
            headers={**HTTPS, "Cookie": cookie_header(cookies_of(headers))},
        )
        assert status == 200
        assert b'name="new_password1"' in page  # the link worked: the form is offered
        # A 404 under /reset/ is logged by Django with its path: redacted there too.
        status, _, _ = server.request("GET", f"{path}extra/", headers=HTTPS)
        assert status == 404

        log = server.log()

    assert token not in log
    access_lines = [line for line in log.splitlines() if "access " in line]
    assert any(
        f'path="/accounts/reset/{uid}/{REDACTED}/" status=302' in line for line in access_lines
    ), access_lines
    assert any(
        f'path="/accounts/reset/{uid}/set-password/" status=200' in line for line in access_lines
    )
    assert any(
        f"Not Found: /accounts/reset/{uid}/{REDACTED}/extra/" in line for line in log.splitlines()
    )


def test_redact_keeps_the_path_shape_and_django_s_placeholder():
    assert redact("/accounts/reset/Njg/dj2zca-3f1e0c9a8b7d6e5f4a3b/") == (
        f"/accounts/reset/Njg/{REDACTED}/"
    )
    assert redact('GET /accounts/reset/MQ/abc-def HTTP/1.1"') == (
        f'GET /accounts/reset/MQ/{REDACTED} HTTP/1.1"'
    )
    assert redact("/accounts/reset/Njg/set-password/") == "/accounts/reset/Njg/set-password/"
    assert redact("/accounts/password_reset/done/") == "/accounts/password_reset/done/"


def test_the_log_filter_redacts_a_formatted_record():
    record = logging.LogRecord(
        "django.request",
        logging.WARNING,
        __file__,
        1,
        "%s: %s",
        ("Not Found", "/accounts/reset/Njg/dj2zca-0123456789abcdef/x/"),
        None,
    )
    assert RedactSecrets().filter(record) is True
    assert record.getMessage() == f"Not Found: /accounts/reset/Njg/{REDACTED}/x/"


def test_the_console_handler_carries_the_filter(settings):
    assert "redact_secrets" in settings.LOGGING["handlers"]["console"]["filters"]
    root_filters = [f for h in logging.getLogger().handlers for f in h.filters]
    assert any(isinstance(f, RedactSecrets) for f in root_filters)


def test_the_gunicorn_config_uses_the_redacting_logger():
    text = (Path(servers.ROOT) / "gunicorn.conf.py").read_text()
    assert 'logger_class = "clinic_site.access_log.RedactingLogger"' in text


@pytest.mark.django_db
def test_a_reset_link_expires_after_an_hour_by_default(settings, client):
    assert settings.PASSWORD_RESET_TIMEOUT == 3600
    patient = UserFactory()
    uid = urlsafe_base64_encode(force_bytes(patient.pk))
    with time_machine.travel(timezone.now(), tick=False) as clock:
        token = default_token_generator.make_token(patient)
        clock.shift(timedelta(minutes=59))
        assert default_token_generator.check_token(patient, token)
        clock.shift(timedelta(minutes=2))
        assert not default_token_generator.check_token(patient, token)
        response = client.get(f"/accounts/reset/{uid}/{token}/", follow=True)
    assert response.context["validlink"] is False
