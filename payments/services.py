"""Charging a booking, and reversing the charge when the saga is compensated.

The gateway is always called outside a database transaction: no lock is held
while the network is in the way.
"""

import logging
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import Exists, F
from django.utils import timezone

from bookings import events
from bookings.models import AuditLog, Booking, BookingStatus
from payments import online
from payments.gateway import ChargeResult, RefundDeclined, RefundPending, get_gateway
from payments.models import (
    DESK_METHOD_OF,
    DESK_METHODS,
    DESK_TOKENS,
    ONE_REFUND_PER_SAGA,
    ONLINE_TOKEN,
    PAYMENT_LINK_TOKEN,
    CashReceipt,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundStatus,
    ReversalReason,
)

logger = logging.getLogger("payments")

PRICE_CHANGED = "price_changed"


def charge_booking(*, correlation_id: UUID, final_price: Decimal) -> None:
    """Charge the final price once; emit PaymentCompleted, or PaymentFailed and compensate.

    Never more than the patient was shown: when the booking carries the amount they saw
    (`expected_total`) and the final price is higher (the day's last discount went to
    someone else in between), nothing is charged and the saga is compensated
    (`price_changed`). Nothing is charged either once the saga is being undone.
    """
    amount = final_price
    booking = Booking.objects.only(
        "pk", "payment_token", "expected_total", "status", "compensating", "appointment_start"
    ).get(correlation_id=correlation_id)
    if booking.status != BookingStatus.PENDING or booking.compensating:
        return  # ended, or being undone: compensation settles any payment there is
    if booking.expected_total is not None and amount > booking.expected_total:
        _refuse_higher_price(correlation_id=correlation_id, amount=amount, booking=booking)
        return
    if booking.payment_token in (ONLINE_TOKEN, PAYMENT_LINK_TOKEN) and amount != 0:
        # Paid later, at the gateway's checkout (or on the desk's payment link): the step
        # records the order and waits.
        online.await_payment(
            correlation_id=correlation_id,
            booking_id=str(booking.pk),
            amount=amount,
            by_link=booking.payment_token == PAYMENT_LINK_TOKEN,
        )
        return
    cash = booking.payment_token in DESK_TOKENS  # cash, or the counter's card machine
    try:
        payment = Payment.objects.create(
            booking_id=booking.pk,
            correlation_id=correlation_id,
            amount=amount,
            method=DESK_METHOD_OF.get(booking.payment_token, PaymentMethod.CARD),
        )
    except IntegrityError:  # delivered again: the payment exists, settle that one
        payment = Payment.objects.get(correlation_id=correlation_id)
        if payment.status not in (PaymentStatus.PENDING, PaymentStatus.CAPTURED):
            return
        if payment.status == PaymentStatus.PENDING and amount != 0 and not cash:
            # The earlier delivery may have died during the charge: its outcome is the
            # gateway's to tell (by idempotency key). Record that, never charge again.
            known = get_gateway().lookup(
                idempotency_key=str(correlation_id), token=booking.payment_token
            )
            if known is not None:
                record_charge_outcome(payment=payment, result=known, booking=booking)
                return

    if amount == 0:
        result = ChargeResult(True, "no_charge")  # a 100% discount: nothing to take
    elif cash:
        result = _cash_outcome(correlation_id)
    else:
        result = get_gateway().charge(
            amount=payment.amount, token=booking.payment_token, idempotency_key=str(correlation_id)
        )
    record_charge_outcome(payment=payment, result=result, booking=booking)


def _refuse_higher_price(*, correlation_id: UUID, amount: Decimal, booking: Booking) -> None:
    """The price went up after the patient saw it: charge nothing, undo the saga."""
    with events.saga_step("payments.charge", correlation_id):
        if not events.mark_compensating(correlation_id):
            return  # already being undone, or ended
        events.emit(events.PaymentFailed(reason=PRICE_CHANGED), correlation_id=correlation_id)
        events.emit(
            events.CompensationTriggered(reason=PRICE_CHANGED, failed_step="payments"),
            correlation_id=correlation_id,
        )


def receive_cash(*, correlation_id: UUID, received_by: str) -> CashReceipt:
    """The front desk took cash for this booking (inside the booking request's
    transaction): the payment step will record it as captured by `received_by`."""
    receipt, _ = CashReceipt.objects.get_or_create(
        correlation_id=correlation_id, defaults={"received_by": received_by}
    )
    return receipt


