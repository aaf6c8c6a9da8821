"""DESIGN.md, "Terminal states are exclusive": a confirmation and a compensation of one
saga can never both take effect, however their steps interleave.

The race is real: each side runs in its own thread on its own PostgreSQL connection,
released together by one barrier, hundreds of times.
"""

import pytest

from billing.services import issue_receipt
from bookings import events
from bookings.models import Booking, BookingStatus, SagaEvent
from confirmations.services import confirm_booking
from payments.models import Payment, PaymentStatus, SimulatedGatewayCharge
from portal.ops.invariants import find_violations
from quotas.models import QuotaReservation
from tests.support.racing import outcomes_at_once
from tests.support.saga_hooks import delivery_stopped

pytestmark = pytest.mark.usefixtures("commits")

RACES = 200
ELIGIBLE = ("2500.00",)  # holds one of the day's discounts, so a release has work to do
FORWARD_ONLY = {"BookingConfirmed", "ReceiptIssued"}
UNDO_ONLY = {"CompensationTriggered", "DiscountQuotaReleased", "PaymentReversed", "BookingFailed"}


def paid_but_not_confirmed(book) -> Booking:
    """The charge is captured and PaymentCompleted logged; confirmations has not acted yet."""
    with delivery_stopped(events.PaymentCompleted):
        booking = book(prices=ELIGIBLE)
    assert booking.status == BookingStatus.PENDING
    return booking


def confirm(booking: Booking, payment: Payment) -> None:
    """What PaymentCompleted's listeners do, in their order: confirmations, then billing
    (which issues a receipt only if the booking did confirm)."""
    confirm_booking(
        correlation_id=booking.correlation_id, booking_id=booking.pk, appointment_start=None
    )
    issue_receipt(
        correlation_id=booking.correlation_id,
        booking_id=booking.pk,
        payment_id=payment.pk,
        amount=payment.amount,
        method=payment.method,
    )


def compensate(booking: Booking) -> None:
    """What recovery does past the deadline (or a crashed step does): undo the saga."""
    events.trigger_compensation(
        correlation_id=booking.correlation_id,
        reason="saga_deadline_passed",
        failed_step="recovery",
    )


def outcome_of(booking: Booking) -> str:
    """Exactly one consistent ending, or an AssertionError saying what is mixed up."""
    booking.refresh_from_db()
    logged = set(
        SagaEvent.objects.filter(correlation_id=booking.correlation_id).values_list(
            "event_type", flat=True
        )
    )
    payment = Payment.objects.get(booking=booking)
    charge = SimulatedGatewayCharge.objects.get(idempotency_key=str(booking.correlation_id))
    live_discount = QuotaReservation.objects.filter(
        booking=booking, released_at__isnull=True
    ).exists()
    where = f"{booking.status}: events {sorted(logged)}, payment {payment.status}"
    if booking.status == BookingStatus.CONFIRMED:
        assert booking.confirmation_code, where
        assert payment.status == PaymentStatus.CAPTURED, where
        assert payment.amount == booking.final_price, where
        assert charge.captured and charge.refund_reference == "", where
        assert live_discount, where  # the discount was rightly used
        assert not logged & UNDO_ONLY, where
        assert booking.billing_documents.count() == 1, where  # its receipt
        return "confirmed"
    assert booking.status == BookingStatus.FAILED, where
    assert booking.confirmation_code is None, where
    assert not live_discount, where
    assert payment.status == PaymentStatus.REFUNDED, where
    assert charge.refund_reference, where
    assert not logged & FORWARD_ONLY, where
    assert not booking.billing_documents.exists(), where  # never confirmed: no receipt
    return "failed"


@pytest.mark.django_db(transaction=True)  # threads at once
def test_confirmation_racing_compensation_ends_one_way_every_time(book, set_default_limit):
    set_default_limit(RACES)
    endings = []
    for _ in range(RACES):
        booking = paid_but_not_confirmed(book)
        payment = Payment.objects.get(booking=booking)
        raised = outcomes_at_once(
            [
                lambda b=booking, p=payment: confirm(b, p),
                lambda b=booking: compensate(b),
            ]
        )
        assert [r for r in raised if isinstance(r, BaseException)] == []
        endings.append(outcome_of(booking))
    assert find_violations() == []
    # Both endings happen: the race is real, not one side always first.
    assert set(endings) == {"confirmed", "failed"}, endings.count("confirmed")


