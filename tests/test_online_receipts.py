"""Receipts for online payments end to end: a booking paid through the Razorpay stand-in
(over real HTTP, the production adapter) gets its receipt saying it was paid online, by
whichever messenger reported the capture; its cancellation's refund, made through the
gateway, gets its refund note naming that receipt."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from pypdf import PdfReader

from billing.models import Document, DocumentKind, Series
from bookings.services import clinic_today
from notifications import sender
from payments.models import Payment, Refund, RefundStatus
from portal.ops.invariants import find_violations
from tests.support.razorpay import post_webhook, razorpay  # noqa: F401
from tests.support.scheduling import slot as make_slot

pytestmark = [
    pytest.mark.usefixtures("commits"),
    pytest.mark.usefixtures("default_cancellation_policy"),
]


def book_online(api, service, place) -> dict:
    body = {
        "patient_name": "Asha Verma",
        "gender": "female",
        "date_of_birth": "1990-06-15",
        "service_ids": [service.pk],
        "slot_id": place.pk,
        "payment_method": "online",
    }
    answer = api.post("/api/booking", body, format="json")
    assert answer.status_code == 201, answer.json()
    assert answer.json()["receipts"] == []  # nothing paid yet: no document
    return answer.json()


def pdf_text(client: Client, url: str) -> str:
    answer = client.get(url)
    assert answer.status_code == 200, answer.content[:300]
    return PdfReader(io.BytesIO(answer.content)).pages[0].extract_text()


@pytest.mark.parametrize(
    ("messenger", "instrument", "shown", "shown_in_hindi"),
    [
        ("checkout proof", "upi", "online (UPI)", "ऑनलाइन (UPI)"),
        # (pypdf extracts the shaped anusvara of "नेटबैंकिंग" out of order: its stem)
        ("webhook", "netbanking", "online (netbanking)", "ऑनलाइन (नेटबैंकिं"),
    ],
)
def test_an_online_payment_gets_its_receipt_and_its_refund_its_note(
    razorpay,  # noqa: F811
    patient_api,
    user,
    consult,
    doctor,
    messenger,
    instrument,
    shown,
    shown_in_hindi,
):
    place = make_slot(doctor, day=clinic_today() + timedelta(days=3))
    if messenger == "webhook":
        razorpay.hold_webhooks()
    body = book_online(patient_api, consult, place)
    proof = razorpay.pay(body["payment"]["order_id"], method=instrument)
    if messenger == "checkout proof":
        paid = patient_api.post(f"/api/booking/{body['id']}/payment", proof, format="json")
        assert paid.json()["status"] == "confirmed"
    else:
        for webhook in razorpay.held:
            assert (
                post_webhook(Client(), webhook, secret=razorpay.webhook_secret).status_code == 200
            )

    receipt = Document.objects.get(booking_id=body["id"])
    payment = Payment.objects.get(booking_id=body["id"])
    assert (receipt.kind, receipt.series, receipt.payment_method) == (
        DocumentKind.RECEIPT,
        Series.DOCUMENTS,
        "online",
    )
    # How it was paid at the gateway, as Razorpay's payment entity says.
    assert receipt.payment_instrument == payment.instrument == instrument
    assert (receipt.payment_id, receipt.total) == (payment.pk, Decimal("900.00"))
    assert payment.gateway_reference == proof["razorpay_payment_id"]
    listed = patient_api.get(f"/api/booking/{body['id']}/status").json()["receipts"]
    assert [(r["number"], r["kind"], r["amount"]) for r in listed] == [
        (receipt.number, "receipt", "900.00")
    ]
    owner = Client()
    owner.force_login(user)
    text = pdf_text(owner, listed[0]["url"])
    assert receipt.number in text and f"Paid by {shown}" in text
    assert "Rupees Nine Hundred Only" in text
    assert shown_in_hindi in pdf_text(owner, f"{listed[0]['url']}?lang=hi")
    sender.send_due()  # the confirmation e-mail links the receipt
    (confirmation,) = mail.outbox
    assert f"/bookings/{body['id']}/documents/{receipt.number}.pdf" in confirmation.body

    cancelled = patient_api.post(f"/api/booking/{body['id']}/cancel", {}, format="json")
    assert cancelled.json()["refund"] == {"amount": "900.00", "status": "refunded"}
    (gateway_refund,) = razorpay.refunds.values()
    assert gateway_refund["payment_id"] == proof["razorpay_payment_id"]
    refund = Refund.objects.get()
    assert refund.status == RefundStatus.REFUNDED and refund.handed_back_by == ""
    note = Document.objects.get(booking_id=body["id"], series=Series.REFUND_NOTES)
    assert (note.kind, note.payment_method, note.refund_id, note.refunds) == (
        DocumentKind.REFUND_NOTE,
        "online",
        refund.pk,
        receipt,
    )
    assert (note.total, note.payment_instrument) == (Decimal("900.00"), instrument)
    text = pdf_text(owner, f"/receipts/{note.number}.pdf")
    assert note.number in text and "Refund note" in text and receipt.number in text
    # The cancellation e-mail says where the money went back, and links the note.
    sender.send_due()
    (_, cancellation) = mail.outbox
    assert "₹900.00 was refunded to the account you paid from." in cancellation.body
    assert f"/bookings/{body['id']}/documents/{note.number}.pdf" in cancellation.body
    assert find_violations() == []
