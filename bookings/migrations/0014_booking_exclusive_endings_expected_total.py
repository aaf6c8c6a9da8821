# Terminal states are exclusive (DESIGN.md): a booking being undone is marked
# `compensating` in the same transaction that logs CompensationTriggered, and the
# database refuses a confirmed booking so marked, or a failed one not so marked.
# Also the amount the patient was shown (`expected_total`), for "never charge more".

from django.conf import settings
from django.db import migrations, models
from django.db.models import Exists, OuterRef, Q


def mark_bookings_being_undone(apps, schema_editor):
    """Failed bookings were all undone; a pending one is being undone when its
    CompensationTriggered is logged. A confirmed booking is left as it ended."""
    Booking = apps.get_model("bookings", "Booking")
    SagaEvent = apps.get_model("bookings", "SagaEvent")
    compensation = SagaEvent.objects.filter(
        correlation_id=OuterRef("correlation_id"), event_type="CompensationTriggered"
    )
    Booking.objects.filter(Q(status="failed") | (Q(status="pending") & Q(Exists(compensation)))).update(
        compensating=True
    )


class Migration(migrations.Migration):

    dependencies = [
        ("bookings", "0013_booking_reschedules"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="booking",
            name="compensating",
            field=models.BooleanField(default=False, verbose_name="compensation started"),
        ),
        migrations.AddField(
            model_name="booking",
            name="expected_total",
            field=models.DecimalField(blank=True, decimal_places=2, max_digits=12, null=True),
        ),
        migrations.RunPython(mark_bookings_being_undone, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="booking",
            constraint=models.CheckConstraint(
                condition=~Q(status="confirmed") | Q(compensating=False),
                name="booking_confirmed_never_compensated",
            ),
        ),
        migrations.AddConstraint(
            model_name="booking",
            constraint=models.CheckConstraint(
                condition=~Q(status="failed") | Q(compensating=True),
                name="booking_failed_only_by_compensation",
            ),
        ),
        migrations.AddConstraint(
            model_name="booking",
            constraint=models.CheckConstraint(
                condition=Q(expected_total__isnull=True) | Q(expected_total__gte=0),
                name="booking_expected_total_non_negative",
            ),
        ),
    ]
