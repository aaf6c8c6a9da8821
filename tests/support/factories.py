from datetime import date
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from bookings.models import MedicalService


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"patient{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.in")
    password = factory.django.Password("correct-horse-battery-staple")


class MedicalServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MedicalService

    name = factory.Sequence(lambda n: f"Test service {n}")
    description = "A service made for a test."
    price = Decimal("500.00")
    active = True


ADULT_BIRTHDAY = date(1990, 6, 15)  # a date no test's "today" falls on
