"""`make typecheck` (mypy, [tool.mypy] in pyproject.toml) sees what the project's types say.

A clean mypy run proves little if the types it checks have gone vague (a helper typed
`Any` passes everything). Here mypy, with the project's configuration and plugins, checks
a small module of deliberate mistakes and must flag exactly those lines: a nullable
money column read as a Decimal, a required one given None, a login-free request's user
used as a User, a wrong type passed to a keyword-only service.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SNIPPET = """\
from datetime import date
from decimal import Decimal

from django.http import HttpRequest

from bookings.models import Booking, MedicalService
from bookings.services import register_patient
from payments.models import Payment
from portal.authenticated import AuthenticatedHttpRequest


def final(booking: Booking) -> Decimal:
    return booking.final_price  # MISTAKE: nullable (null=True money_field)


def price(service: MedicalService, payment: Payment) -> Decimal:
    return service.price + payment.amount  # fine: not nullable


MedicalService(name="x", price=None)  # MISTAKE: price is required


def logged_in(request: AuthenticatedHttpRequest) -> str:
    return request.user.email  # fine: login_required views have a User


def anyone(request: HttpRequest) -> str:
    return request.user.email  # MISTAKE: may be AnonymousUser


register_patient(
    username="a",
    password="b",
    email="c",
    full_name="d",
    gender="female",
    date_of_birth="1990-01-01",  # MISTAKE: a date, not a string
)
register_patient(
    username="a", password="b", email="c", full_name="d", gender="female",
    date_of_birth=date(1990, 1, 1),
)
"""


@pytest.mark.slow  # starts mypy (a process that loads Django and the stubs)
def test_mypy_flags_exactly_the_planted_mistakes(tmp_path):
    module = tmp_path / "typing_probe.py"
    module.write_text(SNIPPET)
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", "pyproject.toml", str(module)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    # By file name: mypy may replay an unchanged module's errors from its cache under the
    # path it had then (another tmp_path).
    flagged = {int(line) for line in re.findall(r"typing_probe\.py:(\d+): error:", run.stdout)}
    planted = {
        number for number, text in enumerate(SNIPPET.splitlines(), start=1) if "MISTAKE" in text
    }
    assert len(planted) == 4
    assert flagged == planted, run.stdout
    # Nothing in the app packages it imports is reported: those are clean (make typecheck).
    assert run.stdout.count(": error:") == len(planted), run.stdout
