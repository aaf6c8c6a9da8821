"""The front desk's day close: a receptionist sees their own drawer, the clinic manager
everyone's. Cash refunds made before `handed_back_by` existed get it from their
cancellation's event (its actor, when staff cancelled)."""

from django.db import migrations

from bookings import staff_permissions

GRANTS = {
    "Reception": {"payments": ["view_own_day_close"]},
    "Clinic manager": {"payments": ["view_own_day_close", "view_any_day_close"]},
}


def grant(apps, schema_editor):
    staff_permissions.grant(apps, GRANTS)


def revoke(apps, schema_editor):
    staff_permissions.revoke(apps, GRANTS)


def backfill_handed_back_by(apps, schema_editor):
    Refund = apps.get_model("payments", "Refund")
    SagaEvent = apps.get_model("bookings", "SagaEvent")
    for refund in Refund.objects.filter(payment__method="cash", handed_back_by=""):
        requested = SagaEvent.objects.filter(
            correlation_id=refund.correlation_id, event_type="CancellationRequested"
        ).first()
        if requested and requested.payload.get("by_staff"):
            refund.handed_back_by = requested.payload.get("actor", "")[:150]
            refund.save(update_fields=["handed_back_by"])


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0006_refund_handed_back_by"),
        ("bookings", "0020_service_sac_and_gst_rate"),
    ]

    operations = [
        migrations.RunPython(grant, revoke),
        migrations.RunPython(backfill_handed_back_by, migrations.RunPython.noop),
    ]
