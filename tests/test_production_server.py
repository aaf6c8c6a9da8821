"""Production settings pass `check --deploy`; gunicorn serves HTTPS headers and static files."""

import json
import re

import pytest

from tests.support import servers

MAIL_SERVER = {"EMAIL_URL": "smtp+tls://clinic:secret@smtp.clinic.example.in:587"}


@pytest.fixture(scope="module")
def collected_static(tmp_path_factory):
    """A STATIC_ROOT that `collectstatic` filled, as a deploy does (once per module)."""
    static_root = tmp_path_factory.mktemp("collected") / "static"
    env = servers.production_env(STATIC_ROOT=str(static_root))
    collected = servers.manage("collectstatic", "--noinput", env=env)
    assert collected.returncode == 0, collected.stderr
    return static_root


@pytest.mark.slow  # collectstatic: check --deploy wants its manifest (portal.E002)
def test_check_deploy_is_clean_with_production_settings(collected_static):
    result = servers.manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env=servers.production_env(STATIC_ROOT=str(collected_static), **MAIL_SERVER),
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_when_mails_would_go_to_the_logs():
    # An error, not a warning: password reset links (a superuser's too) would be printed
    # into the server's logs. It fails at check's default level, not only at WARNING.
    result = servers.manage("check", "--deploy", env=servers.production_env())

    assert result.returncode != 0
    assert "confirmations.E001" in result.stderr


def test_check_deploy_fails_when_debug_is_on_in_production():
    """The check can fail: it is not silenced wholesale."""
    result = servers.manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env=servers.production_env(DEBUG="true", **MAIL_SERVER),
    )

    assert result.returncode != 0
    assert "security.W018" in result.stderr


def test_hsts_and_https_redirect_follow_their_settings():
    result = servers.manage(
        "shell",
        "-c",
        "from django.conf import settings as s; import json; print(json.dumps("
        "[s.SECURE_HSTS_SECONDS, s.SECURE_SSL_REDIRECT, s.SECURE_PROXY_SSL_HEADER]))",
        env=servers.production_env(
            SECURE_HSTS_SECONDS="300",
            SECURE_SSL_REDIRECT="false",
            SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https",
        ),
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == [
        300,
        False,
        ["HTTP_X_FORWARDED_PROTO", "https"],
    ]


@pytest.fixture(scope="module")
def production_server(django_db_setup, tmp_path_factory, collected_static):
    """gunicorn on production settings behind a (pretend) TLS-ending proxy, static collected."""
    tmp_path = tmp_path_factory.mktemp("production")
    env = servers.production_env(
        STATIC_ROOT=str(collected_static),
        SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https",
    )
    with servers.gunicorn(env, tmp_path, workers=2) as server:
        yield server


HTTPS = {"X-Forwarded-Proto": "https", "Host": "clinic.example.in"}


@pytest.mark.slow
def test_plain_http_is_redirected_to_https(production_server):
    status, headers, _ = production_server.request(
        "GET", "/admin/login/", headers={"Host": "clinic.example.in"}
    )

    assert status == 301
    assert headers["location"] == "https://clinic.example.in/admin/login/"


@pytest.mark.slow
def test_https_pages_carry_the_security_headers_and_secure_cookies(production_server):
    status, headers, _ = production_server.request("GET", "/admin/login/", headers=HTTPS)

    assert status == 200
    assert headers["strict-transport-security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-frame-options"] == "DENY"
    assert headers["cross-origin-opener-policy"] == "same-origin"
    csrf_cookie = next(c for c in headers["set-cookie"].split("\n") if c.startswith("csrftoken="))
    assert "Secure" in csrf_cookie


@pytest.mark.slow
def test_static_files_are_served_by_the_app_with_long_caching(production_server):
    status, headers, body = production_server.request(
        "GET", "/admin/login/", headers=HTTPS
    )  # the page links the hashed name of each static file
    assert status == 200
    hashed = re.search(rb"/static/(admin/css/base\.[0-9a-f]{12}\.css)", body)
    assert hashed is not None, body[:500]

    status, headers, css = production_server.request(
        "GET", f"/static/{hashed.group(1).decode()}", headers=HTTPS
    )

    assert status == 200
    assert headers["content-type"].startswith("text/css")
    assert "immutable" in headers["cache-control"]
    assert b"body" in css


@pytest.mark.slow
@pytest.mark.slow
def test_the_access_log_is_one_key_value_line_per_request_without_query_strings(
    production_server,
):
    production_server.request("GET", "/admin/login/?next=/admin/&name=Asha", headers=HTTPS)

    lines = [line for line in production_server.log().splitlines() if "access " in line]
    assert any('method=GET path="/admin/login/" status=200' in line for line in lines), lines
    assert not any("Asha" in line for line in lines)
