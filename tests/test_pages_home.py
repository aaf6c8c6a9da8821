"""The home page: services with prices, R1 in plain words, discounts left today."""

from decimal import Decimal

import pytest

from bookings.services import clinic_today
from pricing.models import DiscountSettings
from quotas.models import DiscountQuota

pytestmark = pytest.mark.django_db


def test_home_lists_active_services_with_rupee_prices(client, service_priced):
    service_priced("1250.00", name="Test MRI of the knee")
    service_priced("300.00", name="Old test", active=False)
    page = client.get("/").content.decode()
    assert "Test MRI of the knee" in page
    assert "₹1,250.00" in page
    assert "Old test" not in page


def test_home_states_the_discount_rule_with_percent_and_threshold(client):
    DiscountSettings.objects.update_or_create(pk=1, defaults={"discount_percent": Decimal("15")})
    page = client.get("/").content.decode()
    assert "15% off" in page
    assert "more than ₹1,000.00" in page
    assert "birthday" in page


def test_home_shows_discounts_left_today(client, set_default_limit):
    set_default_limit(5)
    DiscountQuota.objects.create(day=clinic_today(), limit=5, used=2)
    response = client.get("/")
    assert response.context["quota"].remaining == 3
    assert '<span class="quota-number">3</span>' in response.content.decode()
    assert "of 5 discounts left today" in response.content.decode()


def test_home_uses_indian_digit_grouping(client, service_priced):
    service_priced("125000.00", name="Surgery package")
    assert "₹1,25,000.00" in client.get("/").content.decode()


def test_home_page_declares_its_language_and_skip_link(client):
    page = client.get("/").content.decode()
    assert '<html lang="en-IN">' in page
    assert 'href="#main"' in page and 'id="main"' in page
