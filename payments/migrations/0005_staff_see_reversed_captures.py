from django.db import migrations

from bookings import staff_permissions

# Reception and the clinic manager see the captures refunded because their booking did
# not keep them (expired, paid twice, another amount): a failed one is theirs to settle.
GRANTS = {
    "Reception": {"payments": ["view_reversedcapture"]},
    "Clinic manager": {"payments": ["view_reversedcapture"]},
}


def grant(apps, schema_editor):
    staff_permissions.grant(apps, GRANTS)


def revoke(apps, schema_editor):
    staff_permissions.revoke(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0004_online_payment"),
        ("bookings", "0018_online_payment"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
