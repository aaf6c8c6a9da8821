from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from django.conf import settings

from bookings.models import Booking
from bookings.services import initiate_booking
from quotas.models import QuotaSettings
from tests.factories import ADULT_BIRTHDAY, MedicalServiceFactory, UserFactory


def pytest_sessionstart(session: pytest.Session) -> None:
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        pytest.exit(f"The tests run on PostgreSQL only, not {engine}: set DATABASE_URL.", 1)


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def service_priced(db) -> Callable[[str], object]:
    def make(price: str, **kwargs):
        return MedicalServiceFactory(price=Decimal(price), **kwargs)

    return make


@pytest.fixture
def set_default_limit(db) -> Callable[[int], None]:
    def set_limit(limit: int) -> None:
        QuotaSettings.objects.update_or_create(pk=1, defaults={"default_daily_limit": limit})

    return set_limit


@pytest.fixture
def book(user, service_priced) -> Callable[..., Booking]:
    """Run a whole booking saga and return the booking as it ended."""

    def run(
        *,
        prices: tuple[str, ...] = ("500.00",),
        gender: str = "male",
        date_of_birth: date = ADULT_BIRTHDAY,
        payment_token: str = "tok_visa",
        services=None,
        by=None,
    ) -> Booking:
        chosen = services or [service_priced(p) for p in prices]
        booking = initiate_booking(
            user=by or user,
            patient_name="Asha Verma",
            gender=gender,
            date_of_birth=date_of_birth,
            service_ids=[s.pk for s in chosen],
            payment_token=payment_token,
        )
        booking.refresh_from_db()
        return booking

    return run