def _cash_outcome(correlation_id: UUID) -> ChargeResult:
    """Cash never goes to the card gateway: captured when the desk recorded receiving
    it, declined otherwise (a `cash` token without a receipt cannot come from a patient:
    the edges refuse it, this is the last guard)."""
    receipt = CashReceipt.objects.filter(correlation_id=correlation_id).first()
    if receipt is None:
        return ChargeResult(False, "", "cash_not_received")
    return ChargeResult(True, f"cash_{receipt.pk}")


def record_charge_outcome(*, payment: Payment, result: ChargeResult, booking: Booking) -> None:
    """`booking` as charge_booking read it: its id and appointment travel on."""
    correlation_id = payment.correlation_id
    taken_too_late = False
    with events.saga_step("payments.charge", correlation_id):
        status = PaymentStatus.CAPTURED if result.captured else PaymentStatus.DECLINED
        # Recorded only while pending and the saga is not being undone: recovery may have
        # compensated the booking while this charge was still on its way.
        undone = Booking.objects.filter(correlation_id=correlation_id, compensating=True)
        recorded = (
            Payment.objects.filter(pk=payment.pk, status=PaymentStatus.PENDING)
            .exclude(Exists(undone))
            .update(
                status=status,
                gateway_reference=result.reference,
                decline_reason=result.decline_reason,
                updated_at=timezone.now(),
            )
        )
        if recorded:
            _log_charge_outcome(payment=payment, result=result, booking=booking)
        elif not result.captured:
            # Declined while the saga was being undone: nothing was taken, say so.
            Payment.objects.filter(pk=payment.pk, status=PaymentStatus.PENDING).update(
                status=status, decline_reason=result.decline_reason, updated_at=timezone.now()
            )
        else:
            taken_too_late = not Payment.objects.filter(
                pk=payment.pk, status=PaymentStatus.CAPTURED
            ).exists()
    if taken_too_late:
        _refund_late_capture(payment=payment, result=result)


def _log_charge_outcome(*, payment: Payment, result: ChargeResult, booking: Booking) -> None:
    # No AuditLog row: the event is the record (a cash payment's receiver is on its
    # CashReceipt and on the front desk's own AuditLog row).
    correlation_id = payment.correlation_id
    # A decline undoes the saga: the booking row is marked before any event is logged
    # (events.mark_compensating), the order every step keeps.
    undo = not result.captured and events.mark_compensating(correlation_id)
    if result.captured:
        events.emit(
            events.PaymentCompleted(
                payment_id=payment.pk,
                amount=payment.amount,
                method=payment.method,  # card or cash: the patient's history says which
                booking_id=booking.pk,
                appointment_start=booking.appointment_start,
            ),
            correlation_id=correlation_id,
        )
        return
    events.emit(events.PaymentFailed(reason=result.decline_reason), correlation_id=correlation_id)
    if undo:
        events.emit(
            events.CompensationTriggered(reason=result.decline_reason, failed_step="payments"),
            correlation_id=correlation_id,
        )


def _refund_late_capture(*, payment: Payment, result: ChargeResult) -> None:
    """Money taken after the booking was undone (the charge outlived the saga's deadline):
    give it straight back."""
    _refund(
        payment=payment,
        reference=result.reference,
        refundable=(PaymentStatus.PENDING, PaymentStatus.DECLINED),
        step="payments.refund_late",
    )


def reverse_payment(*, correlation_id: UUID) -> None:
    """Refund this saga's charge if money was taken; settle an unknown outcome first."""
    payment = (
        Payment.objects.filter(correlation_id=correlation_id).select_related("booking").first()
    )
    if payment is None or payment.status in (PaymentStatus.DECLINED, PaymentStatus.REFUNDED):
        return
    if not payment.booking.compensating:
        return  # confirmation won the race: the patient has what was paid for
    if payment.status == PaymentStatus.PENDING:
        # The charge's outcome never got recorded: ask the gateway, never charge again
        # (cash never went to the gateway: not recorded as taken, it is handed back).
        known = (
            None
            if payment.method in DESK_METHODS
            else get_gateway().lookup(
                idempotency_key=str(correlation_id), token=payment.booking.payment_token
            )
        )
        if known is None or not known.captured:
            Payment.objects.filter(pk=payment.pk, status=PaymentStatus.PENDING).update(
                status=PaymentStatus.DECLINED,
                decline_reason=(known.decline_reason if known else "not_charged"),
                updated_at=timezone.now(),
            )
            return
        payment.gateway_reference = known.reference
    if payment.method == PaymentMethod.ONLINE and payment.amount > 0:
        _reverse_online_capture(payment=payment)
        return
    _refund(
        payment=payment,
        reference=payment.gateway_reference,
        refundable=(PaymentStatus.PENDING, PaymentStatus.CAPTURED),
        step="payments.reverse",
    )


