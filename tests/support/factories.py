"""factory-boy factories, one per model a test builds by hand, grouped by the app that
owns the model. They make rows only: a booking that must have gone through the saga is
made by the `book` fixture (tests/conftest.py), never by BookingFactory."""

from datetime import date, timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from bookings.models import Booking, BookingItem, BookingStatus, MedicalService, PatientProfile
from bookings.services import clinic_today
from notifications.models import Channel, Kind, Notification
from payments.models import Payment, Refund
from scheduling.models import Practitioner, Slot

ADULT_BIRTHDAY = date(1990, 6, 15)  # a date no test's "today" falls on

# --- accounts and bookings ----------------------------------------------------------


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"patient{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.in")
    password = factory.django.Password("correct-horse-battery-staple")


class PatientProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PatientProfile

    user = factory.SubFactory(UserFactory)
    full_name = "Asha Verma"
    gender = "female"
    date_of_birth = ADULT_BIRTHDAY


class MedicalServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MedicalService

    name = factory.Sequence(lambda n: f"Test service {n}")
    description = "A service made for a test."
    price = Decimal("500.00")
    active = True


class BookingFactory(factory.django.DjangoModelFactory):
    """A booking row as the saga would have left it confirmed (no events, no payment)."""

    class Meta:
        model = Booking

    user = factory.SubFactory(UserFactory)
    patient_name = "Asha Verma"
    gender = "female"
    date_of_birth = ADULT_BIRTHDAY
    payment_token = "tok_visa"
    status = BookingStatus.CONFIRMED
    clinic_day = factory.LazyFunction(clinic_today)
    visit_date = factory.LazyAttribute(lambda b: b.clinic_day)
    base_price = Decimal("500.00")
    discount_eligible = False
    discount_applied = False
    quota_exhausted = False
    discount_amount = Decimal("0.00")
    final_price = factory.LazyAttribute(lambda b: b.base_price - b.discount_amount)
    confirmation_code = factory.Sequence(lambda n: f"TEST{n:06d}")


class BookingItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BookingItem

    booking = factory.SubFactory(BookingFactory)
    service = factory.SubFactory(MedicalServiceFactory)
    name = factory.LazyAttribute(lambda item: item.service.name)
    price = factory.LazyAttribute(lambda item: item.service.price)


# --- scheduling ---------------------------------------------------------------------


class PractitionerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Practitioner
        skip_postgeneration_save = True  # services are a many-to-many: no second save

    name = factory.Sequence(lambda n: f"Dr. Test {n}")
    specialty = "General Physician"
    registration_number = factory.Sequence(lambda n: f"TEST-{n}")

    @factory.post_generation
    def services(self, create, extracted, **kwargs):
        if create and extracted:
            self.services.set(extracted)


class SlotFactory(factory.django.DjangoModelFactory):
    """A slot tomorrow at 09:00 in the server's zone unless given `start`; see
    tests/support/scheduling.slot for one at a clinic (IST) hour on a generated day."""

    class Meta:
        model = Slot

    practitioner = factory.SubFactory(PractitionerFactory)
    start = factory.LazyFunction(
        lambda: (timezone.now() + timedelta(days=1)).replace(
            hour=9, minute=0, second=0, microsecond=0
        )
    )
    end = factory.LazyAttribute(lambda s: s.start + timedelta(minutes=15))
    capacity = 1
    booked = 0


# --- payments -----------------------------------------------------------------------


class PaymentFactory(factory.django.DjangoModelFactory):
    """The booking's payment as the saga writes it before it asks the gateway: pending."""

    class Meta:
        model = Payment

    booking = factory.SubFactory(BookingFactory)
    correlation_id = factory.LazyAttribute(lambda p: p.booking.correlation_id)
    amount = factory.LazyAttribute(lambda p: p.booking.final_price)


class RefundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Refund

    payment = factory.SubFactory(PaymentFactory)
    correlation_id = factory.LazyAttribute(lambda r: r.payment.correlation_id)
    amount = factory.LazyAttribute(lambda r: r.payment.amount)


# --- notifications ------------------------------------------------------------------


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    booking = factory.SubFactory(BookingFactory)
    kind = Kind.CONFIRMATION
    channel = Channel.EMAIL
    due_at = factory.LazyFunction(timezone.now)
