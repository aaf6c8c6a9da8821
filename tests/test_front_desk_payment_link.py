"""The front desk takes UPI from a walk-in (issue 23): a Razorpay Payment Link for the
patient's phone, shown as a QR code on the desk page, confirming the booking when paid
through the same record_capture as the checkout's proof, the webhook and reconciliation.

On PostgreSQL, the production adapter talking to the Razorpay stand-in over HTTP; the
patient's phone opens the link's hosted page over HTTP; the stand-in's webhooks, signed
as Razorpay signs them, go through the app's webhook view (Django's test client)."""

import random
from datetime import timedelta

import pytest
import requests
import segno
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from billing.models import Document
from bookings.models import AuditLog, Booking, BookingStatus, SagaEvent
from bookings.services import clinic_today
from payments.models import Payment, PaymentStatus, ReversedCapture
from payments.tasks import reconcile_online_payments
from portal.flows import start_booking
from portal.ops.invariants import find_violations
from tests.support.admin_helpers import staff_member
from tests.support.factories import UserFactory
from tests.support.razorpay import events_named, post_webhook, razorpay  # noqa: F401
from tests.support.scheduling import appointment_service, practitioner, slot

pytestmark = pytest.mark.usefixtures("commits")
BOOK = "/admin/front-desk/book/"
PHONE = "+919812345678"


@pytest.fixture
def tomorrow_nine(db):
    consult = appointment_service("900.00", name="Desk Consultation")
    doctor = practitioner(consult, name="Dr. Desk Iyer")
    return slot(doctor, day=clinic_today() + timedelta(days=1), at=(9, 0), capacity=1)


@pytest.fixture
def receptionist(client):
    client.force_login(staff_member("Reception", username="rita"))
    return client


def link_form(place) -> dict:
    return {
        "patient_name": "Ravi Kumar",
        "gender": "male",
        "date_of_birth": "1980-05-17",
        "phone": "98123 45678",
        "services": [s.pk for s in place.practitioner.services.all()],
        "slot": place.pk,
        "payment": "payment_link",
    }


def book_by_link(receptionist, place):
    day = place.start.date().isoformat()
    answer = receptionist.post(f"{BOOK}?day={day}", link_form(place))
    assert answer.status_code == 302, answer.content.decode()[:2000]
    booking = Booking.objects.get()
    assert answer["Location"] == f"/admin/front-desk/payment/{booking.pk}/"
    return booking


def trail(booking) -> list[str]:
    return list(
        SagaEvent.objects.filter(correlation_id=booking.correlation_id)
        .order_by("sequence")
        .values_list("event_type", flat=True)
    )


def test_a_walk_in_pays_by_upi_on_the_link_the_desk_shows_as_a_qr_code(
    razorpay,  # noqa: F811
    receptionist,
    tomorrow_nine,
):
    day = tomorrow_nine.start.date().isoformat()
    offered = receptionist.get(f"{BOOK}?day={day}").content.decode()
    assert 'value="payment_link"' in offered and 'value="cash"' in offered
    assert "tok_" not in offered
    razorpay.hold_webhooks()
    booking = book_by_link(receptionist, tomorrow_nine)
    assert booking.status == BookingStatus.AWAITING_PAYMENT
    payment = Payment.objects.get(booking=booking)
    link = razorpay.payment_links[payment.payment_link_id]
    assert payment.payment_link_url == link["short_url"] and payment.order_id is None
    assert (link["amount"], link["currency"], link["reference_id"]) == (
        90000,
        "INR",
        str(booking.pk),
    )
    assert link["customer"]["contact"] == PHONE and link["notify"]["sms"] is True
    assert link["notes"]["booking_id"] == str(booking.pk)
    assert link["expire_by"] >= int((payment.expires_at - timedelta(seconds=1)).timestamp())
    assert AuditLog.objects.get(action="booking.front_desk").after["payment"] == "payment_link"
    tomorrow_nine.refresh_from_db()
    assert tomorrow_nine.booked == 1  # held while the patient pays

    page = receptionist.get(f"/admin/front-desk/payment/{booking.pk}/").content.decode()
    qr = segno.make(link["short_url"], error="m")
    assert qr.svg_inline(scale=5, title="Payment link QR code") in page
    assert link["short_url"] in page and '<meta http-equiv="refresh" content="5">' in page
    assert "Waiting for Ravi Kumar to pay ₹900.00" in page

    # The patient scans the code: the link's hosted page, on their phone, over HTTP.
    assert "Pay ₹900.00" in requests.get(link["short_url"], timeout=5).text
    paid = requests.post(link["short_url"], data={"action": "upi"}, timeout=5)
    assert "Paid ₹900.00" in paid.text
    sent = razorpay.held * 3  # Razorpay's retries, in any order
    random.Random(5).shuffle(sent)
    gateway = Client()
    statuses = [post_webhook(gateway, w, secret=razorpay.webhook_secret) for w in sent]
    assert {s.status_code for s in statuses} == {200}
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED and booking.confirmation_code
    payment.refresh_from_db()
    (captured,) = events_named(razorpay.held, "payment_link.paid")
    pay_id = razorpay.payments[payment.gateway_reference]["id"]
    assert payment.status == PaymentStatus.CAPTURED and pay_id in captured.body.decode()
    assert trail(booking).count("PaymentCompleted") == 1
    assert Document.objects.filter(booking=booking).count() == 1  # its receipt
    assert not ReversedCapture.objects.exists()  # the link's own order is not one of ours
    done = receptionist.get(f"/admin/front-desk/payment/{booking.pk}/").content.decode()
    assert "Paid: Ravi Kumar is booked" in done and booking.confirmation_code in done
    assert 'http-equiv="refresh"' not in done and "80 mm" in done
    assert find_violations() == []


