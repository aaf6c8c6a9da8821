"""Issue 23's figure 5: SIGKILL in the middle of an online payment, in real processes.

gunicorn serves the API, `manage.py qcluster` reconciles, and the Razorpay stand-in is a
process of its own (tests/support/razorpay_process.py), reached by the production adapter
over HTTP. Each is killed where money and our records part ways
(tests/support/crash_razorpay.py): the web process right after the gateway created the
order and before we recorded it; the worker right after the gateway reported a capture,
and right after it refunded a second capture, before we recorded either. Afterwards,
fresh processes having finished the work, every booking is confirmed with exactly one
capture kept at the gateway, or failed with none kept, and `check_saga_invariants` agrees.
"""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task
from rest_framework.authtoken.models import Token

from bookings.models import Booking, BookingStatus
from payments.models import Payment, PaymentStatus, RefundStatus, ReversedCapture
from payments.razorpay_gateway import to_paise
from portal.ops.invariants import find_violations
from tests.support import servers
from tests.support.bodies import booking_body
from tests.support.factories import UserFactory
from tests.support.razorpay_process import StandInProcess, standin_process

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
DYING_GATEWAY = "tests.support.crash_razorpay.RazorpayThatDies"
PATIENTS = ("killed", "paid", "abandoned", "twice", "unheard")
RECONCILE = "payments.tasks.reconcile_online_payments"
RESUME = "portal.ops.tasks.resume_sagas"
KEY = {"Idempotency-Key": "tap-once-killed"}  # the killed request's, sent again


def wait_until(done, *, seconds: float, what: str) -> None:
    """Poll (readiness, not a timing assertion) until done(); fail after a bound."""
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.2)


@contextmanager
def qcluster(name: str, tmp_path: Path, env: dict[str, str]) -> Iterator[subprocess.Popen]:
    """The real worker on this test's database, one task at a time, in a session of its
    own (a crash kills its whole group); stopped with SIGTERM on exit."""
    log_path = tmp_path / f"qcluster-{name}.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=servers.child_env(Q_WORKERS="1", SAGA_TIMEOUT_SECONDS="0", **env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    process.log_path = log_path  # type: ignore[attr-defined]
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def killed_worker(name: str, tmp_path: Path, env: dict[str, str], *tasks: str) -> None:
    """A worker given `tasks` dies at env's CRASH_AT (SIGKILL, its whole group)."""
    with qcluster(name, tmp_path, env) as worker:
        for task in tasks:
            async_task(task)
        try:
            worker.wait(timeout=180)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{name} never reached its crash point:\n{worker.log_path.read_text()}")
    assert worker.returncode == -signal.SIGKILL, worker.log_path.read_text()[-3000:]


def booking_of(name: str) -> Booking:
    return Booking.objects.get(user__username=f"crash-{name}")


def kept_and_refunded(razorpay: StandInProcess, booking: Booking) -> tuple[list, list]:
    """The gateway's captures of every order made for the booking: kept, and refunded."""
    state = razorpay.state()
    orders = {o["id"] for o in state["orders"].values() if o["receipt"] == str(booking.pk)}
    payments = [p for p in state["payments"].values() if p["order_id"] in orders]
    kept = [p for p in payments if p["status"] == "captured"]
    refunded = [p for p in payments if p["status"] == "refunded"]
    assert all(p["amount_refunded"] == p["amount"] for p in refunded)  # in full
    return kept, refunded


