"""The factories make rows the database accepts, linked as the saga would link them."""

from decimal import Decimal

import pytest

from payments.models import PaymentStatus, RefundStatus
from tests.support import factories

pytestmark = pytest.mark.django_db


def test_a_booking_with_items_payment_refund_and_notice_passes_every_constraint():
    price = Decimal("700.00")
    item = factories.BookingItemFactory(service__price=price, booking__base_price=price)
    booking = item.booking
    refund = factories.RefundFactory(payment__booking=booking)
    notice = factories.NotificationFactory(booking=booking)

    assert (item.name, item.price) == (item.service.name, item.service.price)
    assert booking.final_price == booking.base_price - booking.discount_amount
    assert refund.payment.booking == booking == notice.booking
    assert refund.payment.correlation_id == booking.correlation_id == refund.correlation_id
    assert refund.payment.amount == booking.final_price == refund.amount
    assert (refund.payment.status, refund.status) == (PaymentStatus.PENDING, RefundStatus.PENDING)


def test_a_patient_profile_belongs_to_its_own_user():
    first, second = factories.PatientProfileFactory(), factories.PatientProfileFactory()
    assert first.user != second.user
    assert first.date_of_birth == factories.ADULT_BIRTHDAY


def test_a_slot_of_a_practitioner_who_provides_the_service():
    service = factories.MedicalServiceFactory(requires_appointment=True, duration_minutes=15)
    slot = factories.SlotFactory(practitioner__services=[service])
    assert list(slot.practitioner.services.all()) == [service]
    assert (slot.end - slot.start).total_seconds() == 15 * 60
    assert slot.booked < slot.capacity
