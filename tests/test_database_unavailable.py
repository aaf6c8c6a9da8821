"""While the database cannot be reached, requests get a 503 (JSON for the API), never a 500."""

import pytest
from django.db import connection
from django.test import Client

from tests.support import servers

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls("tests.support.db_probe_urls"),
]


@pytest.fixture
def database_unreachable():
    """Point the connection at a port where nothing listens; put it back afterwards."""
    saved = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = servers.free_port()

    def back_up() -> None:
        connection.close()
        connection.settings_dict["PORT"] = saved

    yield back_up
    back_up()


@pytest.mark.parametrize("path", ["/api/probe", "/healthz"])
def test_api_and_health_answer_503_json(database_unreachable, path):
    response = Client().get(path)

    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert "database unreachable" in response.json()["detail"]
    assert response["Retry-After"] == "5"


def test_pages_answer_a_short_503_page_without_a_trace(database_unreachable):
    response = Client().get("/page")

    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert "right back" in body
    assert "Traceback" not in body and "OperationalError" not in body


def test_a_failure_after_the_view_is_a_503_too(database_unreachable):
    # The session is written by SessionMiddleware after the view: Django makes that a
    # 500 before our middleware sees the exception; it must still be a 503.
    response = Client(raise_request_exception=False).get("/remember")

    assert response.status_code == 503


def test_service_comes_back_when_the_database_does(database_unreachable):
    client = Client()
    assert client.get("/api/probe").status_code == 503

    database_unreachable()  # the database is back

    response = client.get("/api/probe")
    assert response.status_code == 200
    assert response.json() == {"bookings": 0}


@pytest.mark.slow
@pytest.mark.urls("clinic_site.urls")
def test_gunicorn_on_production_settings_answers_503_when_the_database_is_down(tmp_path):
    closed = servers.free_port()
    env = servers.production_env(
        DATABASE_URL=servers.database_url(port=closed),
        STATIC_ROOT=str(tmp_path),
        SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https",
    )
    with servers.gunicorn(env, tmp_path, workers=1) as server:
        # A signed-in visitor's session must be read from the database.
        status, headers, body = server.request(
            "GET",
            "/admin/",
            headers={"X-Forwarded-Proto": "https", "Cookie": "sessionid=" + "a" * 32},
        )

    assert status == 503
    assert headers["content-type"].startswith("text/html")
    assert headers["retry-after"] == "5"
    assert b"right back" in body and b"Traceback" not in body
