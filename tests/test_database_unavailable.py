"""While the database cannot be reached, requests get a 503 (JSON for the API), never a 500."""

import socket
import subprocess
import sys
import threading

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


@pytest.fixture
def database_that_never_answers():
    """A real listening socket that accepts connections and then says nothing, ever:
    what a hung database server (or a black-holing network) looks like to a client.
    A refused port would fail at once and prove nothing about the timeout."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            held.append(conn)  # never read from, never written to

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


HEALTH_CHECK_IN_A_CHILD = """
import time, django
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
started = time.monotonic()
response = Client().get("/healthz")
print(response.status_code, round(time.monotonic() - started, 1))
"""


@pytest.mark.slow
def test_db_connect_timeout_bounds_a_hang_against_a_server_that_never_answers(
    database_that_never_answers,
):
    """DB_CONNECT_TIMEOUT (the environment → settings → psycopg's connect_timeout) ends
    the wait: a 503 after about that many seconds, never a worker held forever."""
    env = servers.child_env(
        DATABASE_URL=servers.database_url(port=database_that_never_answers),
        DB_CONNECT_TIMEOUT="2",  # libpq's smallest
    )
    child = subprocess.run(
        [sys.executable, "-c", HEALTH_CHECK_IN_A_CHILD],
        env=env,
        cwd=servers.ROOT,
        capture_output=True,
        text=True,
        timeout=30,  # without the timeout the child would wait here until killed
    )
    assert child.returncode == 0, child.stderr[-2000:]
    status, waited = child.stdout.split()
    assert status == "503"
    assert 1.5 <= float(waited) <= 10, waited  # bounded by the setting, not by luck
