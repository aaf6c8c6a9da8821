"""The "Practitioner" group: a practitioner's own day (see_own_day). Reception may now
record a practitioner's leave (add and change schedule exceptions); closing the whole
clinic for a holiday stays the Clinic manager's (record_clinic_holiday)."""

from django.db import migrations

from bookings import staff_permissions

GRANTS = {
    "Practitioner": {"scheduling": ["see_own_day"]},
    "Reception": {"scheduling": ["add_scheduleexception", "change_scheduleexception"]},
    "Clinic manager": {"scheduling": ["record_clinic_holiday"]},
}


def grant(apps, schema_editor):
    staff_permissions.grant(apps, GRANTS)


def revoke(apps, schema_editor):
    staff_permissions.revoke(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0009_practitioner_user"),
        ("bookings", "0005_staff_groups"),
    ]
    operations = [migrations.RunPython(grant, revoke)]
