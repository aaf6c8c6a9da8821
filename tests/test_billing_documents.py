"""billing: one document per captured payment of a confirmed booking, one refund note per
refund; the kind follows the clinic's GSTIN and the lines' rates; amounts add up."""

from datetime import datetime
from decimal import Decimal
from importlib import import_module
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.amounts import LineIn, compute_lines, spread_discount, totals_of
from billing.gstin import validate_gstin
from billing.models import BillingSettings, Document, DocumentKind, Series
from billing.services import issue_receipt
from bookings import events
from bookings.models import BookingItem, MedicalService, SagaEvent
from portal.flows import cancel_booking

pytestmark = [
    pytest.mark.usefixtures("commits"),
    pytest.mark.usefixtures("default_cancellation_policy"),
]

IST = ZoneInfo("Asia/Kolkata")
GSTIN = "29AAGCB7383J1Z4"  # a well-formed Karnataka GSTIN (its check character holds)


@pytest.fixture(autouse=True)
def december():
    with time_machine.travel(datetime(2026, 12, 10, 9, 0, tzinfo=IST)):
        yield


def registered(gstin: str = GSTIN) -> None:
    BillingSettings.objects.filter(pk=1).update(
        legal_name="Asha Clinic LLP", state="29", gstin=gstin, receipt_prefix="ASC"
    )


def documents(booking) -> list[Document]:
    return list(Document.objects.filter(booking=booking).order_by("series", "serial"))


# --- The settings ------------------------------------------------------------------


@pytest.mark.parametrize("gstin", ["29AAGCB7383J1Z4", "27AAPFU0939F1ZV"])
def test_a_real_gstin_passes(gstin):
    validate_gstin(gstin)


@pytest.mark.parametrize(
    "gstin, code",
    [
        ("29AAGCB7383J1Z5", "gstin_checksum"),  # one character off: the check catches it
        ("29AAGCB7383J1Y4", "gstin_format"),  # the 14th must be Z
        ("29aagcb7383j1z4", "gstin_format"),
        ("29AAGCB7383J1Z", "gstin_format"),
        ("99AAGCB7383J1Z4", "gstin_state"),
    ],
)
def test_a_wrong_gstin_is_refused_with_its_reason(gstin, code):
    with pytest.raises(ValidationError) as refused:
        validate_gstin(gstin)
    assert refused.value.code == code


def test_the_settings_row_exists_and_reading_it_writes_nothing():
    with CaptureQueriesContext(connection) as queries:
        clinic = BillingSettings.objects.get(pk=1)
    assert clinic.receipt_prefix == "CLN" and clinic.gstin == ""
    assert len(queries) == 1 and queries[0]["sql"].startswith("SELECT")


def test_a_gstin_of_another_state_than_the_clinics_is_refused():
    clinic = BillingSettings.objects.get(pk=1)
    clinic.gstin = "27AAPFU0939F1ZV"  # Maharashtra; the clinic is in Karnataka (29)
    with pytest.raises(ValidationError, match="registered in state 27"):
        clinic.full_clean()


def test_every_seeded_service_gets_a_health_sac_code_and_items_copy_sac_and_rate(book):
    seed = import_module("bookings.migrations.0002_seed_services")
    sac = import_module("bookings.migrations.0020_service_sac_and_gst_rate").SAC_OF_SEED
    assert set(sac) == {name for name, _, _ in seed.SERVICES}
    assert sac["MRI Scan"] == "999316" and sac["Specialist Consultation"] == "999312"
    service = MedicalService.objects.create(
        name="Laser hair removal", price=Decimal("1180.00"), sac_code="999722",
        gst_rate=Decimal("18"),
    )  # fmt: skip
    booking = book(services=[service])
    item = BookingItem.objects.get(booking=booking)
    service.gst_rate = Decimal("5")
    service.save()
    item.refresh_from_db()
    assert (item.sac_code, item.gst_rate) == ("999722", Decimal("18.00"))


# --- Amounts -----------------------------------------------------------------------


def test_the_discount_is_spread_in_proportion_and_adds_up_exactly():
    shares = spread_discount([Decimal("100.00")] * 3, Decimal("10.00"))
    assert shares == [Decimal("3.33"), Decimal("3.33"), Decimal("3.34")]


def test_tax_is_taken_after_the_discount_rounded_half_up_and_totals_add_up():
    lines = compute_lines(
        [
            LineIn("Consultation", "999312", Decimal("800.00"), Decimal("0")),
            LineIn("Cosmetic peel", "999722", Decimal("1200.00"), Decimal("18")),
        ],
        discount=Decimal("240.00"),
        taxed=True,
    )
    exempt, taxable = lines
    assert (exempt.discount, exempt.total, exempt.cgst) == (
        Decimal("96.00"),
        Decimal("704.00"),
        Decimal("0.00"),
    )
    # 1056.00 paid for the line includes 18% GST: 1056 × 18/118 = 161.0847…, half each
    # is 80.5423… → 80.54 (half-up); the taxable value is what remains.
    assert taxable.discount == Decimal("144.00") and taxable.total == Decimal("1056.00")
    assert (taxable.cgst, taxable.sgst) == (Decimal("80.54"), Decimal("80.54"))
    assert taxable.taxable_value == Decimal("894.92")
    totals = totals_of(lines)
    assert totals.total == Decimal("1760.00")
    assert totals.taxable_value + totals.cgst + totals.sgst == totals.total


