"""The seeded hours give every seeded service a slot at least as long as it takes: the
cardiologist's slots are 30 minutes (a 2D echo takes 30); the radiologist keeps 30-minute
slots in the morning and has 45-minute ones in the afternoon (an MRI takes 45).

Only schedules still as seeded are changed (staff may have edited them)."""

from datetime import date, time

from django.db import migrations


def lengthen(apps, schema_editor):
    WeeklySchedule = apps.get_model("scheduling", "WeeklySchedule")
    WeeklySchedule.objects.filter(
        practitioner__registration_number="KMC-088120",
        start=time(10, 0),
        end=time(14, 0),
        slot_minutes=20,
    ).update(slot_minutes=30)
    seeded = WeeklySchedule.objects.filter(
        practitioner__registration_number="KMC-099871",
        start=time(8, 0),
        end=time(17, 0),
        slot_minutes=30,
    )
    for schedule in seeded:
        schedule.end = time(13, 0)
        schedule.save(update_fields=["end"])
        WeeklySchedule.objects.create(
            practitioner_id=schedule.practitioner_id,
            weekday=schedule.weekday,
            start=time(14, 0),
            end=time(17, 0),
            slot_minutes=45,
            capacity=1,
            valid_from=date(2024, 1, 1),
        )


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0004_one_live_slot_booking_per_saga")]
    operations = [migrations.RunPython(lengthen, migrations.RunPython.noop)]
