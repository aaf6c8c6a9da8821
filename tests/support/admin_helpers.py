"""Staff accounts for the admin tests: the real groups made by the migration."""

import importlib

from django.apps import apps
from django.contrib.auth.models import Group

from tests.support.factories import UserFactory

STAFF_PASSWORD = "correct-horse-battery-staple"  # the factory's, for browser logins

# Every migration that grants the groups permissions, in order.
GRANTS = [
    importlib.import_module("bookings.migrations.0005_staff_groups").create_groups,
    importlib.import_module("pricing.migrations.0005_default_cancellation_policy").create,
    importlib.import_module("bookings.migrations.0011_cancel_permission").grant_to_the_desk,
    importlib.import_module("scheduling.migrations.0003_staff_permissions").grant,
    importlib.import_module("bookings.migrations.0013_booking_reschedules").grant_to_the_desk,
    importlib.import_module("notifications.migrations.0002_staff_see_background_work").grant,
    importlib.import_module(
        "bookings.migrations.0015_reception_without_technical_lists"
    ).take_from_the_desk,
    importlib.import_module("payments.migrations.0005_staff_see_reversed_captures").grant,
    importlib.import_module("billing.migrations.0002_staff_permissions").grant,
    importlib.import_module("scheduling.migrations.0007_seed_opening_hours").grant,
    importlib.import_module("scheduling.migrations.0010_practitioner_group").grant,
    importlib.import_module("payments.migrations.0007_day_close_permissions").grant,
]


def staff_member(group: str = "Reception", **kwargs):
    """A staff account (not a superuser) in one of the clinic's groups."""
    if not Group.objects.filter(name=group).exists():
        # A transactional test before this one flushed the tables the migration
        # filled; run the same migration code again.
        for grant in GRANTS:
            grant(apps, None)
    user = UserFactory(is_staff=True, **kwargs)
    user.groups.add(Group.objects.get(name=group))
    return user


def superuser(**kwargs):
    return UserFactory(is_staff=True, is_superuser=True, **kwargs)
