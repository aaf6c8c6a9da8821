"""The worker's periodic jobs are registered in code by `migrate` (portal/schedules.py),
and staff see its failed tasks and resend failed notifications in the admin."""

import traceback
import uuid

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import Failure, Schedule
from django_q.monitor import save_task

from notifications import sender
from notifications.models import Channel, Notification, Status
from portal.ops import tasks
from portal.ops.schedules import ensure_schedules
from tests.support.admin_helpers import staff_member

pytestmark = pytest.mark.usefixtures("commits")

EVERY_MINUTE = (Schedule.MINUTES, 1)
DAILY = (Schedule.DAILY, None)


def schedules() -> dict[str, tuple]:
    return {
        s.func: (s.pk, s.schedule_type, s.minutes, s.repeats, s.next_run)
        for s in Schedule.objects.all()
    }


def test_migrate_registers_the_periodic_jobs_and_doing_it_again_changes_nothing():
    Schedule.objects.all().delete()  # as on a fresh database

    call_command("migrate", verbosity=0, interactive=False)

    registered = schedules()
    assert {func: (kind, minutes) for func, (_, kind, minutes, *_) in registered.items()} == {
        "portal.ops.tasks.resume_sagas": EVERY_MINUTE,
        "payments.tasks.reconcile_online_payments": EVERY_MINUTE,
        "notifications.tasks.send_due_notifications": EVERY_MINUTE,
        "notifications.tasks.sweep_event_log": EVERY_MINUTE,
        "portal.ops.tasks.heartbeat": EVERY_MINUTE,
        "portal.ops.tasks.purge_idempotency_keys": DAILY,
        "portal.ops.tasks.purge_throttle_windows": DAILY,
    }
    assert {repeats for _, _, _, repeats, _ in registered.values()} == {-1}  # for ever

    call_command("migrate", verbosity=0, interactive=False)
    ensure_schedules()

    assert schedules() == registered  # same rows, same next runs: nothing changed


def test_a_cadence_changed_by_hand_is_put_back_by_the_next_migrate():
    Schedule.objects.filter(func="portal.ops.tasks.resume_sagas").update(minutes=30)

    call_command("migrate", verbosity=0, interactive=False)

    assert Schedule.objects.get(func="portal.ops.tasks.resume_sagas").minutes == 1
    assert Schedule.objects.filter(func="portal.ops.tasks.resume_sagas").count() == 1


def test_the_clinic_manager_sees_the_workers_failed_tasks_and_reception_does_not(client):
    # A failed run as the worker records it (django-q's own save_task, our task's error).
    started = timezone.now()
    try:
        tasks.purge_idempotency_keys("an unexpected argument")
    except TypeError as error:
        result = f"{error} : {traceback.format_exc()}"
    save_task(
        {
            "id": uuid.uuid4().hex,
            "name": "purge-that-failed",
            "func": "portal.ops.tasks.purge_idempotency_keys",
            "args": ("an unexpected argument",),
            "kwargs": {},
            "started": started,
            "stopped": timezone.now(),
            "result": result,
            "success": False,
            "sync": True,
        },
        get_broker(),
    )
    failure = Failure.objects.get()
    url = reverse("admin:django_q_failure_changelist")

    client.force_login(staff_member("Clinic manager"))
    listing = client.get(url)
    assert listing.status_code == 200
    assert failure.name in listing.text
    detail = client.get(reverse("admin:django_q_failure_change", args=[failure.pk]))
    assert detail.status_code == 200 and "unexpected argument" in detail.text

    client.force_login(staff_member("Reception"))
    assert client.get(url).status_code == 403


def failed_notification(book) -> Notification:
    booking = book()
    row = Notification.objects.get(booking=booking, channel=Channel.EMAIL)
    Notification.objects.filter(pk=row.pk).update(
        status=Status.FAILED, attempts=5, last_error="ConnectionRefusedError: the mail server"
    )
    Notification.objects.filter(booking=booking, channel=Channel.SMS).delete()
    return row


def resend_through_the_admin(client, row: Notification):
    return client.post(
        reverse("admin:notifications_notification_changelist"),
        {"action": "resend", "_selected_action": [row.pk]},
        follow=True,
    )


def test_the_clinic_manager_resends_a_failed_notification_from_the_admin(client, book):
    row = failed_notification(book)
    client.force_login(staff_member("Clinic manager"))

    response = resend_through_the_admin(client, row)

    assert response.status_code == 200
    assert "1 failed notification(s) queued again." in response.text
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.PENDING, 0)
    assert row.due_at <= timezone.now()
    assert sender.send_due().sent == 1
    row.refresh_from_db()
    assert row.status == Status.SENT and len(mail.outbox) == 1


def test_staff_without_the_permission_cannot_resend(client, book):
    row = failed_notification(book)
    client.force_login(staff_member("Reception"))  # may view the outbox, not resend

    listing = client.get(reverse("admin:notifications_notification_changelist"))
    assert listing.status_code == 200 and 'value="resend"' not in listing.text
    resend_through_the_admin(client, row)

    row.refresh_from_db()
    assert row.status == Status.FAILED
    assert sender.send_due().claimed == 0 and mail.outbox == []
