"""The documents as PDFs, A4 and 80 mm, English and Hindi, read back by text extraction
(pypdf): number, date, GSTIN, SAC, each line, discount, the tax split, total, words."""

import io
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from pypdf import PdfReader

from billing.models import BillingSettings, Document, DocumentKind
from billing.pdf import render
from portal.flows import cancel_booking

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("default_cancellation_policy"),
]

IST = ZoneInfo("Asia/Kolkata")
GSTIN = "29AAGCB7383J1Z4"


@pytest.fixture(autouse=True)
def registered_clinic():
    BillingSettings.objects.filter(pk=1).update(
        legal_name="Asha Clinic LLP", gstin=GSTIN, receipt_prefix="ASC"
    )
    with time_machine.travel(datetime(2026, 12, 10, 9, 30, tzinfo=IST), tick=False):
        yield


def text_of(pdf: bytes) -> str:
    """The page's text, a line wrapped on the narrow layout joined again."""
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    return " ".join(reader.pages[0].extract_text().split())


def squeezed(text: str) -> str:
    """Only the Devanagari letters and signs, in order. Read back from the PDF, a shaped
    word may carry a space or a stray character where a vowel sign was reordered (fpdf2's
    ToUnicode map for that glyph): the letters themselves must come back in order."""
    return "".join(ch for ch in text if "\u0900" <= ch <= "\u097f")


@pytest.fixture
def tax_invoice(book, service_priced) -> Document:
    peel = service_priced("1200.00", name="Chemical peel", sac_code="999722", gst_rate=18)
    cbc = service_priced("800.00", name="Complete Blood Count", sac_code="999316")
    booking = book(services=[cbc, peel])
    return Document.objects.get(booking=booking)


@pytest.mark.parametrize("layout", ["a4", "80mm"])
def test_a_tax_invoice_in_english_says_everything_the_rules_ask(tax_invoice, layout):
    assert tax_invoice.kind == DocumentKind.TAX_INVOICE
    text = text_of(render(tax_invoice, layout=layout, language="en"))
    for expected in (
        "Asha Clinic LLP",
        f"GSTIN: {GSTIN}",
        "Tax invoice",
        "ASC/26-27/00001",
        "10-12-2026",
        "Asha Verma",
        "Complete Blood Count",
        "999316",
        "Chemical peel",
        "999722",
        "₹800.00",
        "₹1,200.00",
        "- ₹240.00",  # the discount, before tax
        "₹894.92",  # the peel's taxable value
        "CGST 9% ₹80.54",
        "SGST 9% ₹80.54",
        "Amount paid ₹1,760.00",
        "card",
        "Rupees One Thousand Seven Hundred Sixty Only",
    ):
        assert expected in text, expected


def test_a_tax_invoice_in_hindi_is_shaped_devanagari(tax_invoice):
    text = text_of(render(tax_invoice, layout="a4", language="hi"))
    flat = squeezed(text)
    for expected in ("ASC/26-27/00001", GSTIN, "₹1,760.00", "999722", "₹80.54"):
        assert expected in text, expected
    for hindi in ("कर बीजक", "कर योग्य मूल्य", "भुगतान का तरीका", "रुपये एक हज़ार सात सौ साठ मात्र"):
        assert squeezed(hindi) in flat, hindi


def test_an_exempt_bill_of_supply_in_both_languages(book):
    booking = book(prices=("1500.00",))
    bill = Document.objects.get(booking=booking)
    assert bill.kind == DocumentKind.BILL_OF_SUPPLY
    english = text_of(render(bill, language="en"))
    assert "Bill of supply" in english and "ASC/26-27/00001" in english
    assert "exempt from GST" in english and "CGST" not in english
    assert "- ₹180.00" in english and "Amount paid ₹1,320.00" in english
    assert "Rupees One Thousand Three Hundred Twenty Only" in english
    hindi = squeezed(text_of(render(bill, layout="80mm", language="hi")))
    assert squeezed("आपूर्ति का बिल") in hindi
    assert squeezed("रुपये एक हज़ार तीन सौ बीस मात्र") in hindi


def test_a_refund_note_names_its_receipt_in_both_languages(book):
    booking = book(prices=("800.00",))
    cancel_booking(booking=booking, actor="desk", by_staff=True, reason="doctor away")
    note = Document.objects.get(booking=booking, kind=DocumentKind.REFUND_NOTE)
    english = text_of(render(note, language="en"))
    assert "Refund note" in english and "ASC/26-27/R0001" in english
    assert "Refund against ASC/26-27/00001" in english
    assert "Amount refunded ₹800.00" in english
    assert "Rupees Eight Hundred Only" in english
    text = text_of(render(note, layout="80mm", language="hi"))
    hindi = squeezed(text)
    assert squeezed("धनवापसी पत्र") in hindi and "ASC/26-27/R0001" in text
    assert squeezed("रुपये आठ सौ मात्र") in hindi


def test_the_document_language_is_the_patients_by_default(book, user):
    from bookings.models import PatientProfile

    PatientProfile.objects.create(
        user=user, full_name="Asha", gender="female", date_of_birth="1990-06-15", language="hi"
    )
    booking = book(prices=("500.00",))
    document = Document.objects.get(booking=booking)
    assert document.language == "hi"
    assert squeezed("आपूर्ति का बिल") in squeezed(text_of(render(document)))


def test_amounts_in_words_use_lakh_and_crore():
    from billing.words import amount_in_words

    assert amount_in_words(Decimal("1250")) == "Rupees One Thousand Two Hundred Fifty Only"
    assert amount_in_words(Decimal("12345678.50")) == (
        "Rupees One Crore Twenty Three Lakh Forty Five Thousand Six Hundred Seventy Eight"
        " and Fifty Paise Only"
    )
    assert amount_in_words(Decimal("250000"), "hi") == "रुपये दो लाख पचास हज़ार मात्र"
    assert amount_in_words(Decimal("79.99"), "hi") == "रुपये उन्यासी और निन्यानवे पैसे मात्र"


def test_hindi_documents_name_each_service_as_it_was_booked_in_hindi(book, service_priced):
    echo = service_priced("900.00", name="2D Echocardiogram", name_hi="2डी इकोकार्डियोग्राम")
    cbc = service_priced("300.00", name="Complete Blood Count")  # no Hindi name: English
    booking = book(services=[echo, cbc])
    echo.name_hi = "बदला हुआ नाम"  # renamed later: the document keeps the booked name
    echo.save()
    receipt = Document.objects.get(booking=booking)
    english = text_of(render(receipt, language="en"))
    assert "2D Echocardiogram" in english and "Complete Blood Count" in english
    hindi_text = text_of(render(receipt, language="hi"))
    assert squeezed("इकोकार्डियोग्राम") in squeezed(hindi_text)
    assert "2D Echocardiogram" not in hindi_text and "Complete Blood Count" in hindi_text
    assert squeezed("बदला") not in squeezed(hindi_text)
    cancel_booking(booking=booking, actor="desk", by_staff=True, reason="doctor away")
    note = Document.objects.get(booking=booking, kind=DocumentKind.REFUND_NOTE)
    assert squeezed("इकोकार्डियोग्राम") in squeezed(text_of(render(note, language="hi")))