def test_a_compensation_after_confirmation_changes_nothing(book):
    booking = book(prices=ELIGIBLE)
    assert booking.status == BookingStatus.CONFIRMED

    compensate(booking)

    assert outcome_of(booking) == "confirmed"
    assert find_violations() == []


@pytest.mark.django_db(transaction=True)  # threads at once
def test_sequence_numbers_stay_unique_when_two_steps_of_one_saga_log_at_once(book):
    """Two steps of one saga logging at the same instant each get their own number."""
    for _ in range(50):
        booking = paid_but_not_confirmed(book)
        raised = outcomes_at_once(
            [
                lambda b=booking: confirm_booking(
                    correlation_id=b.correlation_id, booking_id=b.pk, appointment_start=None
                ),
                lambda b=booking: compensate(b),
            ]
        )
        assert [r for r in raised if isinstance(r, BaseException)] == []
        numbers = list(
            SagaEvent.objects.filter(correlation_id=booking.correlation_id)
            .order_by("sequence")
            .values_list("sequence", flat=True)
        )
        assert numbers == list(range(1, len(numbers) + 1))


def test_undo_steps_leave_a_confirmed_booking_whole(book):
    """Each participant's undo, called directly on a confirmed booking, changes nothing."""
    from payments.services import reverse_payment
    from quotas.services import release_discount

    booking = book(prices=ELIGIBLE)

    release_discount(correlation_id=booking.correlation_id)
    reverse_payment(correlation_id=booking.correlation_id)

    assert outcome_of(booking) == "confirmed"
    assert find_violations() == []


@pytest.mark.django_db(transaction=True)  # threads at once
def test_a_step_logging_while_another_step_of_its_saga_holds_its_number_waits_and_takes_the_next():
    """Deterministic: step A has logged an event (sequence 1, not committed) and holds its
    transaction open; step B of the same saga, which locks no booking row, logs another:
    its INSERT computes the same number and waits on A's row. Once A commits, B takes 2,
    without an error (without `ON CONFLICT … DO NOTHING` and the retry it fails on
    saga_event_sequence_unique)."""
    import threading
    import time
    import uuid

    from django.db import connection

    cid = uuid.uuid4()
    a_logged, a_may_commit = threading.Event(), threading.Event()
    b_pid: list[int] = []

    def step_a() -> None:
        with events.saga_step("test.a", cid):
            events.emit(events.PaymentFailed(reason="card_declined"), correlation_id=cid)
            a_logged.set()
            assert a_may_commit.wait(10), "the test never let A commit"

    def step_b() -> None:
        assert a_logged.wait(10), "A never logged"
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            b_pid.append(cursor.fetchone()[0])
        with events.saga_step("test.b", cid):
            events.emit(events.SlotReleased(slot_id=1), correlation_id=cid)

    def let_a_commit_once_b_waits() -> None:
        assert a_logged.wait(10)
        deadline = time.monotonic() + 10
        try:
            while time.monotonic() < deadline:
                if b_pid:
                    with connection.cursor() as cursor:
                        cursor.execute(
                            "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s",
                            [b_pid[0]],
                        )
                        row = cursor.fetchone()
                    if row and row[0] == "Lock":  # B's INSERT waits on A's row
                        return
                time.sleep(0.01)
            raise AssertionError("B never waited on A's sequence number")
        finally:
            a_may_commit.set()

    outcomes = outcomes_at_once([step_a, step_b, let_a_commit_once_b_waits])

    assert [o for o in outcomes if isinstance(o, BaseException)] == []
    logged = list(
        SagaEvent.objects.filter(correlation_id=cid)
        .order_by("sequence")
        .values_list("sequence", "event_type")
    )
    assert logged == [(1, "PaymentFailed"), (2, "SlotReleased")]
