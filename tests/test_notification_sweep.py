"""A process killed right after BookingConfirmed commits, before notifications hears it:
the worker's sweep of the event log still writes the confirmation and the reminders,
exactly once."""

import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail

from bookings.models import Booking, BookingStatus
from bookings.services import clinic_today
from notifications import sender, services
from notifications.models import Channel, Kind, Notification, Status
from portal.ops import tasks
from tests.support import servers
from tests.support.scheduling import slot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent


def test_the_sweep_writes_what_a_killed_process_never_wrote_exactly_once(user, consult, doctor):
    # A slot three days ahead: the confirmation and both reminders are due in the future.
    appointment = slot(doctor, day=clinic_today() + timedelta(days=3))
    child = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.support.crash_child",
            "BookingConfirmed",
            str(user.pk),
            str(consult.pk),
            "tok_visa",
            "killed-after-confirm",
            str(appointment.pk),
        ],
        cwd=ROOT,
        env=servers.child_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    booking = Booking.objects.get(request_key="killed-after-confirm")
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.appointment_start == appointment.start
    assert not Notification.objects.filter(booking=booking).exists()  # the signal was lost

    tasks.resume_sagas()  # recovery leaves a confirmed booking alone: nothing pending
    assert services.sweep_confirmed_without_notifications() == 1
    assert services.sweep_confirmed_without_notifications() == 0
    services.write_for_confirmed(correlation_id=booking.correlation_id)  # a late signal too

    kinds = sorted(
        Notification.objects.filter(booking=booking, channel=Channel.EMAIL).values_list(
            "kind", flat=True
        )
    )
    assert kinds == sorted([Kind.CONFIRMATION, Kind.REMINDER_24H, Kind.REMINDER_2H])
    assert Notification.objects.filter(booking=booking).count() == 6  # and the SMS of each
    assert sender.send_due().sent == 1  # the e-mail; the patient has no phone for the SMS
    assert [m.subject for m in mail.outbox] == [f"Booking confirmed: {booking.confirmation_code}"]
    assert Notification.objects.filter(status=Status.PENDING).count() == 4  # the reminders
