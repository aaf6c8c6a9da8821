"""Staff accounts for the admin tests: the real groups made by the migration."""

import importlib

from django.apps import apps
from django.contrib.auth.models import Group

from tests.support.factories import UserFactory

STAFF_PASSWORD = "correct-horse-battery-staple"  # the factory's, for browser logins

staff_groups_migration = importlib.import_module("bookings.migrations.0005_staff_groups")
scheduling_permissions_migration = importlib.import_module(
    "scheduling.migrations.0003_staff_permissions"
)


def staff_member(group: str = "Reception", **kwargs):
    """A staff account (not a superuser) in one of the clinic's groups."""
    if not Group.objects.filter(name=group).exists():
        # A transactional test before this one flushed the tables the migration
        # filled; run the same migration code again.
        staff_groups_migration.create_groups(apps, None)
        scheduling_permissions_migration.grant(apps, None)
    user = UserFactory(is_staff=True, **kwargs)
    user.groups.add(Group.objects.get(name=group))
    return user


def superuser(**kwargs):
    return UserFactory(is_staff=True, is_superuser=True, **kwargs)
