"""The front desk's day close: per receptionist and clinic day, the cash taken, the cash
handed back and what the drawer should hold; the clinic manager sees every drawer, a
receptionist only their own, anyone else nothing."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.test import Client
from django.utils import timezone

from bookings.models import AuditLog, Booking, SagaEvent
from bookings.services import clinic_today
from notifications import sender
from payments.models import Refund
from payments.selectors import Drawer, cash_day_close
from payments.services import settle_pending_refunds
from portal.flows import book_at_front_desk, cancel_booking
from portal.ops.invariants import find_violations
from tests.support.admin_helpers import staff_member
from tests.support.factories import MedicalServiceFactory, UserFactory

pytestmark = [
    pytest.mark.usefixtures("commits"),
    pytest.mark.usefixtures("default_cancellation_policy"),
]
DAY_CLOSE = "/admin/day-close/"


def desk_booking(receptionist: str, price: str, *, payment: str = "cash", phone: str) -> Booking:
    service = MedicalServiceFactory(price=Decimal(price))
    booking = book_at_front_desk(
        receptionist=receptionist,
        patient_name="Ravi Kumar",
        gender="male",
        date_of_birth=clinic_today().replace(year=1980),
        phone=phone,
        service_ids=[service.pk],
        payment_token=payment,
        day=clinic_today(),
    )
    booking.refresh_from_db()
    assert booking.status == "confirmed"
    return booking


@pytest.fixture
def desk_day(db):
    """Rita takes ₹500 and ₹300 in cash and hands the ₹300 back (she cancels it at the
    desk); Ravi takes ₹700 in cash and ₹900 by card (no cash)."""
    people = {
        "rita": staff_member("Reception", username="rita"),
        "ravi": staff_member("Reception", username="ravi"),
        "manager": staff_member("Clinic manager", username="meera"),
    }
    desk_booking("rita", "500.00", phone="+919800000001")
    given_back = desk_booking("rita", "300.00", phone="+919800000002")
    desk_booking("ravi", "700.00", phone="+919800000003")
    desk_booking("ravi", "900.00", payment="tok_visa", phone="+919800000004")
    rita = Client()
    rita.force_login(people["rita"])
    rita.post(
        "/admin/front-desk/",
        {"action": "cancel", "booking": given_back.pk, "reason": "doctor away"},
    )
    assert Refund.objects.get().handed_back_by == "rita"
    return people


def page_of(person) -> str:
    client = Client()
    client.force_login(person)
    answer = client.get(DAY_CLOSE)
    assert answer.status_code == 200
    return answer.content.decode()


def test_the_drawers_of_the_day_per_receptionist(desk_day):
    assert cash_day_close(day=clinic_today()) == [
        Drawer("ravi", payments=1, taken=Decimal("700.00")),
        Drawer(
            "rita",
            payments=2,
            taken=Decimal("800.00"),
            refunds=1,
            refunded=Decimal("300.00"),
        ),
    ]
    assert cash_day_close(day=clinic_today(), receptionist="rita")[0].should_hold == Decimal(
        "500.00"
    )
    assert cash_day_close(day=clinic_today() - timedelta(days=1)) == []


def test_the_manager_sees_every_drawer_and_the_total(desk_day):
    page = page_of(desk_day["manager"])
    assert 'data-receptionist="rita"' in page and 'data-receptionist="ravi"' in page
    rita_row = page.split('data-receptionist="rita"')[1].split("</tr>")[0]
    assert "₹800.00" in rita_row and "2 payments" in rita_row
    assert "₹300.00" in rita_row and "1 refund" in rita_row
    assert "<strong>₹500.00</strong>" in rita_row
    total = page.split('id="day-close-total"')[1].split("</tr>")[0]
    # ₹1,500 taken, ₹300 handed back: ₹1,200 in the drawers (the card payment is no cash).
    assert "₹1,500.00" in total and "₹300.00" in total and "<strong>₹1,200.00</strong>" in total


def test_a_receptionist_sees_only_their_own_drawer(desk_day):
    page = page_of(desk_day["ravi"])
    assert 'data-receptionist="ravi"' in page
    assert "rita" not in page and "₹800.00" not in page
    assert "<strong>₹700.00</strong>" in page
    assert 'id="day-close-total"' not in page


def test_a_receptionist_who_took_no_cash_sees_an_empty_drawer(desk_day):
    page = page_of(staff_member("Reception", username="rohan"))
    row = page.split('data-receptionist="rohan"')[1].split("</tr>")[0]
    assert "<strong>₹0.00</strong>" in row and "rita" not in page


@pytest.mark.parametrize(("who", "expected"), [(None, 302), ("patient", 302), ("bare_staff", 403)])
def test_nobody_else_sees_the_day_close(desk_day, who, expected):
    client = Client()
    if who == "patient":
        client.force_login(UserFactory())
    elif who == "bare_staff":
        client.force_login(UserFactory(is_staff=True))
    answer = client.get(DAY_CLOSE)
    assert answer.status_code == expected
    if expected == 302:
        assert answer["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("day", ["not-a-date", "9999-12-31", "2026-13-45"])
def test_a_bad_or_future_day_shows_today_and_says_why(desk_day, day):
    client = Client()
    client.force_login(desk_day["manager"])
    answer = client.get(f"{DAY_CLOSE}?day={day}")
    assert answer.status_code == 200
    page = answer.content.decode()
    assert "showing today" in page and 'data-receptionist="rita"' in page


def test_an_earlier_day_counts_that_days_cash(desk_day):
    client = Client()
    client.force_login(desk_day["manager"])
    yesterday = (clinic_today() - timedelta(days=1)).isoformat()
    page = client.get(f"{DAY_CLOSE}?day={yesterday}").content.decode()
    assert "No cash was taken or handed back on this day." in page


def patient_cancels_cash(amount: str = "400.00"):
    """Rita takes cash for a booking; the patient cancels it themselves (their account,
    not the desk), early enough for the policy's whole refund."""
    booking = desk_booking("rita", amount, phone="+919800000005")
    with time_machine.travel(clinic_today().isoformat() + "T00:00:01+05:30"):
        cancel_booking(booking=booking, actor="patient", by_staff=False, reason="ill")
    return booking, Refund.objects.get(correlation_id=booking.correlation_id)


