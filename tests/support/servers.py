"""Real processes for production-like tests: environments, gunicorn, plain HTTP calls."""

import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]

# Set for the test process (clinic_site/settings_test.py, tests/conftest.py); a
# "production" child must not inherit them.
TEST_ONLY_VARIABLES = {
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS",
    "STATICFILES_BACKEND",
    "SAGA_RERAISE_RECEIVER_ERRORS",
    "DEBUG",
    "SECRET_KEY",
    "DJANGO_ALLOW_ASYNC_UNSAFE",  # set by the browser fixture (tests/conftest.py)
}


def database_url(*, port: int | None = None) -> str:
    """The URL of this test run's database (pytest-django's test_… database)."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "127.0.0.1"
    return f"postgres://{credentials}@{host}:{port or db['PORT'] or 5432}/{db['NAME']}"


def child_env(**extra: str) -> dict[str, str]:
    """A child with the test settings, working on this test's database."""
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="clinic_site.settings_test")
    env["DATABASE_URL"] = database_url()
    env.update(extra)
    return env


def production_env(**extra: str) -> dict[str, str]:
    """A child with the production settings (DEBUG off), as an operator would configure it."""
    env = {k: v for k, v in os.environ.items() if k not in TEST_ONLY_VARIABLES}
    env.update(
        DJANGO_SETTINGS_MODULE="clinic_site.settings",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="clinic.example.in,127.0.0.1",
        SITE_URL="https://clinic.example.in",
        DATABASE_URL=database_url(),
        LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


def manage(*args: str, env: dict[str, str], timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    port: int
    process: subprocess.Popen
    log_path: Path

    def request(
        self,
        method: str,
        path: str,
        *,
        body: dict | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 60,
    ) -> tuple[int, dict[str, str], bytes]:
        """One HTTP request, redirects not followed: (status, headers lower-cased, body)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        sent_headers = {"Host": "127.0.0.1", **(headers or {})}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            sent_headers.setdefault("Content-Type", "application/json")
        try:
            conn.request(method, path, body=payload, headers=sent_headers)
            response = conn.getresponse()
            data = response.read()
            header_map: dict[str, str] = {}
            for key, value in response.getheaders():
                key = key.lower()
                header_map[key] = f"{header_map[key]}\n{value}" if key in header_map else value
            return response.status, header_map, data
        finally:
            conn.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def gunicorn(env: dict[str, str], tmp_path: Path, *, workers: int = 2) -> Iterator[Server]:
    """gunicorn with the repo's gunicorn.conf.py on a free port; stopped on exit."""
    port = free_port()
    log_path = tmp_path / f"gunicorn-{port}.log"
    env = dict(env, GUNICORN_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY=str(workers))
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "clinic_site.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Server(port=port, process=process, log_path=log_path)
    try:
        _wait_until_listening(server)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_listening(server: Server) -> None:
    # Readiness, not a timing assertion: poll until it accepts, give up after a bound.
    for _ in range(600):
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited early:\n{server.log()}")
        try:
            socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"gunicorn never listened on {server.port}:\n{server.log()}")
