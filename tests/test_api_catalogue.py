"""API.md, Catalogue and rules: services, the discount config, the quota, staff quota edits."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from bookings.services import clinic_today
from pricing.models import DiscountSettings
from quotas.models import DiscountQuota
from tests.support.admin_helpers import staff_member

QUOTA = "/api/admin/quota"


@pytest.fixture
def staff_api(token_client):
    return token_client(staff_member("Reception"))


def test_services_lists_active_services_with_prices_as_strings(api, service_priced):
    service_priced("2500.00", name="Test MRI Scan", description="Magnetic resonance imaging")
    service_priced("300.00", name="Retired test", active=False)
    response = api.get("/api/services")
    assert response.status_code == 200
    mri = next(s for s in response.json() if s["name"] == "Test MRI Scan")
    assert mri == {
        "id": mri["id"],
        "name": "Test MRI Scan",
        "description": "Magnetic resonance imaging",
        "price": "2500.00",
        "currency": "INR",
        "requires_appointment": False,
        "duration_minutes": 15,
    }
    assert "Retired test" not in {s["name"] for s in response.json()}


def test_discount_config_tells_the_percent_and_threshold(api):
    DiscountSettings.objects.update_or_create(pk=1, defaults={"discount_percent": Decimal("15")})
    response = api.get("/api/config/discount")
    assert response.status_code == 200
    assert response.json() == {
        "discount_percent": "15.00",
        "price_threshold": "1000.00",
        "currency": "INR",
    }


def test_quota_status_describes_todays_clinic_day(api, set_default_limit):
    set_default_limit(40)
    today = clinic_today()
    DiscountQuota.objects.create(day=today, limit=40, used=3)
    response = api.get("/api/quota/status")
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "date": today.isoformat(),
        "time_zone": "Asia/Kolkata",
        "limit": 40,
        "used": 3,
        "remaining": 37,
        "resets_at": f"{(today + timedelta(days=1)).isoformat()}T00:00:00+05:30",
    }


def test_quota_status_of_a_day_with_no_discount_yet_shows_the_default_limit(api, set_default_limit):
    set_default_limit(7)
    body = api.get("/api/quota/status").json()
    assert (body["limit"], body["used"], body["remaining"]) == (7, 0, 7)
    assert not DiscountQuota.objects.exists()  # reading writes nothing


def test_staff_sets_todays_limit(staff_api):
    response = staff_api.put(QUOTA, {"limit": 5}, format="json")
    assert response.status_code == 200
    assert (response.json()["limit"], response.json()["remaining"]) == (5, 5)
    assert DiscountQuota.objects.get(day=clinic_today()).limit == 5


def test_staff_may_set_the_limit_to_zero(staff_api):
    response = staff_api.put(QUOTA, {"limit": 0}, format="json")
    assert response.status_code == 200
    assert response.json()["remaining"] == 0


def test_the_limit_cannot_go_below_todays_used(staff_api):
    DiscountQuota.objects.create(day=clinic_today(), limit=10, used=4)
    response = staff_api.put(QUOTA, {"limit": 3}, format="json")
    assert response.status_code == 400
    assert "4 discounts are already granted" in response.json()["limit"][0]
    assert DiscountQuota.objects.get(day=clinic_today()).limit == 10


@pytest.mark.parametrize("limit", [-1, "many", None, 10**12, 1.5])
def test_the_limit_must_be_a_whole_number_from_zero(staff_api, limit):
    response = staff_api.put(QUOTA, {"limit": limit}, format="json")
    assert response.status_code == 400
    assert "limit" in response.json()


def test_quota_edit_needs_credentials_401(api):
    response = api.put(QUOTA, {"limit": 5}, format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")


def test_quota_edit_is_staff_only_403(patient_api):
    response = patient_api.put(QUOTA, {"limit": 5}, format="json")
    assert response.status_code == 403
    assert not DiscountQuota.objects.filter(limit=5).exists()


def test_quota_edit_only_accepts_put_405(staff_api):
    assert staff_api.post(QUOTA, {"limit": 5}, format="json").status_code == 405


def test_a_staff_session_needs_its_csrf_token(db):
    staff = staff_member("Reception")
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(staff)
    refused = browser.put(QUOTA, {"limit": 5}, format="json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]

    # Django's CSRF pair: the secret in the cookie, the same (or a masked) token in the header.
    secret = "k" * 32
    browser.cookies["csrftoken"] = secret
    accepted = browser.put(QUOTA, {"limit": 5}, format="json", HTTP_X_CSRFTOKEN=secret)
    assert accepted.status_code == 200


def test_resets_at_is_the_next_clinic_midnight(api):
    resets_at = datetime.fromisoformat(api.get("/api/quota/status").json()["resets_at"])
    assert resets_at.utcoffset() == timedelta(hours=5, minutes=30)
    assert (resets_at.hour, resets_at.minute) == (0, 0)
