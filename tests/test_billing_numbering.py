"""Document numbers: consecutive per series and financial year, never repeated, never
skipped, however many payments commit at once (real threads on PostgreSQL)."""

import threading
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, transaction

from billing import numbering
from billing.models import Document, DocumentCounter, DocumentLine, Series
from billing.numbering import format_number, take_serial
from billing.services import issue_receipt
from bookings import events
from bookings.models import Booking
from payments.models import Payment
from portal.flows import start_booking
from tests.support.factories import ADULT_BIRTHDAY, MedicalServiceFactory, UserFactory
from tests.support.racing import outcomes_at_once
from tests.support.saga_hooks import listeners_replaced

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("default_cancellation_policy"),
]

IST = ZoneInfo("Asia/Kolkata")
PAYMENTS = 100
THREADS = 20  # 20 connections racing (the test server is shared): 5 payments each


def paid_bookings_without_receipts(count: int) -> list[tuple[Booking, Payment]]:
    """`count` confirmed bookings, card and cash mixed, whose receipts are not issued yet
    (billing's receiver held back), so that the test can issue them all at once."""
    user = UserFactory()
    service = MedicalServiceFactory()
    made = []
    with listeners_replaced(events.PaymentCompleted, keep_apps=("confirmations",)):
        for n in range(count):
            cash = n % 2 == 1
            booking = start_booking(
                user=user,
                patient_name=f"Patient {n}",
                gender="female",
                date_of_birth=ADULT_BIRTHDAY,
                service_ids=[service.pk],
                payment_token="cash" if cash else "tok_visa",
                cash_received_by="reception" if cash else None,
            )
            made.append(booking)
    payments = {p.booking_id: p for p in Payment.objects.filter(booking__in=made)}
    assert Document.objects.count() == 0
    return [(b, payments[b.pk]) for b in made]


def receipt_step(booking: Booking, payment: Payment) -> None:
    """What billing's receiver of PaymentCompleted does for this payment."""
    issue_receipt(
        correlation_id=booking.correlation_id,
        booking_id=booking.pk,
        payment_id=payment.pk,
        amount=payment.amount,
        method=payment.method,
    )


def issue_all_at_once(pairs: list[tuple[Booking, Payment]]) -> list:
    chunks = [pairs[i::THREADS] for i in range(THREADS)]

    def issue_chunk(chunk):
        return lambda: [receipt_step(b, p) for b, p in chunk]

    return outcomes_at_once([issue_chunk(chunk) for chunk in chunks])


def test_a_hundred_payments_committed_at_once_get_a_hundred_consecutive_numbers():
    pairs = paid_bookings_without_receipts(PAYMENTS)

    outcomes = issue_all_at_once(pairs)

    assert [o for o in outcomes if isinstance(o, BaseException)] == []
    issued = Document.objects.filter(series=Series.DOCUMENTS)
    assert sorted(issued.values_list("serial", flat=True)) == list(range(1, PAYMENTS + 1))
    assert issued.values("number").distinct().count() == PAYMENTS
    assert set(issued.values_list("payment_method", flat=True)) == {"card", "cash"}
    assert issued.values("payment_id").distinct().count() == PAYMENTS  # one each
    assert DocumentCounter.objects.get(series=Series.DOCUMENTS).last_serial == PAYMENTS


def read_then_write_serial(*, series, financial_year):
    """The numbering this design replaces: read the highest, add one, write later."""
    highest = (
        Document.objects.filter(series=series, financial_year=financial_year)
        .order_by("-serial")
        .values_list("serial", flat=True)
        .first()
    )
    time.sleep(0.01)  # the window every concurrent issuer falls into
    serial, clinic = real_take_serial(series=series, financial_year=financial_year)
    return (highest or 0) + 1, clinic


real_take_serial = numbering.take_serial


