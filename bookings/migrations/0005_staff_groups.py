"""The clinic's staff groups: what reception and the clinic manager may do in the admin.

Neither may delete bookings or payments, or edit any booking, payment, event or
audit row: those are history. Superusers stay a separate, rarely used account.
"""

from django.db import migrations

RECEPTION = {
    "bookings": [
        "view_booking",
        "view_bookingitem",
        "view_sagaevent",
        "view_auditlog",
        "view_medicalservice",
        "view_patientprofile",
    ],
    "payments": ["view_payment"],
    # Today's quota: see it, raise or lower its limit (never below what is granted).
    "quotas": ["view_discountquota", "change_discountquota", "view_quotareservation"],
    "pricing": ["view_clinicsettings"],
}

# Reception's permissions, plus the catalogue and the discount rules.
CLINIC_MANAGER_EXTRA = {
    "bookings": ["add_medicalservice", "change_medicalservice"],
    "payments": ["view_simulatedgatewaycharge"],
    "pricing": ["change_clinicsettings"],
}

GROUPS = {
    "Reception": RECEPTION,
    "Clinic manager": {
        app: RECEPTION.get(app, []) + CLINIC_MANAGER_EXTRA.get(app, [])
        for app in RECEPTION.keys() | CLINIC_MANAGER_EXTRA.keys()
    },
}


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations ran; make them now.
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        # create_permissions skips an app without models_module (as migrations' apps
        # are); put back what was there, so the real registry (tests call this with it)
        # keeps its modules and post_migrate still reaches every app.
        models_module = getattr(app_config, "models_module", None)  # stubs have none
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = models_module

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, by_app in GROUPS.items():
        permissions = []
        for app_label, codenames in by_app.items():
            found = list(
                Permission.objects.filter(
                    content_type__app_label=app_label, codename__in=codenames
                )
            )
            missing = set(codenames) - {p.codename for p in found}
            if missing:
                raise RuntimeError(f"Permissions not found for {app_label}: {sorted(missing)}")
            permissions += found
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(permissions)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("bookings", "0004_booking_request_key"),
        ("payments", "0001_initial"),
        ("pricing", "0003_clinic_settings_page"),
        ("quotas", "0002_default_settings"),
    ]
    operations = [migrations.RunPython(create_groups, remove_groups)]