def _reverse_online_capture(*, payment: Payment) -> None:
    """An online capture the saga undid (its confirmation failed, or recovery gave up on
    it): refunded like any capture a booking does not keep, through a ReversedCapture.
    Razorpay processes a refund in the bank's time, or fails it: the reversal waits for
    its webhook or reconciliation, emits PaymentReversed once processed, and a failure
    shows to staff (and can be tried again). The payment is marked refunded once the
    reversal is recorded; until then recovery sees it captured and sends this again."""
    online.reverse_capture(
        payment=payment,
        gateway_payment_id=payment.gateway_reference,
        amount=payment.amount,
        reason=ReversalReason.COMPENSATED,
    )
    Payment.objects.filter(pk=payment.pk, status=PaymentStatus.CAPTURED).update(
        status=PaymentStatus.REFUNDED, refunded_at=timezone.now(), updated_at=timezone.now()
    )


def _desk_reference(method: str, pk: int) -> str:
    """A refund handed back at the desk, named by how: cash_back_7, or pos_back_7 for the
    counter's card machine (it said cash_back_ for both)."""
    return f"{method}_back_{pk}"


def _refund(
    *,
    payment: Payment,
    reference: str,
    refundable: tuple[str, ...],
    step: str,
) -> None:
    """Refund at the gateway, then record it once: whoever refunds first (compensation or
    a late capture) records it; the shared idempotency key makes the gateway refund once."""
    correlation_id = payment.correlation_id
    refund_reference = ""
    if payment.method in DESK_METHODS:
        refund_reference = _desk_reference(payment.method, payment.pk)
    elif payment.amount > 0:  # a 100% discount took nothing at the gateway
        try:
            refund_reference = get_gateway().refund(
                reference=reference,
                amount=payment.amount,
                idempotency_key=f"refund-{correlation_id}",
            )
        except RefundPending as accepted:  # made at the gateway; the money is on its way
            refund_reference = accepted.reference
    with events.saga_step(step, correlation_id):
        if not Payment.objects.filter(pk=payment.pk, status__in=refundable).update(
            status=PaymentStatus.REFUNDED,
            gateway_reference=reference,
            refund_reference=refund_reference,
            refunded_at=timezone.now(),
            updated_at=timezone.now(),
        ):
            return
        events.emit(
            events.PaymentReversed(payment_id=payment.pk, amount=payment.amount),
            correlation_id=correlation_id,
        )


def refund_cancellation(
    *, correlation_id: UUID, refund_amount: Decimal, cancelled_by_staff: str = ""
) -> None:
    """Give back what the cancellation policy gave (nothing to do for ₹0), once per saga.

    `cancelled_by_staff`: the staff member who cancelled (empty when the patient did); for
    a desk payment, they hand it back at once (the day close counts cash against their
    drawer); one the patient cancelled waits at the desk (hand_back_refund)."""
    amount = refund_amount
    if amount <= 0:
        return
    payment = Payment.objects.only("pk", "method").get(
        correlation_id=correlation_id, status=PaymentStatus.CAPTURED
    )
    at_the_desk = payment.method in DESK_METHODS
    # Recorded as pending before the gateway is asked: a crash in between leaves a
    # pending refund that `settle_refund` retries with the same idempotency key.
    with events.saga_step(
        "payments.refund_requested", correlation_id, once_per_saga=(ONE_REFUND_PER_SAGA,)
    ):
        Refund.objects.create(
            payment=payment,
            correlation_id=correlation_id,
            amount=amount,
            handed_back_by=cancelled_by_staff if at_the_desk else "",
        )
    settle_refund(correlation_id=correlation_id)