def test_the_same_race_with_read_then_write_numbering_repeats_numbers(monkeypatch):
    """The race above can fail: numbered by reading the last document, racing issuers
    draw the same serial (refused by the unique constraint, so payments go unreceipted)."""
    pairs = paid_bookings_without_receipts(2 * THREADS)
    monkeypatch.setattr("billing.services.take_serial", read_then_write_serial)

    outcomes = issue_all_at_once(pairs)

    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert refused, "racing read-then-write issuers should have drawn the same number"
    assert Document.objects.count() < 2 * THREADS


def test_a_transaction_that_fails_after_taking_a_number_leaves_no_gap():
    with pytest.raises(RuntimeError), transaction.atomic():
        assert take_serial(series=Series.DOCUMENTS, financial_year=2026)[0] == 1
        raise RuntimeError("the document's transaction failed after its number")
    assert take_serial(series=Series.DOCUMENTS, financial_year=2026)[0] == 1


def test_a_receipt_whose_step_fails_late_gives_its_number_back(monkeypatch):
    (first, first_payment), (second, second_payment) = paid_bookings_without_receipts(2)
    real_bulk_create = DocumentLine.objects.bulk_create
    failing = threading.Event()
    failing.set()

    def lines_fail_once(*args, **kwargs):
        if failing.is_set():
            failing.clear()
            raise RuntimeError("disk full while writing the lines")
        return real_bulk_create(*args, **kwargs)

    monkeypatch.setattr(DocumentLine.objects, "bulk_create", lines_fail_once)
    with pytest.raises(RuntimeError):
        receipt_step(first, first_payment)  # took number 1, then failed
    receipt_step(second, second_payment)
    receipt_step(first, first_payment)  # delivered again (recovery): issued now

    numbers = dict(Document.objects.values_list("booking_id", "serial"))
    assert numbers == {second.pk: 1, first.pk: 2}


@pytest.mark.parametrize(
    "moment, year, number",
    [
        (datetime(2027, 3, 31, 23, 59, 59, tzinfo=IST), 2026, "CLN/26-27/00001"),
        (datetime(2027, 4, 1, 0, 0, 0, tzinfo=IST), 2027, "CLN/27-28/00001"),
    ],
    ids=["last second of March IST", "1 April 00:00 IST"],
)
def test_the_financial_year_turns_at_1_april_midnight_ist(moment, year, number):
    (booking, payment), *_ = paid_bookings_without_receipts(1)
    with time_machine.travel(moment, tick=False):
        receipt_step(booking, payment)
    document = Document.objects.get()
    assert (document.financial_year, document.number) == (year, number)
    assert document.issued_on == moment.date()


def test_both_years_count_from_one_across_the_edge():
    (a, pa), (b, pb), (c, pc) = paid_bookings_without_receipts(3)
    with time_machine.travel(datetime(2027, 3, 31, 18, 29, 59, tzinfo=ZoneInfo("UTC"))):
        receipt_step(a, pa)  # 23:59:59 IST on 31 March
        receipt_step(b, pb)
    with time_machine.travel(datetime(2027, 3, 31, 18, 30, tzinfo=ZoneInfo("UTC"))):
        receipt_step(c, pc)  # 00:00 IST on 1 April, still 31 March in UTC
    assert sorted(Document.objects.values_list("number", flat=True)) == [
        "CLN/26-27/00001",
        "CLN/26-27/00002",
        "CLN/27-28/00001",
    ]


def test_numbers_keep_within_16_characters():
    longest = format_number(
        prefix="ABCD", series=Series.DOCUMENTS, financial_year=2099, serial=99999
    )
    note = format_number(
        prefix="ABCD", series=Series.REFUND_NOTES, financial_year=2026, serial=9999
    )
    assert (longest, note) == ("ABCD/99-00/99999", "ABCD/26-27/R9999")
    assert max(len(longest), len(note)) <= 16


def test_the_counter_is_taken_by_one_conditional_update_returning():
    take_serial(series=Series.DOCUMENTS, financial_year=2026)  # the year's row exists now
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        take_serial(series=Series.DOCUMENTS, financial_year=2026)
    (statement,) = [q["sql"] for q in queries]
    assert statement.startswith("UPDATE") and "RETURNING" in statement
