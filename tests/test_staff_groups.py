"""The staff groups made by migration: what reception and the manager may do."""

import pytest
from django.contrib.auth.models import Group

from tests.support.admin_helpers import staff_member


@pytest.mark.django_db
def test_no_staff_group_may_delete_or_edit_history():
    staff_member("Reception")  # makes sure the groups exist
    for group in Group.objects.filter(name__in=["Reception", "Clinic manager"]):
        codenames = set(group.permissions.values_list("codename", flat=True))
        assert not {c for c in codenames if c.startswith("delete_")}
        for history in ("booking", "bookingitem", "payment", "sagaevent", "auditlog"):
            assert f"change_{history}" not in codenames
            assert f"add_{history}" not in codenames


@pytest.mark.django_db
def test_reception_may_change_the_days_quota_but_not_prices_or_rules():
    user = staff_member("Reception")
    assert user.has_perm("quotas.change_discountquota")
    assert user.has_perm("bookings.view_booking") and user.has_perm("payments.view_payment")
    assert not user.has_perm("bookings.change_medicalservice")
    assert not user.has_perm("pricing.change_clinicsettings")
    assert not user.is_superuser


@pytest.mark.django_db
def test_the_clinic_manager_may_also_edit_services_and_the_discount_rules():
    user = staff_member("Clinic manager")
    assert user.has_perm("bookings.add_medicalservice")
    assert user.has_perm("bookings.change_medicalservice")
    assert not user.has_perm("bookings.delete_medicalservice")
    assert user.has_perm("pricing.change_clinicsettings")
    assert not user.is_superuser


@pytest.mark.django_db
@pytest.mark.parametrize("group", ["Reception", "Clinic manager"])
def test_the_desk_may_cancel_for_the_clinic_and_see_refunds(group):
    user = staff_member(group)
    assert user.has_perm("bookings.cancel_booking")
    assert user.has_perm("payments.view_refund")
    assert not user.has_perm("payments.change_refund")


@pytest.mark.django_db
def test_only_the_clinic_manager_publishes_a_cancellation_policy():
    assert staff_member("Clinic manager").has_perm("pricing.add_cancellationpolicy")
    reception = staff_member("Reception")
    assert reception.has_perm("pricing.view_cancellationpolicy")
    assert not reception.has_perm("pricing.add_cancellationpolicy")


def test_granting_again_with_the_real_registry_leaves_every_app_its_models(db):
    # tests/support/admin_helpers re-runs the grants with django.apps.apps after a flush;
    # the registry must keep its models modules, or `migrate` stops sending post_migrate
    # to the apps (the worker's schedules were then never registered).
    from django.apps import apps

    from tests.support.admin_helpers import GRANTS

    before = {config.label: config.models_module for config in apps.get_app_configs()}
    for grant in GRANTS:
        grant(apps, None)
    assert {config.label: config.models_module for config in apps.get_app_configs()} == before
