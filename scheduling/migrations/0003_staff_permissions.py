"""Reception views practitioners, schedules, leave and slots; the Clinic manager edits them
(no group deletes: an hour or a leave ends by setting its dates, keeping the history)."""

from django.db import migrations

VIEW = [
    "view_practitioner",
    "view_weeklyschedule",
    "view_scheduleexception",
    "view_slot",
    "view_slotbooking",
    "use_front_desk",
]
EDIT = [
    "add_practitioner",
    "change_practitioner",
    "add_weeklyschedule",
    "change_weeklyschedule",
    "add_scheduleexception",
    "change_scheduleexception",
]
GROUPS = {"Reception": VIEW, "Clinic manager": VIEW + EDIT}


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config("scheduling")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUPS.items():
        found = list(
            Permission.objects.filter(content_type__app_label="scheduling", codename__in=codenames)
        )
        missing = set(codenames) - {p.codename for p in found}
        if missing:
            raise RuntimeError(f"Permissions not found for scheduling: {sorted(missing)}")
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*found)


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    for group in apps.get_model("auth", "Group").objects.filter(name__in=GROUPS):
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="scheduling")
        )


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0002_seed_practitioners"),
        ("bookings", "0005_staff_groups"),
    ]
    operations = [migrations.RunPython(grant, revoke)]
