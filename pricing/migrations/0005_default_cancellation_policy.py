# The clinic's first cancellation policy (version 1), and who may see or change it.
# Bookings sold before policies existed fall under this version.

from decimal import Decimal

from django.db import migrations

from bookings import staff_permissions

TIERS = [
    # notice (hours before the visit), refund %, fee (₹)
    (24, Decimal("100.00"), Decimal("0.00")),
    (6, Decimal("100.00"), Decimal("100.00")),
    (2, Decimal("50.00"), Decimal("0.00")),
]  # under 2 hours: nothing back

RECEPTION = ["view_cancellationpolicy", "view_cancellationtier"]
CLINIC_MANAGER = RECEPTION + ["add_cancellationpolicy", "add_cancellationtier"]


def create(apps, schema_editor):
    Policy = apps.get_model("pricing", "CancellationPolicy")
    Tier = apps.get_model("pricing", "CancellationTier")
    if not Policy.objects.exists():
        policy = Policy.objects.create(
            reschedule_until_hours_before=4, max_reschedules=2, published_by="system:setup"
        )
        Tier.objects.bulk_create(
            Tier(policy=policy, min_hours_before=h, refund_percent=p, fee=f) for h, p, f in TIERS
        )

    staff_permissions.grant(
        apps, {"Reception": {"pricing": RECEPTION}, "Clinic manager": {"pricing": CLINIC_MANAGER}}
    )


class Migration(migrations.Migration):
    dependencies = [
        ("pricing", "0004_cancellation_policy"),
        ("bookings", "0005_staff_groups"),
    ]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