def test_with_its_webhook_lost_the_desk_asks_the_gateway_and_confirms(
    razorpay,  # noqa: F811
    receptionist,
    tomorrow_nine,
):
    razorpay.hold_webhooks()  # and never delivered
    booking = book_by_link(receptionist, tomorrow_nine)
    payment = Payment.objects.get(booking=booking)
    razorpay.pay_link(payment.payment_link_id)
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.AWAITING_PAYMENT
    checked = receptionist.post(f"/admin/front-desk/payment/{booking.pk}/")
    assert checked.status_code == 302
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CONFIRMED
    checked = receptionist.post(f"/admin/front-desk/payment/{booking.pk}/")  # again: no change
    assert trail(booking).count("PaymentCompleted") == 1
    assert find_violations() == []


def test_an_unpaid_link_expires_gives_the_time_back_and_a_late_payment_is_refunded(
    razorpay,  # noqa: F811
    receptionist,
    tomorrow_nine,
):
    razorpay.hold_webhooks()
    booking = book_by_link(receptionist, tomorrow_nine)
    payment = Payment.objects.get(booking=booking)
    Payment.objects.filter(pk=payment.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    reconcile_online_payments()  # asks the gateway first: nothing paid, so it expires
    booking.refresh_from_db()
    assert booking.status == BookingStatus.FAILED
    assert booking.failure_reason == "payment_expired"
    tomorrow_nine.refresh_from_db()
    assert tomorrow_nine.booked == 0
    page = receptionist.get(f"/admin/front-desk/payment/{booking.pk}/").content.decode()
    assert "was not kept" in page and "nothing is owed" in page
    razorpay.pay_link(payment.payment_link_id)  # the patient pays after all, too late
    for webhook in razorpay.held:
        post_webhook(Client(), webhook, secret=razorpay.webhook_secret)
    reversal = ReversedCapture.objects.get()
    assert reversal.status == "refunded" and reversal.reason == "not_waiting"
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.FAILED
    assert find_violations() == []


def test_a_payment_link_needs_the_online_gateway_and_the_desk(
    client,
    receptionist,
    tomorrow_nine,
    token_client,
):
    """With the simulated gateway the desk offers cash only; nobody but the desk gets a
    link (a patient's API booking with the token is a 400)."""
    day = tomorrow_nine.start.date().isoformat()
    offered = receptionist.get(f"{BOOK}?day={day}").content.decode()
    assert 'value="payment_link"' not in offered
    refused = receptionist.post(f"{BOOK}?day={day}", link_form(tomorrow_nine))
    assert "payment" in refused.context["form"].errors
    with pytest.raises(ValidationError):
        start_booking(
            user=UserFactory(),
            patient_name="Ravi Kumar",
            gender="male",
            date_of_birth=timezone.now().date() - timedelta(days=9000),
            service_ids=[s.pk for s in tomorrow_nine.practitioner.services.all()],
            payment_token="payment_link",
            slot_id=tomorrow_nine.pk,
            payment_link_by="rita",
        )
    api = token_client(UserFactory())
    answer = api.post(
        "/api/booking",
        {
            "patient_name": "Ravi Kumar",
            "gender": "male",
            "date_of_birth": "1980-05-17",
            "service_ids": [s.pk for s in tomorrow_nine.practitioner.services.all()],
            "slot_id": tomorrow_nine.pk,
            "payment_token": "payment_link",
        },
        format="json",
    )
    assert answer.status_code == 400 and "payment_token" in answer.json()
    assert not Booking.objects.exists()


def test_the_desk_payment_page_is_the_front_desks_alone(
    razorpay,  # noqa: F811
    receptionist,
    tomorrow_nine,
    token_client,
):
    booking = book_by_link(receptionist, tomorrow_nine)
    page = f"/admin/front-desk/payment/{booking.pk}/"
    other_staff = Client()
    other_staff.force_login(UserFactory(is_staff=True))  # staff, not the front desk
    assert other_staff.get(page).status_code == 403
    assert other_staff.post(page).status_code == 403
    anonymous = Client().get(page)
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]
    assert receptionist.get("/admin/front-desk/payment/not-a-uuid/").status_code == 404
    unknown = "/admin/front-desk/payment/00000000-0000-0000-0000-000000000000/"
    assert receptionist.get(unknown).status_code == 404
    # The patient's own API answer carries no checkout order for a desk link.
    owner = token_client(booking.user)
    answer = owner.get(f"/api/booking/{booking.pk}/status")
    assert answer.status_code == 200 and answer.json()["payment"] is None
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.AWAITING_PAYMENT
