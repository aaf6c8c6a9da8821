"""The Razorpay stand-in as a process of its own, for tests whose app runs in real
processes (gunicorn, qcluster) that can only reach it over HTTP, and which are killed.

    python -m tests.support.razorpay_process PORT

serves payments.razorpay_standin's StandIn on 127.0.0.1:PORT (its REST API, hosted page
and webhooks, unchanged) plus a few test-only controls under /_test/ that do what a test
in the same process does with the StandIn object:
  POST /_test/webhooks {"url": ...}            send webhooks there ("" keeps them unsent)
  POST /_test/pay {"order_id", "amount"?}      the patient pays (amount in paise), the
                                               checkout's signed proof answered
  GET  /_test/state                            its orders, payments and refunds
`StandInProcess` starts it and drives those controls.
"""

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
CONTROL = "/_test/"


def controlled(standin) -> Callable:
    """The stand-in's WSGI app with the /_test/ controls in front of it."""

    def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(CONTROL):
            return standin(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = json.loads(environ["wsgi.input"].read(length) or b"{}") if length else {}
        action = path.removeprefix(CONTROL)
        if action == "webhooks":
            standin.webhook_url = body["url"]
            answer: dict = {"url": standin.webhook_url}
        elif action == "pay":
            answer = standin.pay(body["order_id"], amount=body.get("amount"))
        elif action == "state":
            answer = {
                "orders": standin.orders,
                "payments": standin.payments,
                "refunds": standin.refunds,
            }
        else:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"no such control"]
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(answer).encode()]

    return app


@dataclass
class StandInProcess:
    url: str
    process: subprocess.Popen
    key_id: str
    key_secret: str
    webhook_secret: str

    def _call(self, action: str, body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + CONTROL + action, data=data, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    def send_webhooks_to(self, url: str) -> None:
        self._call("webhooks", {"url": url})

    def pay(self, order_id: str, *, amount: int | None = None) -> dict:
        return self._call("pay", {"order_id": order_id, "amount": amount})

    def state(self) -> dict:
        return self._call("state")

    def app_env(self) -> dict[str, str]:
        """The settings that make the app's production adapter talk to this stand-in."""
        return {
            "PAYMENT_GATEWAY": "razorpay",
            "RAZORPAY_KEY_ID": self.key_id,
            "RAZORPAY_KEY_SECRET": self.key_secret,
            "RAZORPAY_WEBHOOK_SECRET": self.webhook_secret,
            "RAZORPAY_API_BASE_URL": self.url,
            "RAZORPAY_STANDIN_ALLOWED": "true",
            "RAZORPAY_TIMEOUT_SECONDS": "10",
        }


@contextmanager
def standin_process(log_path: Path) -> Iterator[StandInProcess]:
    """The stand-in served by a child process on a free port; stopped on exit."""
    from payments.razorpay_standin import StandIn

    defaults = StandIn()
    port = free_port()
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.razorpay_process", str(port)],
            cwd=ROOT,
            env=dict(os.environ, DJANGO_SETTINGS_MODULE="clinic_site.settings_test"),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    running = StandInProcess(
        url=f"http://127.0.0.1:{port}",
        process=process,
        key_id=defaults.key_id,
        key_secret=defaults.key_secret,
        webhook_secret=defaults.webhook_secret,
    )
    try:
        for _ in range(300):  # readiness, bounded
            assert process.poll() is None, log_path.read_text()
            try:
                running.state()
                break
            except OSError:
                time.sleep(0.1)
        yield running
    finally:
        process.terminate()
        process.wait(timeout=30)


def main(port: str) -> None:
    import threading

    import django

    django.setup()  # the stand-in signs with the adapter's code, which imports models

    from payments.razorpay_standin import StandIn, serving

    with serving(controlled(StandIn(seed=int(port))), port=int(port)):  # type: ignore[arg-type]
        threading.Event().wait()  # until terminated


if __name__ == "__main__":
    main(*sys.argv[1:])
