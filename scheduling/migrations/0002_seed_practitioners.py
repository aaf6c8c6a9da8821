"""Seed three practitioners with weekday schedules, so a fresh `make run` can book a slot."""

from datetime import date, time

from django.db import migrations

PRACTITIONERS = [
    # name, specialty, registration, services, weekdays, start, end, slot minutes, capacity
    (
        "Dr. Anjali Rao",
        "General Physician",
        "KMC-104233",
        ["General Physician Consultation"],
        range(0, 6),
        time(9, 0),
        time(13, 0),
        15,
        2,
    ),
    (
        "Dr. Vikram Iyer",
        "Cardiologist",
        "KMC-088120",
        ["Specialist Consultation", "2D Echocardiogram"],
        (0, 2, 4),
        time(10, 0),
        time(14, 0),
        20,
        1,
    ),
    (
        "Dr. Meera Nair",
        "Radiologist",
        "KMC-099871",
        ["Chest X-Ray", "Ultrasound Abdomen", "CT Scan (Head)", "MRI Scan"],
        range(0, 6),
        time(8, 0),
        time(17, 0),
        30,
        2,
    ),
]


def seed(apps, schema_editor):
    Practitioner = apps.get_model("scheduling", "Practitioner")
    WeeklySchedule = apps.get_model("scheduling", "WeeklySchedule")
    MedicalService = apps.get_model("bookings", "MedicalService")
    for name, specialty, registration, services, days, start, end, minutes, capacity in PRACTITIONERS:
        practitioner, created = Practitioner.objects.get_or_create(
            registration_number=registration, defaults={"name": name, "specialty": specialty}
        )
        if not created:
            continue
        practitioner.services.set(MedicalService.objects.filter(name__in=services))
        WeeklySchedule.objects.bulk_create(
            WeeklySchedule(
                practitioner=practitioner,
                weekday=day,
                start=start,
                end=end,
                slot_minutes=minutes,
                capacity=capacity,
                valid_from=date(2024, 1, 1),
            )
            for day in days
        )


def unseed(apps, schema_editor):
    apps.get_model("scheduling", "Practitioner").objects.filter(
        registration_number__in=[p[2] for p in PRACTITIONERS], slots__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0001_initial"),
        ("bookings", "0012_service_appointment_fields"),
    ]
    operations = [migrations.RunPython(seed, unseed)]
