"""Reception sees the documents and the billing settings; the Clinic manager also edits
the settings. Nobody edits or deletes a document (a correction is a refund note)."""

from django.db import migrations

from bookings import staff_permissions

VIEW = ["view_document", "view_documentline", "view_billingsettings"]
GRANTS = {
    "Reception": {"billing": VIEW},
    "Clinic manager": {"billing": [*VIEW, "change_billingsettings"]},
}


def grant(apps, schema_editor):
    staff_permissions.grant(apps, GRANTS)


def revoke(apps, schema_editor):
    staff_permissions.revoke(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0001_initial"),
        ("bookings", "0005_staff_groups"),
    ]
    operations = [migrations.RunPython(grant, revoke)]