def test_web_and_worker_killed_mid_payment_leave_each_booking_paid_once_or_unpaid(
    service_priced, tmp_path
):
    service = service_priced("900.00", name="Crash X-ray")
    tokens = {
        name: Token.objects.create(user=UserFactory(username=f"crash-{name}")).key
        for name in PATIENTS
    }
    body = booking_body(service, payment_method="online")
    del body["payment_token"]
    # The worker's own schedules stay out of the way: it runs the tasks given to it.
    Schedule.objects.update(next_run=timezone.now() + timedelta(days=1))

    def auth(name: str, **headers: str) -> dict[str, str]:
        return {"Authorization": f"Token {tokens[name]}", **headers}

    with standin_process(tmp_path / "standin.log") as razorpay:
        dying = {**razorpay.app_env(), "PAYMENT_GATEWAY": DYING_GATEWAY}
        web_env = servers.child_env(
            **dying,
            CRASH_AT="order:after_gateway",
            CRASH_MARKER=str(tmp_path / "web-died"),
            CRASH_KILL="process",
            ALLOWED_HOSTS="127.0.0.1",
        )
        with servers.gunicorn(web_env, tmp_path, workers=1) as web:
            razorpay.send_webhooks_to(f"http://127.0.0.1:{web.port}/webhooks/razorpay")

            def book(name: str, **headers: str) -> dict:
                status, _, data = web.request(
                    "POST", "/api/booking", body=body, headers=auth(name, **headers)
                )
                assert status == 201, data
                return json.loads(data)

            # 1. The web process dies between the gateway's order and our record of it.
            with pytest.raises(OSError):  # no answer: the worker died under the request
                web.request("POST", "/api/booking", body=body, headers=auth("killed", **KEY))
            assert (tmp_path / "web-died").exists()
            wait_until(lambda: "was sent SIGKILL" in web.log(), seconds=30, what="the kill")
            killed = booking_of("killed")
            assert killed.status == BookingStatus.PENDING
            assert not Payment.objects.filter(booking=killed).exists()
            [orphan] = razorpay.state()["orders"]  # made at the gateway, shown to nobody

            # gunicorn replaced its worker: the next patients book, each order recorded.
            waiting = {name: book(name) for name in PATIENTS[1:]}
            assert {b["status"] for b in waiting.values()} == {"awaiting_payment"}

            # One pays at the checkout: the webhooks over HTTP and the proof confirm.
            proof = razorpay.pay(waiting["paid"]["payment"]["order_id"])
            status, _, data = web.request(
                "POST",
                f"/api/booking/{waiting['paid']['id']}/payment",
                body=proof,
                headers=auth("paid"),
            )
            assert status == 200 and json.loads(data)["status"] == "confirmed"

            # The webhooks are lost from here on: only the worker can learn of these
            # payments. "twice" pays its order twice; "unheard" once; "abandoned" never.
            razorpay.send_webhooks_to("")
            razorpay.pay(waiting["twice"]["payment"]["order_id"])
            razorpay.pay(waiting["twice"]["payment"]["order_id"])
            razorpay.pay(waiting["unheard"]["payment"]["order_id"])
            Payment.objects.filter(booking_id=waiting["abandoned"]["id"]).update(
                expires_at=timezone.now() - timedelta(seconds=1)
            )
            near_expiry = timezone.now() + timedelta(seconds=30)  # within the worker's look
            Payment.objects.filter(
                booking_id__in=[waiting["twice"]["id"], waiting["unheard"]["id"]]
            ).update(expires_at=near_expiry)

            # 2. The worker dies right after the gateway reported a capture.
            killed_worker(
                "reported",
                tmp_path,
                {
                    **dying,
                    "CRASH_AT": "reconcile:after_gateway",
                    "CRASH_KILL": "group",
                    "CRASH_MARKER": str(tmp_path / "reported-died"),
                },  # fmt: skip
                RESUME,
                RECONCILE,
            )
            # 3. A fresh worker dies right after the gateway refunded the second capture.
            killed_worker(
                "refunded",
                tmp_path,
                {
                    **dying,
                    "CRASH_AT": "refund:after_gateway",
                    "CRASH_KILL": "group",
                    "CRASH_MARKER": str(tmp_path / "refunded-died"),
                },  # fmt: skip
                RESUME,
                RECONCILE,
            )
            [unrecorded] = ReversedCapture.objects.all()
            assert unrecorded.status == RefundStatus.PENDING  # the refund made, not recorded
            assert len(razorpay.state()["refunds"]) == 1

            # 4. A worker that is not killed finishes the work.
            with qcluster("restarted", tmp_path, razorpay.app_env()):
                async_task(RESUME)
                async_task(RECONCILE)

                def settled() -> bool:
                    return (
                        not ReversedCapture.objects.filter(status=RefundStatus.PENDING).exists()
                        and booking_of("killed").status == BookingStatus.AWAITING_PAYMENT
                        and {booking_of(n).status for n in ("twice", "unheard")}
                        == {BookingStatus.CONFIRMED}
                        and booking_of("abandoned").status == BookingStatus.FAILED
                    )

                wait_until(settled, seconds=180, what="the restarted worker's reconciliation")

            # The patient whose request died retries it: the same booking, now waiting
            # for its (second, recorded) order; they pay and the webhooks confirm it.
            status, _, data = web.request(
                "POST", "/api/booking", body=body, headers=auth("killed", **KEY)
            )
            retried = json.loads(data)
            assert status in (200, 201), data
            assert retried["id"] == str(killed.pk)
            assert retried["status"] == "awaiting_payment"
            assert retried["payment"]["order_id"] != orphan
            razorpay.send_webhooks_to(f"http://127.0.0.1:{web.port}/webhooks/razorpay")
            razorpay.pay(retried["payment"]["order_id"])
            assert booking_of("killed").status == BookingStatus.CONFIRMED

        # Every booking: confirmed with exactly one capture kept, or failed with none.
        for name in PATIENTS:
            booking = booking_of(name)
            kept, refunded = kept_and_refunded(razorpay, booking)
            if name == "abandoned":
                assert booking.status == BookingStatus.FAILED and kept == [] == refunded
                continue
            assert booking.status == BookingStatus.CONFIRMED, name
            [capture] = kept
            payment = Payment.objects.get(booking=booking)
            assert payment.status == PaymentStatus.CAPTURED
            assert capture["id"] == payment.gateway_reference
            assert capture["amount"] == to_paise(booking.final_price)
            assert len(refunded) == (1 if name == "twice" else 0), name
        state = razorpay.state()
        assert len(state["refunds"]) == 1  # the second capture, refunded once for all the kills
        assert [p for p in state["payments"].values() if p["order_id"] == orphan] == []

    checked = servers.manage("check_saga_invariants", env=servers.child_env())
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert find_violations() == []
