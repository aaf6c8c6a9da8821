"""The worker's periodic jobs, in code: created or updated by name after every migrate.

Idempotent (update_or_create by name), so a deploy that changes a cadence here
changes the row; staff see the schedules and every failed run in the admin
("Background tasks").
"""

from typing import Any

from django.utils import timezone

EVERY_MINUTE: dict[str, Any] = {"schedule_type": "I", "minutes": 1}
DAILY: dict[str, Any] = {"schedule_type": "D"}

SCHEDULES: dict[str, tuple[str, dict[str, Any]]] = {
    "worker heartbeat": ("portal.ops.tasks.heartbeat", EVERY_MINUTE),
    "resume sagas": ("portal.ops.tasks.resume_sagas", EVERY_MINUTE),
    "reconcile online payments": ("payments.tasks.reconcile_online_payments", EVERY_MINUTE),
    "send due notifications": ("notifications.tasks.send_due_notifications", EVERY_MINUTE),
    "sweep the event log for notifications": ("notifications.tasks.sweep_event_log", EVERY_MINUTE),
    "purge idempotency keys": ("portal.ops.tasks.purge_idempotency_keys", DAILY),
    "purge throttle windows": ("portal.ops.tasks.purge_throttle_windows", DAILY),
}


def ensure_schedules(**_) -> None:
    from django_q.models import Schedule

    for name, (func, cadence) in SCHEDULES.items():
        row = Schedule.objects.filter(name=name).first()
        if row and row.func == func and all(getattr(row, k) == v for k, v in cadence.items()):
            continue  # unchanged: keep its next_run
        Schedule.objects.update_or_create(
            name=name,
            defaults={"func": func, "repeats": -1, "next_run": timezone.now(), **cadence},
        )
