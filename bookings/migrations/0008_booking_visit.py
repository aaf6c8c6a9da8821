# A booking's visit: the day the patient comes, and (with an appointment) its times.
# Existing bookings were all walk-ins on their clinic day.

from django.db import migrations, models
from django.db.models import F, Q


def visit_on_the_clinic_day(apps, schema_editor):
    apps.get_model("bookings", "Booking").objects.update(visit_date=F("clinic_day"))


class Migration(migrations.Migration):

    dependencies = [
        ("bookings", "0007_idempotency_key_moves_to_portal"),
    ]

    operations = [
        migrations.AddField(
            model_name="booking",
            name="visit_date",
            field=models.DateField(null=True),
        ),
        migrations.RunPython(visit_on_the_clinic_day, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="booking",
            name="visit_date",
            field=models.DateField(),
        ),
        migrations.AddField(
            model_name="booking",
            name="appointment_start",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="booking",
            name="appointment_end",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddConstraint(
            model_name="booking",
            constraint=models.CheckConstraint(
                condition=Q(appointment_start__isnull=True, appointment_end__isnull=True)
                | Q(appointment_end__gt=F("appointment_start")),
                name="booking_appointment_times_valid",
            ),
        ),
    ]
