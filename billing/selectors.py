"""Reads of billing's documents that the edges share."""

from typing import Any

from django.db.models import Prefetch, QuerySet

from billing.models import Document
from bookings.models import Booking


def receipt_url(number: str) -> str:
    """Where a document is downloaded (the `url` of the booking's `receipts` list)."""
    return f"/receipts/{number}.pdf"


def with_receipts(bookings: QuerySet[Booking]) -> QuerySet[Booking]:
    """Bookings with their documents, in issue order (one query for a whole list)."""
    return bookings.prefetch_related(
        Prefetch("billing_documents", queryset=Document.objects.order_by("issued_at", "pk"))
    )


def receipts_of(booking: Booking) -> list[dict[str, Any]]:
    """The booking's documents as API.md lists them: number, kind, issued_at, amount, url.

    From the saga's ReceiptIssued payload when this request ran the whole saga (no read;
    see events.apply_delivered), else from the documents (prefetched by with_receipts).
    """
    delivered = getattr(booking, "delivered_receipts", None)
    if delivered is not None:
        rows = [
            {"number": e.number, "kind": e.kind, "issued_at": e.issued_at, "amount": e.amount}
            for e in delivered
        ]
    else:
        rows = [
            {"number": d.number, "kind": d.kind, "issued_at": d.issued_at, "amount": d.total}
            for d in booking.billing_documents.all()
        ]
    return [{**row, "url": receipt_url(row["number"])} for row in rows]