def settle_refund(*, correlation_id: UUID) -> str:
    """Ask the gateway to make a pending refund; record its answer. Returns the status.

    No answer (a timeout, an outage) leaves it pending for the next try; a refusal
    marks it failed, for staff to see in the admin and settle by hand. A refund the
    gateway accepted but has not processed (Razorpay's `pending`) keeps its reference
    and stays pending until its webhook or reconciliation says processed or failed.
    """
    refund = Refund.objects.select_related("payment").get(correlation_id=correlation_id)
    if refund.status != RefundStatus.PENDING:
        return refund.status
    at_the_desk = refund.payment.method in DESK_METHODS
    if at_the_desk and not refund.handed_back_by:
        # Cash comes back in cash (a counter card on the card machine), by a person: it
        # waits for the patient at the desk until someone hands it over (hand_back_refund).
        return RefundStatus.PENDING
    Refund.objects.filter(pk=refund.pk).update(
        attempts=F("attempts") + 1, updated_at=timezone.now()
    )
    try:
        if at_the_desk:
            reference = _desk_reference(refund.payment.method, refund.pk)
        else:
            reference = get_gateway().refund(
                reference=refund.payment.gateway_reference,
                amount=refund.amount,
                idempotency_key=refund.idempotency_key,
            )
    except RefundPending as accepted:
        Refund.objects.filter(pk=refund.pk, status=RefundStatus.PENDING).update(
            gateway_reference=accepted.reference, updated_at=timezone.now()
        )
        return Refund.objects.values_list("status", flat=True).get(pk=refund.pk)
    except RefundDeclined as declined:
        _refund_failed(refund=refund, reason=str(declined))
        return Refund.objects.values_list("status", flat=True).get(pk=refund.pk)
    except Exception:
        logger.warning("refund not answered, left pending correlation_id=%s", correlation_id)
        return RefundStatus.PENDING
    _refund_processed(refund=refund, reference=reference)
    return RefundStatus.REFUNDED


def hand_back_refund(*, correlation_id: UUID, actor: str) -> bool:
    """The desk handed a patient the refund of a cash (or counter card) payment they
    cancelled themselves: `actor`'s drawer pays it out today (the day close counts it).
    Audited; once, however many clicks or colleagues at the same moment (a conditional
    UPDATE claims it). False when there is nothing waiting at the desk."""
    refund = Refund.objects.select_related("payment").filter(correlation_id=correlation_id).first()
    if refund is None or refund.payment.method not in DESK_METHODS:
        return False  # a gateway's refund: nothing for the desk to hand over
    with transaction.atomic():
        # The row's own columns only: a condition through a join (payment's method) is a
        # subquery PostgreSQL does not re-check after waiting for a concurrent claim, and
        # then every click won (tests/test_refund_hand_back_race.py).
        if not Refund.objects.filter(
            pk=refund.pk, status=RefundStatus.PENDING, handed_back_by=""
        ).update(handed_back_by=actor, updated_at=timezone.now()):
            return False
        AuditLog.record(
            actor=actor,
            action="refund.handed_back",
            obj=refund,
            correlation_id=correlation_id,
            before={"status": RefundStatus.PENDING},
            after={"status": RefundStatus.REFUNDED, "handed_back_by": actor},
        )
        # In the same transaction: claimed and paid out together, or neither.
        settle_refund(correlation_id=correlation_id)
    return True


def _refund_processed(*, refund: Refund, reference: str) -> bool:
    """The money went back: refunded once, PaymentRefunded once. From pending, or from
    failed when a later attempt was processed (a processed refund is final at the gateway,
    whichever message about an earlier attempt came last)."""
    with events.saga_step("payments.refund", refund.correlation_id):
        if Refund.objects.filter(
            pk=refund.pk, status__in=(RefundStatus.PENDING, RefundStatus.FAILED)
        ).update(
            status=RefundStatus.REFUNDED,
            gateway_reference=reference,
            refunded_at=timezone.now(),
            updated_at=timezone.now(),
        ):
            events.emit(
                events.PaymentRefunded(refund_id=refund.pk, amount=refund.amount),
                correlation_id=refund.correlation_id,
            )
            return True
    return False


def _refund_failed(*, refund: Refund, reason: str, reference: str | None = None) -> bool:
    """The gateway refused the refund (or `reference`, the attempt it made, failed): staff
    see it failed. Only the attempt we know of (or one we have not heard back about yet)
    can fail it: a late failure of an earlier attempt leaves a newer one alone."""
    pending = Refund.objects.filter(pk=refund.pk, status=RefundStatus.PENDING)
    if reference is not None:
        pending = pending.filter(gateway_reference__in=(reference, ""))
    failed = pending.update(
        status=RefundStatus.FAILED,
        gateway_reference=reference or refund.gateway_reference,
        failure_reason=reason[:200],
        updated_at=timezone.now(),
    )
    if failed:
        logger.error("refund failed correlation_id=%s", refund.correlation_id)
    return bool(failed)


