"""Reception works in the clinic's words: the saga's events, the audit log and the
simulated gateway's ledger are the Clinic manager's (issue 17). The booking's page keeps
them in its "Technical details" for whoever still has `bookings.view_sagaevent`."""

from django.db import migrations

from bookings import staff_permissions

TECHNICAL = {
    "bookings": ["view_sagaevent", "view_auditlog"],
    "payments": ["view_simulatedgatewaycharge"],
}


def take_from_the_desk(apps, schema_editor):
    staff_permissions.revoke(apps, {"Reception": TECHNICAL})


def give_back(apps, schema_editor):
    staff_permissions.grant(apps, {"Reception": {"bookings": TECHNICAL["bookings"]}})


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0014_booking_exclusive_endings_expected_total"),
        ("payments", "0002_refunds"),
    ]
    operations = [migrations.RunPython(take_from_the_desk, give_back)]
