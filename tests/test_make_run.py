"""`make run`'s launcher (scripts/run-dev.sh) on a fresh SQLite file: the web server, the
worker and the Razorpay stand-in start together; a booking paid online through the
stand-in (its hosted page sending the webhook, or the checkout's proof) has its
confirmation e-mail in the console within seconds with no extra command (booked through
the API and in Chromium, whose checkout opens over the review page), the seeded
practitioners' slots can be booked, and Ctrl-C stops them all."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.support import servers
from tests.support.pages_helpers import fill_sign_up
from tests.support.razorpay import pay_at_hosted_page

pytestmark = pytest.mark.slow


def _sigint_as_in_a_terminal() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_make_run_serves_and_the_worker_mails_the_confirmation_then_both_stop(tmp_path, browser):
    env = {k: v for k, v in os.environ.items() if k not in servers.TEST_ONLY_VARIABLES}
    port = servers.free_port()
    standin_port = servers.free_port()
    standin = f"http://127.0.0.1:{standin_port}"
    env.update(
        DJANGO_SETTINGS_MODULE="clinic_site.settings",
        DEBUG="true",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        PY=sys.executable,
        RUN_ADDR=f"127.0.0.1:{port}",
        STANDIN_ADDR=f"127.0.0.1:{standin_port}",
        RUNSERVER_ARGS="--noreload",
        LOG_LEVEL="WARNING",
    )
    migrated = servers.manage("migrate", "--noinput", env=env)
    assert migrated.returncode == 0, migrated.stderr
    log_path = tmp_path / "run.log"
    with open(log_path, "w") as log:
        launcher = subprocess.Popen(
            ["scripts/run-dev.sh"],
            cwd=servers.ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group, like a terminal
            # A terminal's Ctrl-C reaches a process whose SIGINT is not ignored; a CI
            # launched in the background (`cmd &` without job control) ignores it, and
            # the launcher would inherit that and never stop.
            preexec_fn=_sigint_as_in_a_terminal,
        )
    server = servers.Server(port=port, process=launcher, log_path=log_path)
    try:
        servers._wait_until_listening(server)
        status, _, body = server.request(
            "POST",
            "/api/auth/register",
            body={
                "username": "asha",
                "password": "a-long-passphrase-9",
                "email": "asha@example.in",
                "full_name": "Asha Verma",
                "gender": "female",
                "date_of_birth": "1990-01-01",
            },
        )
        assert status == 201, body
        auth = {"Authorization": f"Token {json.loads(body)['token']}"}
        _, _, services = server.request("GET", "/api/services")
        # A walk-in service (a lab test): no slot to choose; its day the next the seeded
        # hours keep open (08:00–17:00, Monday to Saturday), as a client would choose.
        service_id = next(s["id"] for s in json.loads(services) if not s["requires_appointment"])
        visit = datetime.now(ZoneInfo("Asia/Kolkata"))
        if visit.hour >= 17:
            visit += timedelta(days=1)
        if visit.weekday() == 6:
            visit += timedelta(days=1)
        booked_at = time.monotonic()
        status, _, body = server.request(
            "POST",
            "/api/booking",
            headers=auth,
            body={
                "patient_name": "Asha Verma",
                "gender": "female",
                "date_of_birth": "1990-01-01",
                "service_ids": [service_id],
                "visit_date": visit.date().isoformat(),
                "payment_method": "online",
            },
        )
        assert status in (200, 201), body
        booked = json.loads(body)
        assert booked["status"] == "awaiting_payment", booked
        # The patient pays at the stand-in's hosted page (no proof posted back here):
        # the stand-in's webhook reaches the app and confirms.
        pay_online(booked, standin=standin, callback_url=f"http://127.0.0.1:{port}/")
        while booked["status"] != "confirmed":
            assert time.monotonic() - booked_at < 30, booked
            time.sleep(0.2)
            _, _, body = server.request("GET", f"/api/booking/{booked['id']}/status", headers=auth)
            booked = json.loads(body)
        code = booked["confirmation_code"]
        assert code

        while f"Booking confirmed: {code}" not in server.log():
            assert time.monotonic() - booked_at < 30, server.log()[-3000:]
            time.sleep(0.2)
        print(f"confirmation e-mail in the console after {time.monotonic() - booked_at:.1f} s")

        # The seeded practitioners' hours: every seeded service that needs an appointment
        # has a free time in the coming week, and the longest (an MRI) is booked into one.
        clinic_today = datetime.now(ZoneInfo("Asia/Kolkata")).date()
        needing = [s for s in json.loads(services) if s["requires_appointment"]]
        assert len(needing) >= 3
        first_free = {}
        for service in needing:
            for ahead in range(8):
                day = (clinic_today + timedelta(days=ahead)).isoformat()
                status, _, body = server.request(
                    "GET", f"/api/slots?date={day}&service_ids={service['id']}"
                )
                assert status == 200, (status, body[:500])
                if json.loads(body):
                    first_free[service["name"]] = json.loads(body)[0]
                    break
        assert set(first_free) == {s["name"] for s in needing}, first_free
        longest = max(needing, key=lambda s: s["duration_minutes"])
        status, _, body = server.request(
            "POST",
            "/api/booking",
            headers=auth,
            body={
                "patient_name": "Asha Verma",
                "gender": "female",
                "date_of_birth": "1990-01-01",
                "service_ids": [longest["id"]],
                "slot_id": first_free[longest["name"]]["id"],
                "payment_method": "online",
            },
        )
        assert status in (200, 201), body
        booked = json.loads(body)
        assert booked["status"] == "awaiting_payment", booked
        # This time the app posts the checkout's proof (POST /api/booking/<id>/payment).
        _, proof = pay_online(booked, standin=standin, callback_url=f"http://127.0.0.1:{port}/")
        status, _, body = server.request(
            "POST", f"/api/booking/{booked['id']}/payment", headers=auth, body=proof
        )
        assert status == 200, body
        booked = json.loads(body)
        assert booked["status"] == "confirmed", booked
        assert booked["appointment"]["start"] == first_free[longest["name"]]["start"]

        # And a patient in the browser: sign up, book a walk-in, pay; the worker mails it.
        walk_in = next(s["name"] for s in json.loads(services) if not s["requires_appointment"])
        context = browser.new_context(base_url=f"http://127.0.0.1:{port}")
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.goto("/accounts/signup/")
        fill_sign_up(page)
        page.get_by_role("button", name="Sign up").click()
        page.get_by_label(walk_in).check()
        page.get_by_role("button", name="Continue to review").click()
        paid_at = time.monotonic()
        page.get_by_role("button", name=re.compile(r"^Pay ₹.* online")).click()
        # The stand-in's checkout opens over the review page (JavaScript on).
        page.frame_locator("iframe[title='Razorpay Checkout']").get_by_role(
            "button", name="Pay by UPI"
        ).click()
        expect(page.get_by_role("heading", name="Booking confirmed")).to_be_visible()
        code = page.get_by_label("Confirmation code").inner_text().strip()
        context.close()
        while f"Booking confirmed: {code}" not in server.log():
            assert time.monotonic() - paid_at < 30, server.log()[-3000:]
            time.sleep(0.2)
        print(f"the browser's booking mailed after {time.monotonic() - paid_at:.1f} s")
    finally:
        # The worker leads a process group of its own (see run-dev.sh).
        groups = [launcher.pid, *_children_running("qcluster", parent=launcher.pid)]
        os.killpg(launcher.pid, signal.SIGINT)  # Ctrl-C
        stopping = time.monotonic()
        try:
            # The worker finishes the task in hand first; on a loaded machine that has
            # taken over 30 s (CI with other work running), so the bound is generous.
            launcher.wait(timeout=90)
        except subprocess.TimeoutExpired:
            for group in groups:
                os.killpg(group, signal.SIGKILL)
            raise
    print(f"both stopped {time.monotonic() - stopping:.1f} s after Ctrl-C")
    deadline = time.monotonic() + 15
    assert len(groups) == 2, "the worker was not running"
    for group in groups:  # all gone: runserver, and qcluster with its workers
        while True:
            try:
                os.killpg(group, 0)
            except ProcessLookupError:
                break
            assert time.monotonic() < deadline, "a process of `make run` outlived Ctrl-C"
            time.sleep(0.2)


def pay_online(booked: dict, *, standin: str, callback_url: str) -> tuple[str, dict]:
    """Pay a booking's order at the stand-in's hosted page, as a browser without
    JavaScript would; the key and order are the ones the API answered."""
    payment = booked["payment"]
    assert payment["gateway"] == "razorpay" and payment["key_id"] == "rzp_test_standin"
    return pay_at_hosted_page(
        f"{standin}/v1/checkout/embedded",
        {
            "key_id": payment["key_id"],
            "order_id": payment["order_id"],
            "callback_url": callback_url,
        },
    )


def _children_running(program: str, *, parent: int) -> list[int]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as stat:
                parent_pid = int(stat.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                words = cmdline.read().split(b"\0")
        except (FileNotFoundError, ProcessLookupError, ValueError, IndexError):
            continue
        if parent_pid == parent and program.encode() in words:
            found.append(int(pid))
    return found