def test_half_a_paisa_of_tax_rounds_up():
    # 10.50 with 5% GST: 10.50 × 5/105 = 0.50 → 0.25 each half exactly; 10.71: 0.51/2
    # = 0.255 → 0.26 (half-up, where banker's rounding would give 0.26 too) ; 10.29:
    # 0.49/2 = 0.245 → 0.25 half-up (banker's: 0.24).
    (line,) = compute_lines(
        [LineIn("x", "9993", Decimal("10.29"), Decimal("5"))], discount=Decimal("0"), taxed=True
    )
    assert line.cgst == Decimal("0.25")
    assert line.taxable_value == Decimal("9.79")


# --- Documents issued by the saga --------------------------------------------------


def test_an_unregistered_clinic_issues_a_plain_receipt_of_what_was_paid(book):
    booking = book(prices=("500.00", "350.00"))
    (receipt,) = documents(booking)
    assert receipt.kind == DocumentKind.RECEIPT
    assert receipt.number == "CLN/26-27/00001"
    assert receipt.total == booking.final_price == Decimal("850.00")
    assert receipt.supplier_gstin == "" and receipt.cgst == receipt.sgst == Decimal("0")
    assert [(line.price, line.sac) for line in receipt.lines.all()] == [
        (Decimal("500.00"), "9993"),
        (Decimal("350.00"), "9993"),
    ]
    assert receipt.payment_method == "card" and receipt.patient_name == "Asha Verma"
    issued = SagaEvent.objects.get(
        correlation_id=booking.correlation_id, event_type="ReceiptIssued"
    )
    assert issued.payload["number"] == receipt.number
    assert issued.payload["amount"] == "850.00"


def test_a_registered_clinic_issues_a_bill_of_supply_for_exempt_services(book):
    registered()
    booking = book(prices=("1500.00",))  # above ₹1000: 12% off
    (bill,) = documents(booking)
    assert bill.kind == DocumentKind.BILL_OF_SUPPLY
    assert bill.number == "ASC/26-27/00001" and bill.supplier_gstin == GSTIN
    assert (bill.gross, bill.discount, bill.total) == (
        Decimal("1500.00"),
        Decimal("180.00"),
        Decimal("1320.00"),
    )
    assert bill.taxable_value == bill.total and bill.cgst == 0


def test_a_taxable_line_makes_a_tax_invoice_with_cgst_and_sgst(book, service_priced):
    registered()
    peel = service_priced("1200.00", sac_code="999722", gst_rate=Decimal("18"))
    booking = book(services=[service_priced("800.00"), peel])
    (invoice,) = documents(booking)
    assert invoice.kind == DocumentKind.TAX_INVOICE
    assert (invoice.discount, invoice.cgst, invoice.sgst, invoice.total) == (
        Decimal("240.00"),
        Decimal("80.54"),
        Decimal("80.54"),
        Decimal("1760.00"),
    )
    assert invoice.total == booking.final_price


def test_a_declined_card_gets_no_document(book):
    booking = book(payment_token="tok_chargeDeclined")
    assert booking.status == "failed"
    assert documents(booking) == []


def test_a_payment_delivered_twice_gets_one_document_and_no_gap(book):
    first = book()
    (receipt,) = documents(first)
    issue_receipt(
        correlation_id=first.correlation_id,
        booking_id=first.pk,
        payment_id=receipt.payment_id,
        amount=receipt.total,
        method="card",
    )
    second = book()
    assert len(documents(first)) == 1
    assert [d.serial for d in documents(second)] == [2]


def test_a_refund_gets_a_refund_note_of_its_own_series_naming_the_receipt(book):
    registered()
    booking = book(prices=("800.00",))
    cancel_booking(booking=booking, actor="staff", by_staff=True, reason="doctor away")
    receipt, note = sorted(documents(booking), key=lambda d: d.series)
    assert note.kind == DocumentKind.REFUND_NOTE and note.series == Series.REFUND_NOTES
    assert note.number == "ASC/26-27/R0001" and note.refunds == receipt
    assert note.total == Decimal("800.00") and note.refund_id is not None
    trail = list(
        SagaEvent.objects.filter(correlation_id=booking.correlation_id)
        .order_by("sequence")
        .values_list("event_type", flat=True)
    )
    assert trail.count(events.ReceiptIssued.name) == 2
    assert trail.index("PaymentRefunded") < len(trail) - 1 - trail[::-1].index("ReceiptIssued")


def test_a_tax_invoices_refund_note_gives_its_tax_back_in_proportion(book, service_priced):
    registered()
    peel = service_priced("1200.00", sac_code="999722", gst_rate=Decimal("18"))
    booking = book(services=[service_priced("800.00"), peel])
    cancel_booking(booking=booking, actor="staff", by_staff=True, reason="doctor away")
    note = Document.objects.get(booking=booking, kind=DocumentKind.REFUND_NOTE)
    # Everything back (staff): the invoice's own tax comes back, to the paisa.
    assert (note.total, note.cgst, note.sgst) == (
        Decimal("1760.00"),
        Decimal("80.54"),
        Decimal("80.54"),
    )
    assert note.taxable_value + note.cgst + note.sgst == note.total
