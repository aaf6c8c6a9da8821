"""Seed the clinic's opening hours from the practitioners' current schedules: each weekday
opens at its earliest schedule's start and closes at its latest end (08:00–17:00 Mon–Sat
with the seeded practitioners); a weekday nobody works is closed. The Clinic manager
edits them, Reception sees them."""

from datetime import date, time

from django.db import migrations
from django.db.models import Max, Min, Q

from bookings import staff_permissions

GRANTS = {
    "Reception": {"scheduling": ["view_openinghours"]},
    "Clinic manager": {"scheduling": ["view_openinghours", "change_openinghours"]},
}


def seed(apps, schema_editor):
    OpeningHours = apps.get_model("scheduling", "OpeningHours")
    WeeklySchedule = apps.get_model("scheduling", "WeeklySchedule")
    spans = {
        row["weekday"]: (row["opens"], row["closes"])
        for row in WeeklySchedule.objects.filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=date.today()),
            practitioner__active=True,
        )
        .values("weekday")
        .annotate(opens=Min("start"), closes=Max("end"))
    }
    for weekday in range(7):
        opens, closes = spans.get(weekday, (time(8, 0), time(17, 0)))
        OpeningHours.objects.get_or_create(
            weekday=weekday,
            defaults={"opens": opens, "closes": closes, "closed": weekday not in spans},
        )


def unseed(apps, schema_editor):
    apps.get_model("scheduling", "OpeningHours").objects.all().delete()


def grant(apps, schema_editor):
    staff_permissions.grant(apps, GRANTS)


def revoke(apps, schema_editor):
    staff_permissions.revoke(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0006_opening_hours"),
        ("bookings", "0005_staff_groups"),
    ]
    operations = [migrations.RunPython(seed, unseed), migrations.RunPython(grant, revoke)]
