"""Staff see the outbox and the worker's tasks (failed ones included) in the admin.

Reception views the notifications; the clinic manager also resends failed ones and
views the worker's schedules, queued, successful and failed tasks (django_q's admin).
"""

from django.db import migrations

GRANTS = {
    "Reception": {"notifications": ["view_notification"]},
    "Clinic manager": {
        "notifications": ["view_notification", "resend_notification"],
        "django_q": ["view_schedule", "view_success", "view_failure", "view_ormq"],
    },
}


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations ran; make them now.
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, by_app in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codenames in by_app.items():
            found = list(
                Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
            )
            missing = set(codenames) - {p.codename for p in found}
            if missing:
                raise RuntimeError(f"Permissions not found for {app_label}: {sorted(missing)}")
            group.permissions.add(*found)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, by_app in GRANTS.items():
        for group in Group.objects.filter(name=name):
            for app_label, codenames in by_app.items():
                group.permissions.remove(
                    *Permission.objects.filter(
                        content_type__app_label=app_label, codename__in=codenames
                    )
                )


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("bookings", "0005_staff_groups"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]
    operations = [migrations.RunPython(grant, revoke)]