def test_cash_a_patient_cancelled_themselves_waits_at_the_desk_in_no_drawer(desk_day):
    booking, refund = patient_cancels_cash()
    # Not refunded until a person hands it over: nobody's drawer has paid it out yet.
    assert (refund.status, refund.handed_back_by, refund.refunded_at) == ("pending", "", None)
    assert refund.waits_at_desk
    assert not booking.billing_documents.filter(kind="refund_note").exists()
    page = page_of(desk_day["manager"])
    owed = page.split('id="owed-to-patients"')[1].split("</p>")[0]
    assert "1 refund " in owed and f"₹{refund.amount:,}" in owed
    rita_row = page.split('data-receptionist="rita"')[1].split("</tr>")[0]
    assert "<strong>₹900.00</strong>" in rita_row  # ₹500 + ₹400 taken, ₹300 handed back
    # Neither the worker's retry nor the invariant checker mistakes it for a stuck refund.
    later = timezone.now() + timedelta(seconds=settings.SAGA_HARD_DEADLINE_SECONDS * 2)
    assert settle_pending_refunds(not_touched_since=later) == 0
    with time_machine.travel(later):
        assert find_violations() == []
    refund.refresh_from_db()
    assert (refund.status, refund.attempts) == ("pending", 0)


def test_the_desk_hands_it_back_once_and_the_drawer_counts_it(desk_day):
    booking, refund = patient_cancels_cash()
    patient = Client()
    patient.force_login(booking.user)
    back = f"₹{refund.amount:,}"  # the policy's share of ₹400.00 for a visit today
    assert f"Collect {back} in cash at the clinic&#x27;s desk." in (
        patient.get(f"/bookings/{booking.pk}/").content.decode()
    )
    rita = Client()
    rita.force_login(desk_day["rita"])
    desk = rita.get("/admin/front-desk/").content.decode()
    listed = desk.split('id="refunds-to-hand-back"')[1].split("</table>")[0]
    assert booking.confirmation_code in listed and back in listed
    assert "Handed back in cash" in listed

    answer = rita.post(
        "/admin/front-desk/", {"action": "hand_back", "booking": booking.pk}, follow=True
    )
    said = answer.content.decode()
    assert f"Ravi Kumar ({booking.confirmation_code}): {back} handed back in cash" in said
    assert 'id="refunds-to-hand-back"' not in said
    refund.refresh_from_db()
    assert (refund.status, refund.handed_back_by) == ("refunded", "rita")
    assert refund.refunded_at is not None
    (audit,) = AuditLog.objects.filter(action="refund.handed_back")
    assert (audit.actor, audit.object_id) == ("rita", str(refund.pk))
    # The money went back: the saga's PaymentRefunded, and billing's refund note.
    assert (
        SagaEvent.objects.filter(
            correlation_id=booking.correlation_id, event_type="PaymentRefunded"
        ).count()
        == 1
    )
    assert booking.billing_documents.filter(kind="refund_note").count() == 1
    rita_row = page_of(desk_day["manager"]).split('data-receptionist="rita"')[1]
    rita_row = rita_row.split("</tr>")[0]
    handed_back = Decimal("300.00") + refund.amount
    assert f"₹{handed_back:,}" in rita_row and "2 refunds" in rita_row
    assert f"<strong>₹{Decimal('1200.00') - handed_back:,}</strong>" in rita_row  # taken: 1,200
    assert f"{back} was given back in cash at the desk." in (
        patient.get(f"/bookings/{booking.pk}/").content.decode()
    )

    again = rita.post(
        "/admin/front-desk/", {"action": "hand_back", "booking": booking.pk}, follow=True
    )
    assert "Nothing changed: this refund was handed back already." in again.content.decode()
    assert AuditLog.objects.filter(action="refund.handed_back").count() == 1
    assert find_violations() == []


def test_only_the_front_desk_hands_money_back(desk_day):
    booking, refund = patient_cancels_cash()
    outsider = Client()
    outsider.force_login(UserFactory(is_staff=True))
    answer = outsider.post("/admin/front-desk/", {"action": "hand_back", "booking": booking.pk})
    assert answer.status_code == 403
    refund.refresh_from_db()
    assert (refund.status, refund.handed_back_by) == ("pending", "")


def test_the_patient_is_told_their_cash_comes_back_in_cash(desk_day):
    booking = Refund.objects.get().payment.booking
    booking.user.email = "cash-patient@example.in"
    booking.user.save()
    sender.send_due()
    (told,) = [m for m in mail.outbox if "cancelled" in m.subject.lower()]
    assert "₹300.00 was given back in cash at the desk." in told.body
    assert "card" not in told.body