REFUND_KEY_PREFIX = "cancel-"  # Refund.idempotency_key's (ReversedCapture's: "reverse-")


def record_gateway_refund(*, idempotency_key: str, refund_id: str, status: str) -> str:
    """The gateway says refund `refund_id` (made with `idempotency_key`) is now `status`
    (`processed` or `failed`): its webhook or reconciliation. Acted on once, in any order:
    each change is a conditional UPDATE of our row's status, so a repeat, or a
    refund.processed heard before our refund call returned, changes nothing twice.
    Returns what became of it: "refunded", "failed", "unchanged" or "unknown"."""
    if idempotency_key.startswith(REFUND_KEY_PREFIX):
        try:
            correlation_id = UUID(idempotency_key.removeprefix(REFUND_KEY_PREFIX))
        except ValueError:
            return "unknown"
        refund = Refund.objects.filter(correlation_id=correlation_id).first()
        if refund is None:
            return "unknown"
        if status == "processed":
            changed = _refund_processed(refund=refund, reference=refund_id)
            return "refunded" if changed else "unchanged"
        if status == "failed":
            changed = _refund_failed(
                refund=refund, reason="refund.failed reported by the gateway", reference=refund_id
            )
            return "failed" if changed else "unchanged"
        return "unchanged"
    return online.record_reversal_refund(
        idempotency_key=idempotency_key, refund_id=refund_id, status=status
    )


def reconcile_pending_refunds() -> dict[str, int]:
    """The worker: ask the gateway about every refund it accepted without processing yet
    (a webhook may never come); record processed or failed ones."""
    outcomes: dict[str, int] = {}
    refund_status = getattr(get_gateway(), "refund_status", None)
    if refund_status is None:
        return outcomes  # the simulated gateway answers every refund at once
    waiting = [
        (r.idempotency_key, r.payment.gateway_reference, r.gateway_reference)
        for r in Refund.objects.filter(status=RefundStatus.PENDING)
        .exclude(gateway_reference="")
        .exclude(payment__method__in=DESK_METHODS)
        .select_related("payment")
    ] + online.reversals_awaiting_the_gateway()
    for key, payment_reference, refund_id in waiting:
        try:
            status = refund_status(payment_id=payment_reference, refund_id=refund_id)
        except Exception:
            logger.warning("refund status unanswered refund_id=%s", refund_id, exc_info=True)
            status = "unanswered"
        if status in ("processed", "failed"):
            status = record_gateway_refund(idempotency_key=key, refund_id=refund_id, status=status)
        outcomes[status] = outcomes.get(status, 0) + 1
    return outcomes


def settle_pending_refunds(*, not_touched_since: datetime) -> int:
    """Try again every refund still pending since before `not_touched_since` that the
    gateway never answered (the worker's and resume_sagas' job; one it accepted is asked
    about by reconcile_pending_refunds instead). Returns how many are refunded now."""
    stale = Refund.objects.filter(
        status=RefundStatus.PENDING, updated_at__lt=not_touched_since, gateway_reference=""
    ).exclude(payment__method__in=DESK_METHODS, handed_back_by="")  # waiting at the desk
    return sum(
        settle_refund(correlation_id=cid) == RefundStatus.REFUNDED
        for cid in stale.values_list("correlation_id", flat=True)
    )


def retry_refund(*, correlation_id: UUID, actor: str) -> str:
    """Staff ask again for a refund the gateway refused or has not answered (audited)."""
    # The failed attempt's reference is let go: the gateway is asked anew (the adapter
    # does not count a failed refund as made).
    reopened = Refund.objects.filter(
        correlation_id=correlation_id, status=RefundStatus.FAILED
    ).update(status=RefundStatus.PENDING, gateway_reference="", updated_at=timezone.now())
    if reopened:
        refund = Refund.objects.get(correlation_id=correlation_id)
        AuditLog.record(
            actor=actor,
            action="refund.retried",
            obj=refund,
            correlation_id=correlation_id,
            before={"status": RefundStatus.FAILED},
            after={"status": RefundStatus.PENDING},
        )
    return settle_refund(correlation_id=correlation_id)
