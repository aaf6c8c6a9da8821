"""Notifications of a booking paid online: one "finish your payment" message (e-mail and
SMS, with the link to the waiting page) while it waits; the confirmation once, whichever
of the proof, the webhook and reconciliation confirmed; nothing per repeated webhook."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from bookings.models import Booking, BookingStatus
from notifications import sender
from notifications.checks import links_reach_patients
from notifications.models import Channel, Kind, Notification, Status
from notifications.services import write_payment_due
from payments import webhooks
from payments.models import Payment
from payments.tasks import reconcile_online_payments
from tests.support.factories import PatientProfileFactory
from tests.support.razorpay import post_webhook, razorpay  # noqa: F401

pytestmark = pytest.mark.usefixtures("commits")

PHONE = "+919812345678"


@pytest.fixture
def patient(user):
    PatientProfileFactory(user=user, phone=PHONE)
    return user


@pytest.fixture
def lab_test(service_priced):
    return service_priced("400.00", name="Online lab test")


def book_online(client, service) -> dict:
    answer = client.post(
        "/api/booking",
        {
            "patient_name": "Asha Verma",
            "gender": "female",
            "date_of_birth": "1990-06-15",
            "service_ids": [service.pk],
            "payment_method": "online",
        },
        format="json",
    )
    assert answer.status_code == 201, answer.content
    assert answer.json()["status"] == "awaiting_payment"
    return answer.json()


def kinds_of(booking_id: str) -> list[tuple[str, str, str]]:
    return sorted(
        Notification.objects.filter(booking_id=booking_id).values_list("kind", "channel", "status")
    )


def test_a_patient_who_has_not_paid_gets_one_finish_your_payment_message_with_the_link(
    patient,
    patient_api,
    lab_test,
    razorpay,  # noqa: F811
    settings,
    capsys,
):
    settings.SITE_URL = "https://clinic.example.in"
    booked = book_online(patient_api, lab_test)
    payment = Payment.objects.get(booking_id=booked["id"])
    rows = Notification.objects.filter(booking_id=booked["id"], kind=Kind.PAYMENT_DUE)
    assert sorted(rows.values_list("channel", flat=True)) == [Channel.EMAIL, Channel.SMS]
    # Due a little later: a patient paying at once is never nudged.
    assert all(
        timedelta(minutes=2, seconds=50) < row.due_at - timezone.now() <= timedelta(minutes=3)
        for row in rows
    )
    assert sender.send_due().claimed == 0  # not due yet

    summary = sender.send_due(now=timezone.now() + timedelta(minutes=4))
    assert summary.sent == 2
    link = f"https://clinic.example.in/bookings/{booked['id']}/"
    until = timezone.localtime(payment.expires_at).strftime("%H:%M")
    [message] = mail.outbox
    assert message.subject == "Finish your payment of ₹400.00"
    assert link in message.body and f"held for you until {until} IST" in message.body
    assert f'href="{link}"' in message.alternatives[0][0]
    sms = capsys.readouterr().out
    assert f"SMS to {PHONE}" in sms and link in sms and f"held until {until} IST" in sms

    # Once: another PaymentAwaited delivery (recovery, a replay) writes nothing new.
    write_payment_due(correlation_id=payment.correlation_id, expires_at=payment.expires_at)
    assert Notification.objects.filter(booking_id=booked["id"]).count() == 2
    assert sender.send_due(now=timezone.now() + timedelta(minutes=10)).claimed == 0
    assert len(mail.outbox) == 1


def test_in_hindi(
    patient,
    patient_api,
    lab_test,
    razorpay,  # noqa: F811
):
    patient.patient_profile.language = "hi"
    patient.patient_profile.save()
    book_online(patient_api, lab_test)
    sender.send_due(now=timezone.now() + timedelta(minutes=4))
    [message] = mail.outbox
    assert message.subject == "अपना ₹400.00 का भुगतान पूरा करें"
    assert "ऑनलाइन भुगतान करें" in message.body


def test_paid_by_proof_and_webhooks_repeated_the_patient_gets_one_confirmation_and_no_nudge(
    patient,
    patient_api,
    lab_test,
    razorpay,  # noqa: F811
):
    razorpay.hold_webhooks()
    booked = book_online(patient_api, lab_test)
    order_id = booked["payment"]["order_id"]
    proof = razorpay.pay(order_id)
    paid = patient_api.post(f"/api/booking/{booked['id']}/payment", proof, format="json")
    assert paid.json()["status"] == "confirmed"
    # Razorpay's retries: every webhook of the payment, five times, out of order.
    gateway = Client()
    held = list(razorpay.held)
    assert {w.event for w in held} >= {"payment.captured", "order.paid"}
    for round_ in range(5):
        for webhook in reversed(held) if round_ % 2 else held:
            assert post_webhook(gateway, webhook, secret=razorpay.webhook_secret).status_code == 200
    # Each stored event is acted on after its commit; anything left, the worker acts on.
    assert webhooks.process_pending(received_before=timezone.now()) == 0
    summary = sender.send_due(now=timezone.now() + timedelta(minutes=10))
    assert kinds_of(booked["id"]) == [
        (Kind.CONFIRMATION, Channel.EMAIL, Status.SENT),
        (Kind.CONFIRMATION, Channel.SMS, Status.SENT),
        (Kind.PAYMENT_DUE, Channel.EMAIL, Status.SUPERSEDED),
        (Kind.PAYMENT_DUE, Channel.SMS, Status.SUPERSEDED),
    ]
    assert summary.sent == 2
    assert [m.subject for m in mail.outbox] == [
        f"Booking confirmed: {Booking.objects.get(pk=booked['id']).confirmation_code}"
    ]


def test_confirmed_by_the_webhook_alone_one_confirmation(
    patient,
    patient_api,
    lab_test,
    razorpay,  # noqa: F811
):
    razorpay.hold_webhooks()
    booked = book_online(patient_api, lab_test)
    razorpay.pay(booked["payment"]["order_id"])
    gateway = Client()
    held = list(razorpay.held)
    for webhook in held * 3:
        post_webhook(gateway, webhook, secret=razorpay.webhook_secret)
    assert Booking.objects.get(pk=booked["id"]).status == BookingStatus.CONFIRMED
    sender.send_due(now=timezone.now() + timedelta(minutes=10))
    assert len(mail.outbox) == 1 and mail.outbox[0].subject.startswith("Booking confirmed")
    assert (
        Notification.objects.filter(booking_id=booked["id"], kind=Kind.CONFIRMATION).count() == 2
    )  # one per channel


def test_an_expired_booking_is_not_nudged_after_it_failed(
    patient,
    patient_api,
    lab_test,
    razorpay,  # noqa: F811
):
    booked = book_online(patient_api, lab_test)
    Payment.objects.filter(booking_id=booked["id"]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    reconcile_online_payments()
    assert Booking.objects.get(pk=booked["id"]).status == BookingStatus.FAILED
    sender.send_due(now=timezone.now() + timedelta(minutes=10))
    assert mail.outbox == []
    assert {s for _, _, s in kinds_of(booked["id"])} == {Status.SUPERSEDED}


def test_confirmed_by_reconciliation_alone_one_confirmation_and_no_nudge(
    patient,
    patient_api,
    lab_test,
    razorpay,  # noqa: F811
):
    razorpay.hold_webhooks()  # neither the proof nor any webhook arrives
    booked = book_online(patient_api, lab_test)
    razorpay.pay(booked["payment"]["order_id"])
    Payment.objects.filter(booking_id=booked["id"]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    reconcile_online_payments()
    reconcile_online_payments()  # the worker's next minute changes nothing
    assert Booking.objects.get(pk=booked["id"]).status == BookingStatus.CONFIRMED
    sender.send_due(now=timezone.now() + timedelta(minutes=10))
    assert [m.subject[:17] for m in mail.outbox] == ["Booking confirmed"]
    assert kinds_of(booked["id"]) == [
        (Kind.CONFIRMATION, Channel.EMAIL, Status.SENT),
        (Kind.CONFIRMATION, Channel.SMS, Status.SENT),
        (Kind.PAYMENT_DUE, Channel.EMAIL, Status.SUPERSEDED),
        (Kind.PAYMENT_DUE, Channel.SMS, Status.SUPERSEDED),
    ]


def test_check_deploy_warns_while_links_would_point_at_this_machine(settings):
    settings.DEBUG = False
    settings.SITE_URL = "http://127.0.0.1:8000"  # the default, for make run
    assert [w.id for w in links_reach_patients(None)] == ["notifications.W001"]
    settings.SITE_URL = "https://clinic.example.in"
    assert links_reach_patients(None) == []
