"""The discount percentage and the default daily limit, edited together on one page."""

from decimal import Decimal

import pytest
from django.urls import reverse

from bookings.models import AuditLog
from pricing.models import DiscountSettings
from quotas.models import QuotaSettings
from tests.support.admin_helpers import staff_member


def settings_rows() -> None:
    """The rows the migrations make (a transactional test before may have flushed them)."""
    DiscountSettings.objects.get_or_create(pk=DiscountSettings.SINGLETON_ID)
    QuotaSettings.objects.get_or_create(pk=QuotaSettings.SINGLETON_ID)


URL = reverse("admin:pricing_clinicsettings_change", args=[1])


@pytest.fixture
def manager(client):
    settings_rows()
    client.force_login(staff_member("Clinic manager", username="dr_rao"))
    return client


@pytest.mark.django_db
def test_the_settings_list_leads_to_the_one_settings_page(manager):
    response = manager.get(reverse("admin:pricing_clinicsettings_changelist"))
    assert response.status_code == 302
    assert response["Location"] == URL


@pytest.mark.django_db
def test_both_settings_change_from_one_page_each_audited(manager):
    response = manager.post(
        URL, {"discount_percent": "15.50", "default_daily_limit": "40"}, follow=True
    )
    assert response.status_code == 200
    assert "settings were saved" in response.text
    assert DiscountSettings.current().discount_percent == Decimal("15.50")
    assert QuotaSettings.current().default_daily_limit == 40
    percent = AuditLog.objects.get(action="discount.percent_changed")
    assert (percent.actor, percent.before, percent.after) == (
        "dr_rao",
        {"discount_percent": "12.00"},
        {"discount_percent": "15.50"},
    )
    limit = AuditLog.objects.get(action="quota.default_limit_changed")
    assert (limit.actor, limit.before, limit.after) == (
        "dr_rao",
        {"default_daily_limit": 100},
        {"default_daily_limit": 40},
    )


@pytest.mark.django_db
def test_saving_unchanged_settings_writes_no_audit_row(manager):
    manager.post(URL, {"discount_percent": "12.00", "default_daily_limit": "100"})
    assert not AuditLog.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("percent", "limit", "field"),
    [
        ("100.01", "10", "discount_percent"),
        ("-1", "10", "discount_percent"),
        ("abc", "10", "discount_percent"),
        ("10", "-1", "default_daily_limit"),
        ("10", "", "default_daily_limit"),
    ],
)
def test_out_of_range_settings_are_refused_and_nothing_changes(manager, percent, limit, field):
    response = manager.post(URL, {"discount_percent": percent, "default_daily_limit": limit})
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert DiscountSettings.current().discount_percent == Decimal("12.00")
    assert QuotaSettings.current().default_daily_limit == 100
    assert not AuditLog.objects.exists()


@pytest.mark.django_db
def test_the_edges_zero_and_a_hundred_percent_and_a_zero_limit_are_accepted(manager):
    manager.post(URL, {"discount_percent": "100", "default_daily_limit": "0"})
    assert DiscountSettings.current().discount_percent == Decimal("100.00")
    assert QuotaSettings.current().default_daily_limit == 0
    manager.post(URL, {"discount_percent": "0", "default_daily_limit": "0"})
    assert DiscountSettings.current().discount_percent == Decimal("0.00")


@pytest.mark.django_db
def test_reception_cannot_change_the_settings_with_a_crafted_post(client):
    settings_rows()
    client.force_login(staff_member("Reception"))
    response = client.post(URL, {"discount_percent": "50", "default_daily_limit": "1"})
    assert response.status_code == 403
    assert DiscountSettings.current().discount_percent == Decimal("12.00")
    assert QuotaSettings.current().default_daily_limit == 100


@pytest.mark.django_db
def test_settings_cannot_be_added_or_deleted(manager):
    assert manager.get(reverse("admin:pricing_clinicsettings_add")).status_code == 403
    delete = reverse("admin:pricing_clinicsettings_delete", args=[1])
    assert manager.post(delete, {"post": "yes"}).status_code == 403
    assert DiscountSettings.objects.filter(pk=1).exists()


@pytest.mark.usefixtures("commits")
def test_a_new_percentage_applies_to_the_next_booking_and_not_to_earlier_ones(manager, book):
    earlier = book(prices=("2000.00",))
    manager.post(URL, {"discount_percent": "20", "default_daily_limit": "100"})
    later = book(prices=("2000.00",))
    assert (earlier.discount_amount, earlier.final_price) == (Decimal("240.00"), Decimal("1760.00"))
    assert (later.discount_amount, later.final_price) == (Decimal("400.00"), Decimal("1600.00"))
