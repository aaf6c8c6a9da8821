"""Practitioners and slots made for a test, without going through the weekly schedules;
and the server's TZ environment variable set for a while."""

import os
import time as clock
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from bookings.models import MedicalService
from bookings.services import clinic_today
from scheduling.models import Practitioner, Slot, SlotDay
from scheduling.services import clinic_zone
from tests.support.factories import MedicalServiceFactory, PractitionerFactory, SlotFactory


def appointment_service(price: str = "900.00", **kwargs) -> MedicalService:
    kwargs.setdefault("duration_minutes", 15)
    return MedicalServiceFactory(price=Decimal(price), requires_appointment=True, **kwargs)


def practitioner(*services: MedicalService, name: str | None = None, **kwargs) -> Practitioner:
    if name is not None:
        kwargs["name"] = name
    return PractitionerFactory(services=services, **kwargs)


def clinic_time(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=clinic_zone())


def slot(
    doctor: Practitioner,
    *,
    day: date | None = None,
    at: tuple[int, int] = (9, 0),
    minutes: int = 15,
    capacity: int = 1,
    booked: int = 0,
) -> Slot:
    """A slot (tomorrow 09:00 IST by default). Its day is marked generated, so no
    schedule adds slots around it."""
    day = day or clinic_today() + timedelta(days=1)
    SlotDay.objects.get_or_create(day=day)
    start = clinic_time(day, *at)
    return SlotFactory(
        practitioner=doctor,
        start=start,
        end=start + timedelta(minutes=minutes),
        capacity=capacity,
        booked=booked,
    )


@contextmanager
def server_tz(name: str):
    """The process's TZ environment variable, as a server might have it."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = name
    clock.tzset()
    try:
        yield
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        clock.tzset()
