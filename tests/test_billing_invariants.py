"""check_saga_invariants' billing part: one document per payment of a booking that was
confirmed, one refund note per refund, numbers 1…n per series and financial year."""

import pytest
from django.core.management import call_command

from billing.models import Series
from billing.numbering import take_serial
from bookings import events
from portal.flows import cancel_booking
from portal.ops.billing_invariants import billing_violations
from portal.ops.invariants import find_violations
from tests.support.saga_hooks import listeners_replaced

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("default_cancellation_policy"),
]


def test_the_books_of_paid_cancelled_and_declined_bookings_hold(book):
    book()
    cancel_booking(booking=book(), actor="desk", by_staff=True, reason="away")
    book(payment_token="tok_chargeDeclined")
    assert billing_violations() == []
    assert find_violations() == []
    call_command("check_saga_invariants")  # exits non-zero on a violation


def test_a_payment_without_its_receipt_is_reported(book):
    with listeners_replaced(events.PaymentCompleted, keep_apps=("confirmations",)):
        booking = book()
    assert billing_violations() == [
        f"payment {booking.payment.pk} of booking {booking.pk} has 0 receipts, not one"
    ]


def test_a_refund_without_its_note_is_reported(book):
    booking = book()
    with listeners_replaced(events.PaymentRefunded, keep_apps=()):
        cancel_booking(booking=booking, actor="desk", by_staff=True, reason="away")
    (refund,) = booking.payment.refunds.all()
    assert billing_violations() == [f"refund {refund.pk} has 0 refund notes, not one"]


def test_a_number_taken_and_committed_without_its_document_is_a_gap(book):
    first = book()
    take_serial(
        series=Series.DOCUMENTS, financial_year=first.billing_documents.get().financial_year
    )
    assert any("the counter stands at 2, not 1" in v for v in billing_violations())
    book()  # number 3: 2 is missing
    assert any("numbers 1…3 for 2 documents (a gap)" in v for v in billing_violations())


def test_recovery_issues_what_a_crash_left_unissued(book, capsys):
    """A process that died after the confirmation (or the refund) committed but before
    billing's step: no saga is pending, yet resume_sagas issues the documents."""
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    with listeners_replaced(events.PaymentCompleted, keep_apps=("confirmations",)):
        paid = book()
    cancelled = book()
    with listeners_replaced(events.PaymentRefunded, keep_apps=()):
        cancel_booking(booking=cancelled, actor="desk", by_staff=True, reason="away")
    declined = book(payment_token="tok_chargeDeclined")
    assert len(billing_violations()) == 2

    call_command("resume_sagas")  # too soon: they may still be on their way
    assert "documents_handed_to_billing=0" in capsys.readouterr().out
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        call_command("resume_sagas")
    assert "documents_handed_to_billing=2" in capsys.readouterr().out

    assert billing_violations() == []
    assert paid.billing_documents.get().kind == "receipt"
    assert cancelled.billing_documents.filter(kind="refund_note").count() == 1
    assert not declined.billing_documents.exists()
