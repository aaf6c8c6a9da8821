"""Reception views practitioners, schedules, leave and slots; the Clinic manager edits them
(no group deletes: an hour or a leave ends by setting its dates, keeping the history)."""

from django.db import migrations

from bookings import staff_permissions

VIEW = [
    "view_practitioner",
    "view_weeklyschedule",
    "view_scheduleexception",
    "view_slot",
    "view_slotbooking",
    "use_front_desk",
]
EDIT = [
    "add_practitioner",
    "change_practitioner",
    "add_weeklyschedule",
    "change_weeklyschedule",
    "add_scheduleexception",
    "change_scheduleexception",
]
GRANTS = {"Reception": {"scheduling": VIEW}, "Clinic manager": {"scheduling": VIEW + EDIT}}


def grant(apps, schema_editor):
    staff_permissions.grant(apps, GRANTS)


def revoke(apps, schema_editor):
    staff_permissions.revoke(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0002_seed_practitioners"),
        ("bookings", "0005_staff_groups"),
    ]
    operations = [migrations.RunPython(grant, revoke)]
