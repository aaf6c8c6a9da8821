"""The confirmation e-mail links the receipt and the cancellation (refund) e-mail the refund
note: read from the e-mails the worker's sender really sent. Each link opens a page that
asks a signed-out patient to sign in, gives the owner the PDF, and is 404 for anyone else."""

import io
import re

import pytest
from django.core import mail
from django.test import Client, override_settings
from django.utils import timezone
from pypdf import PdfReader

from billing.models import Document, Series
from bookings import events
from notifications import sender, services
from notifications.models import Channel, Kind, Notification
from payments.gateway import SimulatedGateway
from payments.models import Refund, RefundStatus
from payments.services import settle_pending_refunds
from portal.flows import cancel_booking
from tests.support.factories import PatientProfileFactory, UserFactory
from tests.support.saga_hooks import listeners_replaced

pytestmark = [
    pytest.mark.usefixtures("commits"),
    pytest.mark.usefixtures("default_cancellation_policy"),
]

SITE = "https://book.clinic.example.in"


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = SITE


def sent_email(booking, kind: str):
    sender.send_due()
    row = Notification.objects.get(booking=booking, kind=kind, channel=Channel.EMAIL)
    (message,) = [
        m for m in mail.outbox if m.extra_headers["Message-ID"] == row.provider_message_id
    ]
    return message


def links_in(text: str) -> list[str]:
    return re.findall(rf'{re.escape(SITE)}[^\s"<]+', text)


def pdf_text(response) -> str:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    return PdfReader(io.BytesIO(response.content)).pages[0].extract_text()


def path_of(link: str) -> str:
    assert link.startswith(SITE)
    return link[len(SITE) :]


def test_the_confirmation_email_links_the_receipt_behind_the_patients_login(book, user):
    booking = book(prices=("800.00",))
    receipt = Document.objects.get(booking=booking, series=Series.DOCUMENTS)

    message = sent_email(booking, Kind.CONFIRMATION)

    link = f"{SITE}/bookings/{booking.pk}/documents/{receipt.number}.pdf"
    assert links_in(message.body) == [link]
    assert "Your receipt (sign in to open it):" in message.body
    html, _ = message.alternatives[0]
    assert f'<a href="{link}">Your receipt</a>' in html
    path = path_of(link)
    signed_out = Client().get(path)
    assert signed_out.status_code == 302
    assert signed_out["Location"].startswith("/accounts/login/?next=")
    owner = Client()
    owner.force_login(user)
    text = pdf_text(owner.get(path))
    assert receipt.number in text and "Paid by card" in text
    someone_else = UserFactory()
    stranger = Client()
    stranger.force_login(someone_else)
    assert stranger.get(path).status_code == 404
    # The stranger's own booking's id with this receipt's number: 404 too.
    theirs = book(prices=("300.00",), by=someone_else)
    assert stranger.get(f"/bookings/{theirs.pk}/documents/{receipt.number}.pdf").status_code == 404


def test_the_cancellation_email_links_the_refund_note(book, user):
    booking = book(prices=("800.00",))
    cancel_booking(booking=booking, actor="desk", by_staff=True, reason="doctor away")
    note = Document.objects.get(booking=booking, series=Series.REFUND_NOTES)

    message = sent_email(booking, Kind.CANCELLATION)

    assert links_in(message.body) == [f"{SITE}/bookings/{booking.pk}/documents/{note.number}.pdf"]
    assert "Your refund note (sign in to open it):" in message.body
    owner = Client()
    owner.force_login(user)
    text = pdf_text(owner.get(path_of(links_in(message.body)[0])))
    assert note.number in text and "Refund note" in text
    # Linked here: no separate refund notice follows.
    assert services.sweep_confirmed_without_notifications() == 0
    assert not Notification.objects.filter(booking=booking, kind=Kind.REFUND).exists()


class GatewayNotAnswering(SimulatedGateway):
    def refund(self, **kwargs) -> str:
        raise TimeoutError("the gateway did not answer")


def test_a_refund_made_after_the_cancellation_email_sends_the_note_in_its_own(book, user):
    booking = book(prices=("600.00",))
    gateway = f"{__name__}.GatewayNotAnswering"
    with override_settings(PAYMENT_GATEWAY=gateway):
        cancel_booking(booking=booking, actor="desk", by_staff=True, reason="doctor away")
    assert Refund.objects.get().status == RefundStatus.PENDING
    cancellation = sent_email(booking, Kind.CANCELLATION)
    assert "₹600.00 is on its way back" in cancellation.body
    assert links_in(cancellation.body) == []  # no note yet

    assert settle_pending_refunds(not_touched_since=timezone.now()) == 1  # the worker's retry
    note = Document.objects.get(booking=booking, series=Series.REFUND_NOTES)
    assert services.sweep_confirmed_without_notifications() == 1
    assert services.sweep_confirmed_without_notifications() == 0  # once

    message = sent_email(booking, Kind.REFUND)
    assert message.subject == f"Refund made: {booking.confirmation_code}"
    assert "The refund of ₹600.00 for the cancelled booking" in message.body
    link = f"{SITE}/bookings/{booking.pk}/documents/{note.number}.pdf"
    assert links_in(message.body) == [link]
    owner = Client()
    owner.force_login(user)
    assert note.number in pdf_text(owner.get(path_of(link)))


def test_a_hindi_patient_reads_the_link_in_hindi_and_gets_the_hindi_receipt(book, user):
    PatientProfileFactory(user=user, language="hi")
    booking = book(prices=("500.00",))

    message = sent_email(booking, Kind.CONFIRMATION)

    assert "आपकी रसीद (खोलने के लिए लॉग इन करें):" in message.body
    owner = Client()
    owner.force_login(user)
    assert "रसीद" in pdf_text(owner.get(path_of(links_in(message.body)[0])))


def test_a_receipt_not_issued_yet_when_the_email_goes_points_to_the_booking_page(book, user):
    # The worker may send the confirmation before billing's step has committed its receipt.
    with listeners_replaced(events.PaymentCompleted, keep_apps=("confirmations",)):
        booking = book(prices=("500.00",))
    assert not Document.objects.filter(booking=booking).exists()

    message = sent_email(booking, Kind.CONFIRMATION)

    assert links_in(message.body) == [f"{SITE}/bookings/{booking.pk}/"]
    assert "Your receipt will be on your booking's page" in message.body
