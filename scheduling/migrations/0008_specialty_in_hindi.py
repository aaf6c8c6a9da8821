"""A practitioner's specialty in English and Hindi (django-modeltranslation,
scheduling/translation.py): the English column takes the text the rows have, and the
seeded practitioners' specialties get their Hindi (where none was written)."""

from django.db import migrations, models
from django.db.models import F

# The specialties of 0002_seed_practitioners.
SEEDED_IN_HINDI = {
    "General Physician": "सामान्य चिकित्सक",
    "Cardiologist": "हृदय रोग विशेषज्ञ",
    "Radiologist": "रेडियोलॉजिस्ट",
}


def copy_and_seed(apps, schema_editor):
    Practitioner = apps.get_model("scheduling", "Practitioner")
    Practitioner.objects.update(specialty_en=F("specialty"))
    for english, hindi in SEEDED_IN_HINDI.items():
        Practitioner.objects.filter(specialty=english, specialty_hi__isnull=True).update(
            specialty_hi=hindi
        )


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0007_seed_opening_hours")]

    operations = [
        migrations.AddField(
            model_name="practitioner",
            name="specialty_en",
            field=models.CharField(max_length=80, null=True),
        ),
        migrations.AddField(
            model_name="practitioner",
            name="specialty_hi",
            field=models.CharField(max_length=80, null=True),
        ),
        migrations.RunPython(copy_and_seed, migrations.RunPython.noop),
    ]
