"""The staff groups' permissions, granted by data migrations: one routine for all of them.

A migration names what each group gets, `{"Reception": {"app_label": ["codename", …]}}`,
and calls `grant(apps, that)` from its RunPython (and `revoke` to go back).
"""

from typing import Any

Grants = dict[str, dict[str, list[str]]]


def grant(apps: Any, grants: Grants) -> None:
    """Add the permissions to each group (made if missing); fail loudly on a typo."""
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
    for name, by_app in grants.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codenames in by_app.items():
            found = list(
                Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
            )
            missing = set(codenames) - {p.codename for p in found}
            if missing:
                raise RuntimeError(f"Permissions not found for {app_label}: {sorted(missing)}")
            group.permissions.add(*found)


def revoke(apps: Any, grants: Grants) -> None:
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, by_app in grants.items():
        for group in Group.objects.filter(name=name):
            for app_label, codenames in by_app.items():
                group.permissions.remove(
                    *Permission.objects.filter(
                        content_type__app_label=app_label, codename__in=codenames
                    )
                )
