"""DESIGN.md's billing invariants, part of `check_saga_invariants` (portal/invariants.py):
every payment of a booking that was confirmed has exactly one document, of its amount;
every refund one refund note, of its amount; a booking that never confirmed has none;
within a series and financial year the numbers run 1…n, no gap, no repeat, and the
counter stands at n."""

from django.db.models import Count, Max, Min

from billing.models import Document, DocumentCounter, Series
from billing.services import WAS_CONFIRMED
from payments.models import Payment, PaymentStatus, Refund, RefundStatus


def billing_violations() -> list[str]:
    found: list[str] = []
    receipts: dict[int | None, list[Document]] = {}
    notes: dict[int | None, list[Document]] = {}
    for document in Document.objects.only(
        "number", "series", "payment_id", "refund_id", "total", "booking_id"
    ):
        if document.series == Series.DOCUMENTS:
            receipts.setdefault(document.payment_id, []).append(document)
        else:
            notes.setdefault(document.refund_id, []).append(document)

    paid = Payment.objects.filter(
        status=PaymentStatus.CAPTURED, booking__status__in=WAS_CONFIRMED
    ).only("pk", "amount", "booking_id")
    paid_ids = set()
    for payment in paid:
        paid_ids.add(payment.pk)
        issued = receipts.get(payment.pk, [])
        if len(issued) != 1:
            found.append(
                f"payment {payment.pk} of booking {payment.booking_id} has {len(issued)} "
                "receipts, not one"
            )
        elif issued[0].total != payment.amount:
            found.append(
                f"receipt {issued[0].number} says ₹{issued[0].total}, its payment ₹{payment.amount}"
            )
    for payment_id, issued in receipts.items():
        if payment_id not in paid_ids:
            numbers = ", ".join(d.number for d in issued)
            found.append(f"{numbers}: a receipt for payment {payment_id}, not captured for a "
                         "booking that was confirmed")  # fmt: skip

    refunded = Refund.objects.filter(status=RefundStatus.REFUNDED).only("pk", "amount")
    refund_ids = set()
    for refund in refunded:
        refund_ids.add(refund.pk)
        issued = notes.get(refund.pk, [])
        if len(issued) != 1:
            found.append(f"refund {refund.pk} has {len(issued)} refund notes, not one")
        elif issued[0].total != refund.amount:
            found.append(
                f"refund note {issued[0].number} says ₹{issued[0].total}, its refund "
                f"₹{refund.amount}"
            )
    for refund_id, issued in notes.items():
        if refund_id not in refund_ids:
            found.append(f"{issued[0].number}: a refund note for refund {refund_id}, not refunded")
    found += _numbers_without_gaps()
    return found


def _numbers_without_gaps() -> list[str]:
    found = []
    counters = {(c.series, c.financial_year): c.last_serial for c in DocumentCounter.objects.all()}
    runs = Document.objects.values("series", "financial_year").annotate(
        issued=Count("pk"), distinct=Count("serial", distinct=True), low=Min("serial"),
        high=Max("serial"),
    )  # fmt: skip
    for run in runs:
        key = (run["series"], run["financial_year"])
        where = f"{run['series']} of financial year {run['financial_year']}"
        if run["distinct"] != run["issued"]:
            found.append(f"{where}: a number issued twice")
        if run["low"] != 1 or run["high"] != run["distinct"]:
            found.append(
                f"{where}: numbers {run['low']}…{run['high']} for {run['distinct']} documents "
                "(a gap)"
            )
        if counters.get(key) != run["high"]:
            found.append(f"{where}: the counter stands at {counters.get(key)}, not {run['high']}")
    return found
