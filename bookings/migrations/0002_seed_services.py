"""Seed the catalogue with services a clinic in India commonly offers (prices in INR)."""

from decimal import Decimal

from django.db import migrations

SERVICES = [
    ("General Physician Consultation", "A consultation with a general physician.", "500.00"),
    ("Specialist Consultation", "A consultation with a cardiologist, dermatologist or ENT.", "900.00"),
    ("Complete Blood Count (CBC)", "Haemoglobin, blood cells and platelets.", "350.00"),
    ("Lipid Profile", "Cholesterol and triglycerides, after a 12-hour fast.", "650.00"),
    ("Thyroid Profile (T3, T4, TSH)", "Thyroid function blood test.", "550.00"),
    ("HbA1c", "Average blood sugar over three months.", "450.00"),
    ("Chest X-Ray", "Digital chest radiograph with report.", "700.00"),
    ("ECG", "Resting 12-lead electrocardiogram.", "300.00"),
    ("Ultrasound Abdomen", "Whole abdomen ultrasound with report.", "1500.00"),
    ("2D Echocardiogram", "Ultrasound of the heart with a cardiologist's report.", "2200.00"),
    ("CT Scan (Head)", "Plain CT of the head with report.", "3000.00"),
    ("MRI Scan", "MRI of one region with report.", "6500.00"),
]


def seed(apps, schema_editor):
    MedicalService = apps.get_model("bookings", "MedicalService")
    for name, description, price in SERVICES:
        MedicalService.objects.get_or_create(
            name=name, defaults={"description": description, "price": Decimal(price)}
        )


def unseed(apps, schema_editor):
    apps.get_model("bookings", "MedicalService").objects.filter(
        name__in=[name for name, _, _ in SERVICES], booking_items__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("bookings", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
