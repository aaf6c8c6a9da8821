"""Booking at the front desk (a walk-in or a telephone patient), paid as cash received at
the desk (the payment link: tests/test_front_desk_payment_link.py), through the same
start_booking as the API and the pages; and the desk's search for a patient's bookings by
phone or name."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.formats import date_format

from bookings.models import AuditLog, Booking, BookingStatus, SagaEvent
from bookings.services import clinic_today
from payments.models import CashReceipt, Payment, PaymentMethod, SimulatedGatewayCharge
from portal.flows import book_at_front_desk, cancel_booking, start_booking
from portal.ops.invariants import find_violations
from portal.presentation import staff_story, timeline
from scheduling.models import OpeningHours, Slot
from tests.support.admin_helpers import staff_member
from tests.support.factories import PatientProfileFactory, UserFactory
from tests.support.scheduling import appointment_service, practitioner, slot

pytestmark = pytest.mark.usefixtures("commits")
DESK = "/admin/front-desk/"
BOOK = "/admin/front-desk/book/"
PHONE = "+919812345678"


@pytest.fixture
def consult(db):
    return appointment_service("900.00", name="Desk Consultation")


@pytest.fixture
def doctor(consult):
    return practitioner(consult, name="Dr. Desk Iyer")


@pytest.fixture
def tomorrow_nine(doctor):
    return slot(doctor, day=clinic_today() + timedelta(days=1), at=(9, 0), capacity=2)


@pytest.fixture
def receptionist(client):
    member = staff_member("Reception", username="rita")
    client.force_login(member)
    return member


def form(services, *, payment="cash", slot_id=None, phone="98123 45678", name="Ravi Kumar"):
    data = {
        "patient_name": name,
        "gender": "male",
        "date_of_birth": "1980-05-17",
        "phone": phone,
        "services": [s.pk for s in services],
        "payment": payment,
    }
    if slot_id is not None:
        data["slot"] = slot_id
    return data


def test_a_telephone_patient_paid_in_cash(client, receptionist, consult, tomorrow_nine):
    day = tomorrow_nine.start.date().isoformat()
    shown = client.get(f"{BOOK}?day={day}").content.decode()
    assert "09:00 · Dr. Desk Iyer" in shown and "Cash received at the desk" in shown

    answer = client.post(
        f"{BOOK}?day={day}", form([consult], slot_id=tomorrow_nine.pk), follow=True
    )
    assert answer.redirect_chain[-1][0] == f"{DESK}?day={day}"
    assert "Collect ₹900.00 in cash" in answer.content.decode()
    assert "receipt?layout=80mm" in answer.content.decode()  # print it at the desk

    booking = Booking.objects.get()
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.appointment_start == tomorrow_nine.start
    printed = client.get(f"/api/booking/{booking.pk}/receipt?layout=80mm")
    assert printed.status_code == 200 and printed["Content-Type"] == "application/pdf"
    assert booking.billing_documents.get().payment_method == "cash"
    # The patient's account, made for the phone, with no password.
    owner = booking.user
    assert owner.username == "desk-919812345678" and not owner.has_usable_password()
    assert str(owner.patient_profile.phone) == PHONE
    # Cash: captured without the card gateway, received by the receptionist.
    payment = Payment.objects.get(booking=booking)
    assert (payment.method, payment.status, payment.amount) == (
        PaymentMethod.CASH,
        "captured",
        Decimal("900.00"),
    )
    assert CashReceipt.objects.get(correlation_id=booking.correlation_id).received_by == "rita"
    assert not SimulatedGatewayCharge.objects.exists()
    # Who took the cash is the receipt's; the desk's own AuditLog row says it was cash.
    assert AuditLog.objects.get(action="booking.front_desk").after["payment"] == "cash"
    assert not AuditLog.objects.filter(action__startswith="payment.").exists()  # saga steps
    # The patient's history and the staff's story say how it was paid.
    paid = [e.detail for e in timeline(booking) if e.title == "You paid"]
    assert paid == ["₹900.00 in cash at the front desk."]
    assert [e.detail for e in staff_story(booking) if e.title == "Paid"] == [
        "₹900.00 taken in cash at the desk."
    ]
    # The saga's chain is the one every booking runs.
    assert list(
        SagaEvent.objects.filter(correlation_id=booking.correlation_id)
        .order_by("sequence")
        .values_list("event_type", flat=True)
    ) == [
        "BookingRequested",
        "PricingCalculated",
        "DiscountQuotaReserved",
        "PaymentCompleted",
        "BookingConfirmed",
        "ReceiptIssued",
    ]
    desk = AuditLog.objects.get(action="booking.front_desk")
    assert desk.actor == "rita" and desk.object_id == str(booking.pk)
    assert desk.after["payment"] == "cash" and desk.after["account_created"] is True
    assert find_violations() == []


def test_a_card_at_the_counter_is_taken_like_cash_and_given_back_at_the_desk(
    client, receptionist, consult, tomorrow_nine
):
    """The clinic's card machine approved it: recorded as taken by the receptionist,
    never sent to a gateway; a cancellation gives it back at the desk."""
    day = tomorrow_nine.start.date().isoformat()
    assert "Card at the counter" in client.get(f"{BOOK}?day={day}").content.decode()
    answer = client.post(
        f"{BOOK}?day={day}",
        form([consult], payment="counter_card", slot_id=tomorrow_nine.pk),
        follow=True,
    )
    assert "Take ₹900.00 on the card machine." in answer.content.decode()
    booking = Booking.objects.get()
    assert booking.status == BookingStatus.CONFIRMED
    payment = Payment.objects.get(booking=booking)
    assert (payment.method, payment.status) == (PaymentMethod.COUNTER_CARD, "captured")
    assert CashReceipt.objects.get(correlation_id=booking.correlation_id).received_by == "rita"
    assert not SimulatedGatewayCharge.objects.exists()
    assert AuditLog.objects.get(action="booking.front_desk").after["payment"] == "counter_card"
    assert booking.billing_documents.get().payment_method == "pos"
    assert [e.detail for e in timeline(booking) if e.title == "You paid"] == [
        "₹900.00 by card at the front desk."
    ]
    assert [e.detail for e in staff_story(booking) if e.title == "Paid"] == [
        "₹900.00 taken by card at the desk."
    ]
    cancel_booking(booking=booking, actor="rita", by_staff=True, reason="doctor away")
    refund = booking.payment.refunds.get()
    assert refund.status == "refunded" and refund.gateway_reference.startswith("pos_back_")
    assert not SimulatedGatewayCharge.objects.exists()
    assert find_violations() == []


def test_a_registered_patient_gets_the_booking_in_their_own_account(
    client, receptionist, service_priced
):
    cbc = service_priced("350.00")
    registered = UserFactory()
    PatientProfileFactory(
        user=registered, full_name="Meera Shah", date_of_birth=date(1990, 1, 1), phone=PHONE
    )
    client.post(f"{BOOK}?day={clinic_today().isoformat()}", form([cbc]))
    booking = Booking.objects.get()
    assert booking.user == registered and booking.status == BookingStatus.CONFIRMED
    assert booking.appointment_start is None  # a walk-in lab test
    assert Payment.objects.get().method == PaymentMethod.CASH
    assert AuditLog.objects.get(action="booking.front_desk").after["account_created"] is False
    assert get_user_model().objects.filter(username__startswith="desk-").count() == 0


def test_the_desk_never_offers_or_takes_a_test_card_token(
    client, receptionist, consult, tomorrow_nine
):
    """The simulated gateway's tokens are the API's test fixtures, not a way to pay at a
    counter: the desk offers cash (and, with the online gateway, a payment link)."""
    day = tomorrow_nine.start.date().isoformat()
    shown = client.get(f"{BOOK}?day={day}").content.decode()
    assert "tok_" not in shown
    for token in ("tok_visa", "tok_chargeDeclined", "online", "payment_link"):
        answer = client.post(
            f"{BOOK}?day={day}", form([consult], payment=token, slot_id=tomorrow_nine.pk)
        )
        assert answer.status_code == 200 and "payment" in answer.context["form"].errors
    assert not Booking.objects.exists() and not SimulatedGatewayCharge.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"phone": "12345"}, "phone"),
        ({"phone": "+14155550123"}, "phone"),  # not an Indian mobile
        ({"services": []}, "services"),
        ({"payment": "tok_unknown"}, "payment"),
        ({"slot": "987654"}, "slot"),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
    ],
)
def test_bad_input_is_told_on_the_form(client, receptionist, consult, tomorrow_nine, change, field):
    day = tomorrow_nine.start.date().isoformat()
    answer = client.post(
        f"{BOOK}?day={day}", {**form([consult], slot_id=tomorrow_nine.pk), **change}
    )
    assert answer.status_code == 200
    assert field in answer.context["form"].errors
    assert not Booking.objects.exists()


def test_a_slot_needed_or_a_walk_in_on_a_closed_day_is_told(
    client, receptionist, consult, service_priced, tomorrow_nine
):
    day = tomorrow_nine.start.date()
    needs_time = client.post(f"{BOOK}?day={day}", form([consult]))
    assert "slot" in needs_time.context["form"].errors
    OpeningHours.objects.filter(weekday=day.weekday()).update(closed=True)
    walk_in_closed = client.post(f"{BOOK}?day={day}", form([service_priced("350.00")]))
    assert walk_in_closed.context["form"].non_field_errors() == [
        f"The clinic is closed on {date_format(day)}."
    ]
    assert (
        not Booking.objects.exists()
        and not get_user_model().objects.filter(username__startswith="desk-").exists()
    )  # the account made for the phone rolled back with the request


def test_a_walk_in_is_booked_for_a_later_open_day(
    client, receptionist, service_priced, tomorrow_nine
):
    """DESIGN.md, "The clinic's hours": a fasting test booked today for tomorrow morning."""
    day = tomorrow_nine.start.date()
    answer = client.post(f"{BOOK}?day={day}", form([service_priced("350.00")]))
    assert answer.status_code == 302
    assert list(Booking.objects.values_list("visit_date", "status")) == [(day, "confirmed")]


def test_a_slot_taken_meanwhile_is_told(client, receptionist, consult, tomorrow_nine):
    day = tomorrow_nine.start.date().isoformat()
    client.get(f"{BOOK}?day={day}")
    Slot.objects.filter(pk=tomorrow_nine.pk).update(booked=2)  # full, after the form was shown
    answer = client.post(f"{BOOK}?day={day}", form([consult], slot_id=tomorrow_nine.pk))
    assert answer.status_code == 200 and "slot" in answer.context["form"].errors
    assert not Booking.objects.exists()


def test_only_front_desk_staff_book(client, consult):
    client.force_login(UserFactory(is_staff=True))
    assert client.get(BOOK).status_code == 403
    assert client.post(BOOK, form([consult])).status_code == 403
    client.force_login(UserFactory())
    assert client.get(BOOK).status_code == 302  # to the admin login
    assert not Booking.objects.exists()


def test_patients_cannot_pay_cash(user, consult, tomorrow_nine):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        start_booking(
            user=user,
            patient_name="Asha",
            gender="female",
            date_of_birth=date(1990, 1, 1),
            service_ids=[consult.pk],
            payment_token="cash",
            slot_id=tomorrow_nine.pk,
        )
    assert "payment_token" in refused.value.message_dict
    assert not Booking.objects.exists()


def test_a_cash_booking_cancelled_by_staff_is_handed_back(
    client, receptionist, consult, tomorrow_nine
):
    day = tomorrow_nine.start.date().isoformat()
    client.post(f"{BOOK}?day={day}", form([consult], slot_id=tomorrow_nine.pk))
    booking = Booking.objects.get()
    cancel_booking(booking=booking, actor="rita", by_staff=True, reason="patient called")
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    refund = booking.payment.refunds.get()
    assert refund.status == "refunded" and refund.gateway_reference.startswith("cash_back_")
    assert find_violations() == []


def test_search_by_phone_or_name(client, receptionist, consult, tomorrow_nine, service_priced):
    day = tomorrow_nine.start.date().isoformat()
    client.post(f"{BOOK}?day={day}", form([consult], slot_id=tomorrow_nine.pk))
    client.post(
        f"{BOOK}?day={clinic_today().isoformat()}",
        form([service_priced("350.00")], phone="+91 99887 76655", name="Sunita Rao"),
    )
    for query in ("98123 45678", "+91 98123-45678", "9812345678", "45678", "ravi", "KUMAR"):
        found = client.get(DESK, {"q": query}).context["found"]
        assert [b.patient_name for b, _ in found] == ["Ravi Kumar"], query
    page = client.get(DESK, {"q": "98123 45678"}).content.decode()
    assert "09:00" in page and "Dr. Desk Iyer" in page and PHONE in page
    assert [b.patient_name for b, _ in client.get(DESK, {"q": "sunita"}).context["found"]] == [
        "Sunita Rao"
    ]
    assert client.get(DESK, {"q": "nobody"}).context["found"] == []
    # Yesterday's bookings are not the desk's concern any more.
    Booking.objects.update(visit_date=clinic_today() - timedelta(days=1))
    assert client.get(DESK, {"q": "ravi"}).context["found"] == []


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "not-a-date", "2026-02-30"])
def test_an_impossible_or_far_day_shows_today_with_a_message(client, receptionist, day):
    for page in (DESK, BOOK):
        answer = client.get(f"{page}?day={day}", follow=True)
        assert answer.status_code == 200
        assert answer.context["day"] == clinic_today()
        assert "showing today instead" in answer.content.decode()


def test_a_day_beyond_the_horizon_generates_no_slots(client, receptionist, doctor, settings):
    far = clinic_today() + timedelta(days=settings.BOOKING_HORIZON_DAYS + 1)
    answer = client.get(f"{DESK}?day={far.isoformat()}")
    assert answer.context["day"] == clinic_today()
    assert "the booking horizon" in answer.content.decode()
    last = clinic_today() + timedelta(days=settings.BOOKING_HORIZON_DAYS)
    assert client.get(f"{DESK}?day={last.isoformat()}").context["day"] == last


def test_the_desk_books_no_further_than_the_horizon(consult, doctor, settings):
    """Decided: the front desk follows the patients' booking horizon."""
    far = slot(doctor, day=clinic_today() + timedelta(days=settings.BOOKING_HORIZON_DAYS + 1))
    with pytest.raises(ValidationError) as refused:
        book_at_front_desk(
            receptionist="rita",
            patient_name="Ravi Kumar",
            gender="male",
            date_of_birth=date(1980, 5, 17),
            phone=PHONE,
            service_ids=[consult.pk],
            payment_token="cash",
            day=far.start.astimezone(far.start.tzinfo).date(),
            slot_id=far.pk,
        )
    assert "beyond the booking horizon" in str(refused.value)
    assert not Booking.objects.exists()


def test_the_desk_form_shows_each_price_and_the_total_without_javascript(
    client, receptionist, consult, service_priced
):
    """Issue 25: no prices nor total before "Book". "Update total" asks the server (the
    same script as the patient pages keeps it live with JavaScript)."""
    cbc = service_priced("350.00", name="Test CBC")
    ecg = service_priced("400.00", name="Test ECG")
    day = clinic_today().isoformat()
    page = client.get(f"{BOOK}?day={day}").content.decode()
    assert "Test CBC · ₹350.00" in page and "Test ECG · ₹400.00" in page
    assert f"{consult.name} · ₹{consult.price:,.2f}" in page and "(needs a time)" in page
    assert 'id="running-total-amount">₹0.00<' in page
    updated = client.post(
        f"{BOOK}?day={day}",
        {"services": [cbc.pk, ecg.pk], "patient_name": "Ravi", "update_total": "1"},
    )
    assert updated.status_code == 200
    shown = updated.content.decode()
    assert 'id="running-total-amount">₹750.00<' in shown
    assert 'value="Ravi"' in shown and "errorlist" not in shown  # kept, not judged yet
    assert not Booking.objects.exists()
