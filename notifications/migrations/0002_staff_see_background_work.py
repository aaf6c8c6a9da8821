"""Staff see the outbox and the worker's tasks (failed ones included) in the admin.

Reception views the notifications; the clinic manager also resends failed ones and
views the worker's schedules, queued, successful and failed tasks (django_q's admin).
"""

from django.db import migrations

from bookings import staff_permissions

GRANTS = {
    "Reception": {"notifications": ["view_notification"]},
    "Clinic manager": {
        "notifications": ["view_notification", "resend_notification"],
        "django_q": ["view_schedule", "view_success", "view_failure", "view_ormq"],
    },
}


def grant(apps, schema_editor):
    staff_permissions.grant(apps, GRANTS)


def revoke(apps, schema_editor):
    staff_permissions.revoke(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("bookings", "0005_staff_groups"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]
    operations = [migrations.RunPython(grant, revoke)]
