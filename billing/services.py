"""Issuing documents: billing's saga steps.

One document per captured payment of a booking that was confirmed (PaymentCompleted,
heard after confirmations), one refund note per refund (PaymentRefunded). Each is
issued in billing's own step transaction: the booking row locked first (as every step
does), the number taken from the series' counter, the document, its lines and
ReceiptIssued written together; a step delivered twice trips the one-per-payment (or
per-refund) constraint and rolls back, its number with it.
"""

import logging
from decimal import Decimal
from uuid import UUID

from django.utils import timezone

from billing.amounts import LineIn, compute_lines, spread_discount, totals_of
from billing.models import (
    ONE_DOCUMENT_PER_PAYMENT,
    ONE_NOTE_PER_REFUND,
    Document,
    DocumentKind,
    DocumentLine,
    Series,
)
from billing.numbering import (
    Clinic,
    clinic_date,
    financial_year_of,
    format_number,
    take_serial,
)
from bookings import events
from bookings.models import Booking, BookingStatus

logger = logging.getLogger("saga")

# A booking that was confirmed (and may since have been checked in, missed or cancelled).
WAS_CONFIRMED = (
    BookingStatus.CONFIRMED,
    BookingStatus.COMPLETED,
    BookingStatus.NO_SHOW,
    BookingStatus.CANCELLED,
)
RECEIPT_OCCURRENCE, REFUND_NOTE_OCCURRENCE = 1, 2


def kind_for(clinic: Clinic, lines: list[LineIn]) -> str:
    if not clinic.gstin:
        return DocumentKind.RECEIPT
    if any(line.gst_rate > 0 for line in lines):
        return DocumentKind.TAX_INVOICE
    return DocumentKind.BILL_OF_SUPPLY


def issue_receipt(
    *,
    correlation_id: UUID,
    booking_id: UUID,
    payment_id: int,
    amount: Decimal,
    method: str,
    instrument: str = "",
) -> Document | None:
    """The payment's receipt, bill of supply or tax invoice; None when the booking was
    not confirmed (a capture that is reversed gets no receipt) or it exists already."""
    issued = None
    with events.saga_step(
        "billing.receipt", correlation_id, once_per_saga=(ONE_DOCUMENT_PER_PAYMENT,)
    ):
        # One statement: the booking row locked (confirmed, never undone) with its items.
        rows = list(
            Booking.objects.filter(pk=booking_id, status__in=WAS_CONFIRMED, compensating=False)
            .select_for_update(of=("self",))
            .order_by("items__pk")
            .values(
                "items__name",
                "items__name_hi",
                "items__price",
                "items__sac_code",
                "items__gst_rate",
                "patient_name",
                "discount_amount",
                "final_price",
                "user__patient_profile__language",
            )
        )
        if not rows:
            logger.info("billing: no receipt, booking not confirmed booking_id=%s", booking_id)
            return None
        first = rows[0]
        if amount != first["final_price"]:
            raise ValueError(f"payment {payment_id} of {amount} is not the booking's final price")
        items = [
            LineIn(
                r["items__name"],
                r["items__sac_code"],
                r["items__price"],
                r["items__gst_rate"],
                description_hi=r["items__name_hi"] or "",
            )
            for r in rows
        ]
        issued = _issue(
            series=Series.DOCUMENTS,
            occurrence=RECEIPT_OCCURRENCE,
            correlation_id=correlation_id,
            booking_id=booking_id,
            items=items,
            discount=first["discount_amount"] or Decimal("0"),
            kind=None,
            fields={
                "payment_id": payment_id,
                "payment_method": method,
                "payment_instrument": instrument,
                "patient_name": first["patient_name"],
                "language": first["user__patient_profile__language"] or "en",
            },
        )
    return issued


def issue_refund_note(*, correlation_id: UUID, refund_id: int, amount: Decimal) -> Document | None:
    """The refund note of a refund: the refunded amount spread over the receipt's lines
    (so a tax invoice's tax is given back in proportion); it names that receipt."""
    issued = None
    with events.saga_step(
        "billing.refund_note", correlation_id, once_per_saga=(ONE_NOTE_PER_REFUND,)
    ):
        Booking.objects.select_for_update().filter(correlation_id=correlation_id).values_list(
            "pk"
        ).first()
        # The receipt and its lines in one read (billing's own rows).
        lines = list(
            DocumentLine.objects.filter(
                document__correlation_id=correlation_id, document__series=Series.DOCUMENTS
            )
            .select_related("document")
            .order_by("position")
        )
        if not lines:
            logger.warning("billing: a refund without a receipt correlation_id=%s", correlation_id)
            return None
        receipt = lines[0].document
        shares = spread_discount([line.total for line in lines], amount)
        items = [
            LineIn(line.description, line.sac, share, line.gst_rate, line.description_hi)
            for line, share in zip(lines, shares, strict=True)
        ]
        issued = _issue(
            series=Series.REFUND_NOTES,
            occurrence=REFUND_NOTE_OCCURRENCE,
            correlation_id=correlation_id,
            booking_id=receipt.booking_id,
            items=items,
            discount=Decimal("0"),
            kind=DocumentKind.REFUND_NOTE,
            # A tax invoice's refund gives its tax back in proportion (a credit of GST).
            taxed=receipt.kind == DocumentKind.TAX_INVOICE,
            fields={
                "payment_id": receipt.payment_id,
                "payment_method": receipt.payment_method,
                "payment_instrument": receipt.payment_instrument,
                "refund_id": refund_id,
                "refunds": receipt,
                "patient_name": receipt.patient_name,
                "language": receipt.language,
            },
        )
    return issued


def _issue(
    *,
    series: str,
    occurrence: int,
    correlation_id: UUID,
    booking_id: UUID,
    items: list[LineIn],
    discount: Decimal,
    kind: str | None,
    fields: dict,
    taxed: bool | None = None,
) -> Document:
    now = timezone.now()
    day = clinic_date(now)
    year = financial_year_of(day)
    serial, clinic = take_serial(series=series, financial_year=year)
    kind = kind or kind_for(clinic, items)
    if taxed is None:
        taxed = kind == DocumentKind.TAX_INVOICE
    lines = compute_lines(items, discount=discount, taxed=taxed)
    totals = totals_of(lines)
    document = Document.objects.create(
        number=format_number(
            prefix=clinic.receipt_prefix, series=series, financial_year=year, serial=serial
        ),
        series=series,
        financial_year=year,
        serial=serial,
        kind=kind,
        issued_at=now,
        issued_on=day,
        booking_id=booking_id,
        correlation_id=correlation_id,
        supplier_name=clinic.legal_name,
        supplier_address=clinic.address,
        supplier_state=clinic.state,
        supplier_gstin=clinic.gstin,
        gross=totals.gross,
        discount=totals.discount,
        taxable_value=totals.taxable_value,
        cgst=totals.cgst,
        sgst=totals.sgst,
        total=totals.total,
        **fields,
    )
    DocumentLine.objects.bulk_create(
        DocumentLine(
            document=document,
            position=position,
            description=line.description,
            description_hi=line.description_hi,
            sac=line.sac,
            price=line.price,
            discount=line.discount,
            taxable_value=line.taxable_value,
            gst_rate=line.gst_rate,
            cgst=line.cgst,
            sgst=line.sgst,
            total=line.total,
        )
        for position, line in enumerate(lines, start=1)
    )
    events.emit(
        events.ReceiptIssued(
            number=document.number,
            kind=kind,
            issued_at=now,
            amount=totals.total,
            booking_id=booking_id,
        ),
        correlation_id=correlation_id,
        occurrence=occurrence,
    )
    return document
