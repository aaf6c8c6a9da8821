"""Where receipts are found: the PDF downloads (owner and staff only; 404 otherwise or
when nothing was paid) and the booking's `receipts` list in the API (shared/API.md)."""

import io
import json

import pytest
from django.test import Client
from pypdf import PdfReader
from rest_framework.authtoken.models import Token

from billing.models import Document
from portal.flows import cancel_booking
from tests.support.admin_helpers import staff_member
from tests.support.factories import ADULT_BIRTHDAY, UserFactory

pytestmark = [
    pytest.mark.usefixtures("commits"),
    pytest.mark.usefixtures("default_cancellation_policy"),
]


def client_of(user) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")


def pdf_text(response) -> str:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    return PdfReader(io.BytesIO(response.content)).pages[0].extract_text()


def test_the_owner_downloads_the_receipt_in_either_layout_and_language(book, user):
    booking = book()
    number = Document.objects.get(booking=booking).number
    owner = client_of(user)

    a4 = owner.get(f"/api/booking/{booking.pk}/receipt")
    assert number in pdf_text(a4) and "Receipt" in pdf_text(a4)
    assert a4["Cache-Control"] == "private, no-store"
    narrow = owner.get(f"/api/booking/{booking.pk}/receipt?layout=80mm&lang=hi")
    assert "रसीद" in pdf_text(narrow)
    width = PdfReader(io.BytesIO(narrow.content)).pages[0].mediabox.width
    assert round(float(width) / 72 * 25.4) == 80  # millimetres
    by_number = owner.get(f"/receipts/{number}.pdf")
    assert number in pdf_text(by_number)


@pytest.mark.parametrize("query", ["layout=letter", "lang=fr"])
def test_an_unknown_layout_or_language_is_a_400(book, user, query):
    booking = book()
    answer = client_of(user).get(f"/api/booking/{booking.pk}/receipt?{query}")
    assert answer.status_code == 400
    assert query.split("=")[0] in answer.json()


def test_nobody_else_sees_a_receipt_but_staff(book, user):
    booking = book()
    number = Document.objects.get(booking=booking).number
    stranger = client_of(UserFactory())
    for path in (f"/api/booking/{booking.pk}/receipt", f"/receipts/{number}.pdf"):
        assert stranger.get(path).status_code == 404
        assert Client().get(path).status_code == 401
        assert number in pdf_text(client_of(staff_member("Reception")).get(path))


def test_nothing_paid_or_nothing_there_is_a_404(book, user):
    declined = book(payment_token="tok_chargeDeclined")
    owner = client_of(user)
    assert owner.get(f"/api/booking/{declined.pk}/receipt").status_code == 404
    assert owner.get("/api/booking/not-a-uuid/receipt").status_code == 404
    assert owner.get("/receipts/CLN/26-27/99999.pdf").status_code == 404
    assert owner.get("/receipts/..%2F..%2Fetc.pdf").status_code == 404


def post_booking(client, service) -> dict:
    body = {
        "patient_name": "Asha Verma",
        "gender": "male",
        "date_of_birth": ADULT_BIRTHDAY.isoformat(),
        "service_ids": [service.pk],
        "payment_token": "tok_visa",
    }
    answer = client.post("/api/booking", json.dumps(body), content_type="application/json")
    assert answer.status_code == 201, answer.content
    return answer.json()


def test_the_booking_lists_its_receipts_and_the_answer_matches_the_rows(user, service_priced):
    owner = client_of(user)
    created = post_booking(owner, service_priced("500.00"))
    document = Document.objects.get(booking_id=created["id"])
    assert created["receipts"] == [
        {
            "number": document.number,
            "kind": "receipt",
            "issued_at": created["receipts"][0]["issued_at"],
            "amount": "500.00",
            "url": f"/receipts/{document.number}.pdf",
        }
    ]
    assert created["receipts"][0]["issued_at"].endswith("+05:30")
    status = owner.get(f"/api/booking/{created['id']}/status").json()
    assert status["receipts"] == created["receipts"]  # built from the event = read back
    listed = owner.get("/api/booking").json()["results"][0]
    assert listed["receipts"] == created["receipts"]


def test_a_cancelled_booking_lists_its_receipt_and_its_refund_note(book, user):
    booking = book(prices=("800.00",))
    cancel_booking(booking=booking, actor="desk", by_staff=True, reason="doctor away")
    status = client_of(user).get(f"/api/booking/{booking.pk}/status").json()
    assert [(r["kind"], r["amount"]) for r in status["receipts"]] == [
        ("receipt", "800.00"),
        ("refund_note", "800.00"),
    ]


def test_a_failed_booking_lists_no_receipts(book, user):
    declined = book(payment_token="tok_chargeDeclined")
    status = client_of(user).get(f"/api/booking/{declined.pk}/status").json()
    assert status["receipts"] == []


def test_the_booking_page_links_its_receipts_in_the_patients_language(client, book, user):
    booking = book(prices=("800.00",))
    cancel_booking(booking=booking, actor="desk", by_staff=True, reason="doctor away")
    client.force_login(user)
    page = client.get(f"/bookings/{booking.pk}/").content.decode()
    receipt, note = Document.objects.filter(booking=booking).order_by("series")
    assert f'href="/receipts/{receipt.number}.pdf"' in page
    assert "Download the receipt (₹800.00)" in page
    assert "Download the refund note (₹800.00)" in page
    assert receipt.number in pdf_text(client.get(f"/receipts/{receipt.number}.pdf"))
    client.post("/i18n/setlang/", {"language": "hi", "next": "/"})
    hindi = client.get(f"/bookings/{booking.pk}/").content.decode()
    assert "रसीद डाउनलोड करें (₹800.00)" in hindi and "धनवापसी पत्र डाउनलोड करें" in hindi
