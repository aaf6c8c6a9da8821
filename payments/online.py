"""Paying online: the saga waits (shared/DESIGN.md, "Paying online: the saga waits").

The payment step creates the gateway's order (outside any transaction) and, in its step
transaction, records it, marks the booking `awaiting_payment` and logs PaymentAwaited.
Three messengers may then say the order was paid: the checkout's proof, the webhook and
the worker's reconciliation. All three end in `record_capture`, which keeps the first
capture of the order's amount (PaymentCompleted, once: a conditional UPDATE of the
booking row settles every race) and refunds in full at once any other capture: one for
a booking no longer waiting, a second one of the order, one of another amount
(PaymentReversed). An order unpaid at `expires_at` is looked up at the gateway first;
only with no capture there does the booking fail (`payment_expired`).

No lock is held during a gateway call.
"""

import logging
from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import urlsplit
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError
from django.db.models import F, Q
from django.utils import timezone

from bookings import events
from bookings.models import AuditLog, Booking, BookingStatus, PatientProfile
from payments.gateway import RefundDeclined, RefundPending, get_gateway
from payments.models import (
    ONE_REVERSAL_PER_CAPTURE,
    Payment,
    PaymentMethod,
    PaymentStatus,
    RefundStatus,
    ReversalReason,
    ReversedCapture,
)

logger = logging.getLogger("payments")

PAYMENT_EXPIRED = "payment_expired"
GATEWAY_UNAVAILABLE = "gateway_unavailable"


class OnlinePaymentUnavailable(Exception):
    """PAYMENT_GATEWAY names no online gateway (the simulated one takes card tokens)."""


def online_gateway():
    gateway = get_gateway()
    if not getattr(gateway, "online", False):
        raise OnlinePaymentUnavailable("PAYMENT_GATEWAY is not an online gateway")
    return gateway


def online_payment_available() -> bool:
    return bool(getattr(get_gateway(), "online", False))


# --- the saga's step -------------------------------------------------------------------


def await_payment(
    *, correlation_id: UUID, booking_id: str, amount: Decimal, by_link: bool = False
) -> None:
    """Create the order for the settled price, then record it and wait (PaymentAwaited).

    Called by charge_booking once the price is final and `expected_total` was checked.
    Delivered again (recovery), the recorded order stands; a crash between the gateway's
    order and our record leaves an order nobody was shown, which is never paid.
    `by_link`: the front desk's booking: a payment link texted to the patient's phone (and
    shown as a QR code at the desk) instead of an order for the checkout.
    """
    if Payment.objects.filter(correlation_id=correlation_id).exists():
        return
    expires_at = timezone.now() + timedelta(minutes=settings.PAYMENT_HOLD_MINUTES)
    try:
        if by_link:
            link = _create_link(
                correlation_id=correlation_id,
                booking_id=booking_id,
                amount=amount,
                expires_at=expires_at,
            )
            recorded = {"payment_link_id": link.link_id, "payment_link_url": link.url}
            gateway_id = link.link_id
        else:
            order = online_gateway().create_order(
                amount=amount, booking_id=booking_id, correlation_id=str(correlation_id)
            )
            recorded = {"order_id": order.order_id}
            gateway_id = order.order_id
    except Exception:
        logger.warning("gateway order not made correlation_id=%s", correlation_id, exc_info=True)
        _fail_unpaid(correlation_id=correlation_id, reason=GATEWAY_UNAVAILABLE, waiting=False)
        return
    try:
        with events.saga_step("payments.await", correlation_id):
            # The booking row first (the order every step keeps), only while it is not
            # being undone: a compensation that started meanwhile wins.
            if not Booking.objects.filter(
                pk=booking_id, status=BookingStatus.PENDING, compensating=False
            ).update(status=BookingStatus.AWAITING_PAYMENT, updated_at=timezone.now()):
                raise events.StepAbandoned
            payment = Payment.objects.create(
                booking_id=booking_id,
                correlation_id=correlation_id,
                amount=amount,
                method=PaymentMethod.ONLINE,
                expires_at=expires_at,
                **recorded,
            )
            events.emit(
                events.PaymentAwaited(
                    payment_id=payment.pk,
                    order_id=gateway_id,
                    amount=amount,
                    expires_at=expires_at,
                ),
                correlation_id=correlation_id,
            )
    except IntegrityError:  # a second delivery recorded its own order first
        logger.info("online payment already recorded correlation_id=%s", correlation_id)


# Razorpay refuses a payment link that expires sooner than this.
LINK_MINIMUM_LIFE = timedelta(minutes=16)


def _create_link(*, correlation_id: UUID, booking_id: str, amount: Decimal, expires_at):
    booking = Booking.objects.only("patient_name", "user_id").get(pk=booking_id)
    phone = (
        PatientProfile.objects.filter(user_id=booking.user_id)
        .values_list("phone", flat=True)
        .first()
    )
    # The link may outlive the hold by a minute (Razorpay's minimum): a payment after the
    # hold is a capture for a booking no longer waiting, refunded in full at once.
    expire_by = max(expires_at, timezone.now() + LINK_MINIMUM_LIFE)
    return online_gateway().create_payment_link(
        amount=amount,
        booking_id=booking_id,
        correlation_id=str(correlation_id),
        phone=str(phone or ""),
        patient_name=booking.patient_name,
        expire_by=int(expire_by.timestamp()),
    )


def _fail_unpaid(*, correlation_id: UUID, reason: str, waiting: bool) -> bool:
    """PaymentFailed and compensation, for a booking pending (no order could be made) or
    awaiting payment (expired). One conditional UPDATE on the booking row: a capture
    recorded first (awaiting → pending) makes it change nothing, and vice versa."""
    status = BookingStatus.AWAITING_PAYMENT if waiting else BookingStatus.PENDING
    with events.saga_step("payments.expire", correlation_id):
        if not Booking.objects.filter(
            correlation_id=correlation_id, status=status, compensating=False
        ).update(compensating=True, updated_at=timezone.now()):
            return False
        events.emit(events.PaymentFailed(reason=reason), correlation_id=correlation_id)
        events.emit(
            events.CompensationTriggered(reason=reason, failed_step="payments"),
            correlation_id=correlation_id,
        )
        return True
    return False  # the step was a repeat


# --- the one ending of the three messengers ---------------------------------------------


def record_capture(
    *,
    order_id: str | None = None,
    payment_link_id: str | None = None,
    gateway_payment_id: str,
    amount: Decimal,
    currency: str = "INR",
    instrument: str = "",
) -> str:
    """A capture on one of our orders (or the desk's payment links), whoever reports it.
    Returns what became of it: "captured" (kept: PaymentCompleted), "already" (this
    capture was kept before), "reversed" (refunded in full), or "unknown_order" (not an
    order or link of ours)."""
    ours = Q(order_id=order_id) if order_id else Q(payment_link_id=payment_link_id)
    if not (order_id or payment_link_id):
        return "unknown_order"
    payment = (
        Payment.objects.filter(ours, method=PaymentMethod.ONLINE)
        .select_related("booking")
        .only(
            "pk",
            "amount",
            "currency",
            "correlation_id",
            "booking__id",
            "booking__appointment_start",
        )
        .first()
    )
    if payment is None:
        logger.warning("capture for an unknown order order_id=%s", order_id or payment_link_id)
        return "unknown_order"
    correlation_id = payment.correlation_id
    right_amount = amount == payment.amount and currency == payment.currency
    kept = False
    if right_amount:
        with events.saga_step("payments.capture", correlation_id):
            # The booking row decides (locked first): still waiting and not being undone.
            # Of a proof, a webhook and reconciliation racing, one changes it; an expiry
            # (the mirror UPDATE, compensating) and a capture exclude each other.
            if Booking.objects.filter(
                pk=payment.booking.pk,
                status=BookingStatus.AWAITING_PAYMENT,
                compensating=False,
            ).update(status=BookingStatus.PENDING, updated_at=timezone.now()):
                Payment.objects.filter(pk=payment.pk, status=PaymentStatus.PENDING).update(
                    status=PaymentStatus.CAPTURED,
                    gateway_reference=gateway_payment_id,
                    instrument=instrument[:12],
                    updated_at=timezone.now(),
                )
                start = payment.booking.appointment_start
                events.emit(
                    events.PaymentCompleted(
                        payment_id=payment.pk,
                        amount=payment.amount,
                        method=PaymentMethod.ONLINE,
                        booking_id=payment.booking.pk,
                        appointment_start=start,
                        instrument=instrument[:12],
                    ),
                    correlation_id=correlation_id,
                )
                kept = True
    if kept:
        return "captured"
    current = Payment.objects.only("status", "gateway_reference").get(pk=payment.pk)
    if current.status == PaymentStatus.CAPTURED and current.gateway_reference == gateway_payment_id:
        return "already"
    if not right_amount:
        reason = ReversalReason.WRONG_AMOUNT
    elif current.status == PaymentStatus.CAPTURED:
        reason = ReversalReason.SECOND_CAPTURE
    else:
        reason = ReversalReason.NOT_WAITING
    reverse_capture(
        payment=payment, gateway_payment_id=gateway_payment_id, amount=amount, reason=reason
    )
    return "reversed"


def reverse_capture(
    *, payment: Payment, gateway_payment_id: str, amount: Decimal, reason: str
) -> None:
    """Record a capture the booking does not keep (once per gateway payment), then refund
    it in full."""
    correlation_id = payment.correlation_id
    with events.saga_step(
        "payments.reverse_capture", correlation_id, once_per_saga=(ONE_REVERSAL_PER_CAPTURE,)
    ):
        # Lock the booking row: reversals of one saga are numbered one at a time (the
        # number is PaymentReversed's occurrence), and the booking row is always the
        # first row a step locks.
        Booking.objects.select_for_update().filter(pk=payment.booking_id).values("pk").first()
        number = ReversedCapture.objects.filter(correlation_id=correlation_id).count() + 1
        ReversedCapture.objects.create(
            payment_id=payment.pk,
            correlation_id=correlation_id,
            gateway_payment_id=gateway_payment_id,
            amount=amount,
            reason=reason,
            occurrence=number,
        )
    logger.warning(
        "capture not kept, refunding reason=%s correlation_id=%s", reason, correlation_id
    )
    settle_reversal(gateway_payment_id=gateway_payment_id)


def settle_reversal(*, gateway_payment_id: str) -> str:
    """Refund a reversed capture at the gateway (the adapter lists the payment's refunds
    first, so a retry never refunds twice) and log PaymentReversed once the gateway has
    processed it. Returns the status."""
    reversal = ReversedCapture.objects.get(gateway_payment_id=gateway_payment_id)
    if reversal.status != RefundStatus.PENDING:
        return reversal.status
    try:
        reference = get_gateway().refund(
            reference=gateway_payment_id,
            amount=reversal.amount,
            idempotency_key=f"{REVERSAL_KEY_PREFIX}{gateway_payment_id}",
        )
    except RefundPending as accepted:  # its webhook or reconciliation settles it
        ReversedCapture.objects.filter(pk=reversal.pk, status=RefundStatus.PENDING).update(
            refund_reference=accepted.reference
        )
        return RefundStatus.PENDING
    except RefundDeclined:
        ReversedCapture.objects.filter(pk=reversal.pk, status=RefundStatus.PENDING).update(
            status=RefundStatus.FAILED
        )
        logger.error("reversal refund declined gateway_payment_id=%s", gateway_payment_id)
        return RefundStatus.FAILED
    except Exception:
        logger.warning("reversal refund not answered gateway_payment_id=%s", gateway_payment_id)
        return RefundStatus.PENDING
    _reversal_processed(reversal=reversal, reference=reference)
    return RefundStatus.REFUNDED


REVERSAL_KEY_PREFIX = "reverse-"


def _reversal_processed(*, reversal: ReversedCapture, reference: str) -> bool:
    with events.saga_step("payments.reversed", reversal.correlation_id):
        if ReversedCapture.objects.filter(
            pk=reversal.pk, status__in=(RefundStatus.PENDING, RefundStatus.FAILED)
        ).update(
            status=RefundStatus.REFUNDED, refund_reference=reference, refunded_at=timezone.now()
        ):
            events.emit(
                events.PaymentReversed(payment_id=reversal.payment_id, amount=reversal.amount),
                correlation_id=reversal.correlation_id,
                occurrence=reversal.occurrence,
            )
            return True
    return False


def record_reversal_refund(*, idempotency_key: str, refund_id: str, status: str) -> str:
    """A reversal's refund processed or failed at the gateway (payments.services'
    record_gateway_refund, for keys of reversals). Same answers as that."""
    if not idempotency_key.startswith(REVERSAL_KEY_PREFIX):
        return "unknown"
    reversal = ReversedCapture.objects.filter(
        gateway_payment_id=idempotency_key.removeprefix(REVERSAL_KEY_PREFIX)
    ).first()
    if reversal is None:
        return "unknown"
    if status == "processed":
        changed = _reversal_processed(reversal=reversal, reference=refund_id)
        return "refunded" if changed else "unchanged"
    if status == "failed" and ReversedCapture.objects.filter(
        pk=reversal.pk, status=RefundStatus.PENDING, refund_reference__in=(refund_id, "")
    ).update(status=RefundStatus.FAILED, refund_reference=refund_id):
        logger.error("reversal refund failed gateway_payment_id=%s", reversal.gateway_payment_id)
        return "failed"
    return "unchanged"


def retry_reversal(*, gateway_payment_id: str, actor: str) -> str:
    """Staff ask again for a reversal's refund the gateway failed (audited): the failed
    attempt is let go and a new refund made (the adapter does not count a failed one)."""
    reopened = ReversedCapture.objects.filter(
        gateway_payment_id=gateway_payment_id, status=RefundStatus.FAILED
    ).update(status=RefundStatus.PENDING, refund_reference="")
    if reopened:
        reversal = ReversedCapture.objects.get(gateway_payment_id=gateway_payment_id)
        AuditLog.record(
            actor=actor,
            action="reversal.retried",
            obj=reversal,
            correlation_id=reversal.correlation_id,
            before={"status": RefundStatus.FAILED},
            after={"status": RefundStatus.PENDING},
        )
    return settle_reversal(gateway_payment_id=gateway_payment_id)


def reversals_awaiting_the_gateway() -> list[tuple[str, str, str]]:
    """(idempotency key, gateway payment id, refund id) of reversals whose refund the
    gateway accepted and has not processed yet: reconciliation asks about them."""
    return [
        (f"{REVERSAL_KEY_PREFIX}{pay_id}", pay_id, refund_id)
        for pay_id, refund_id in ReversedCapture.objects.filter(status=RefundStatus.PENDING)
        .exclude(refund_reference="")
        .values_list("gateway_payment_id", "refund_reference")
    ]


# --- reconciliation (the worker) --------------------------------------------------------


def reconcile_payment(*, payment_id: int, now: datetime) -> str:
    """Ask the gateway about one waiting order: record any capture; fail the booking
    (`payment_expired`) only when it is past `expires_at` with nothing captured."""
    payment = Payment.objects.only(
        "order_id", "payment_link_id", "expires_at", "correlation_id", "status"
    ).get(pk=payment_id)
    if payment.status != PaymentStatus.PENDING:
        return "settled"
    # A waiting online payment has its gateway order (or the desk's link) and its expiry.
    assert (payment.order_id or payment.payment_link_id) and payment.expires_at is not None
    try:
        if payment.payment_link_id:
            found = online_gateway().payments_of_link(link_id=payment.payment_link_id)
        else:
            found = online_gateway().payments_of(order_id=payment.order_id)
    except Exception:
        logger.warning("reconciliation unanswered payment_id=%s", payment_id, exc_info=True)
        return "unanswered"
    captured = [p for p in found if p.captured]
    for capture in captured:
        record_capture(
            order_id=payment.order_id,
            payment_link_id=payment.payment_link_id,
            gateway_payment_id=capture.payment_id,
            amount=capture.amount,
            currency=capture.currency,
            instrument=capture.instrument,
        )
    if captured:
        return "captured"
    if payment.expires_at > now:
        return "waiting"
    expired = _fail_unpaid(
        correlation_id=payment.correlation_id, reason=PAYMENT_EXPIRED, waiting=True
    )
    return "expired" if expired else "settled"


def reconcile_waiting_payments(*, now: datetime, ahead: timedelta = timedelta(minutes=1)) -> dict:
    """The worker's job: every online order at or near its expiry, asked about once; and
    any reversal whose refund the gateway has not answered yet, asked again (one it
    accepted is asked about by payments.services.reconcile_pending_refunds)."""
    due = Payment.objects.filter(
        method=PaymentMethod.ONLINE, status=PaymentStatus.PENDING, expires_at__lte=now + ahead
    ).values_list("pk", flat=True)
    outcomes: dict[str, int] = {}
    for pk in due:
        outcome = reconcile_payment(payment_id=pk, now=now)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    for gateway_payment_id in ReversedCapture.objects.filter(
        status=RefundStatus.PENDING, refund_reference=""
    ).values_list("gateway_payment_id", flat=True):
        settle_reversal(gateway_payment_id=gateway_payment_id)
    return outcomes


# --- what the edges read ------------------------------------------------------------


def online_order_of(*, booking_id: UUID) -> dict | None:
    """The checkout's parameters of a booking's online order (shared/API.md), or None."""
    payment = (
        # A desk payment link has no checkout order: the patient pays on the link.
        Payment.objects.filter(
            booking_id=booking_id, method=PaymentMethod.ONLINE, order_id__isnull=False
        )
        .only("order_id", "amount", "currency", "expires_at")
        .first()
    )
    if payment is None:
        return None
    return {
        "gateway": "razorpay",
        "order_id": payment.order_id,
        "key_id": settings.RAZORPAY_KEY_ID,
        "amount": payment.amount,
        "amount_paise": int(payment.amount * 100),
        "currency": payment.currency,
        "expires_at": payment.expires_at,
    }


def desk_payment_link_of(*, booking_id: UUID) -> dict | None:
    """The front desk's payment link of a booking (url, amount, expiry), or None."""
    found = (
        Payment.objects.filter(booking_id=booking_id, payment_link_id__isnull=False)
        .values("pk", "payment_link_id", "amount", "expires_at", "status")
        .annotate(url=F("payment_link_url"))
        .first()
    )
    return dict(found) if found else None


def ask_gateway_now(*, booking_id: UUID) -> str:
    """The desk asks whether the link was paid (before reconciliation's own turn): any
    capture is recorded as the webhook would. Returns reconcile_payment's answer."""
    payment_id = (
        Payment.objects.filter(booking_id=booking_id, method=PaymentMethod.ONLINE)
        .values_list("pk", flat=True)
        .first()
    )
    if payment_id is None:
        return "settled"
    return reconcile_payment(payment_id=payment_id, now=timezone.now())


def accept_checkout_proof(
    *, booking_id: UUID, order_id: str, payment_id: str, signature: str
) -> str:
    """The checkout's proof for this booking: "bad_signature" when it does not verify
    against the order the booking stored (nothing changes); otherwise the capture is
    asked of the gateway and recorded (see record_capture for the answers), or left to
    the webhook and reconciliation when the gateway does not answer ("unanswered") or
    the payment is not captured yet (its gateway status)."""
    stored = (
        Payment.objects.filter(booking_id=booking_id, method=PaymentMethod.ONLINE)
        .values_list("order_id", flat=True)
        .first()
    )
    if stored is None or order_id != stored:
        return "bad_signature"
    try:
        gateway = online_gateway()
    except OnlinePaymentUnavailable:
        return "unanswered"
    if not gateway.checkout_proof_holds(
        order_id=stored, payment_id=payment_id, signature=signature
    ):
        return "bad_signature"
    try:
        found = gateway.fetch_payment(payment_id=payment_id)
    except Exception:
        logger.warning("payment not fetched payment_id=%s", payment_id, exc_info=True)
        return "unanswered"
    if found.order_id != stored:
        return "bad_signature"
    if not found.captured:
        return found.status
    return record_capture(
        order_id=stored,
        gateway_payment_id=payment_id,
        amount=found.amount,
        currency=found.currency,
        instrument=found.instrument,
    )


def checkout_script_url() -> str:
    """The gateway's checkout.js (Razorpay's, or the stand-in's under `make run`)."""
    return settings.RAZORPAY_CHECKOUT_JS_URL


def hosted_checkout_url() -> str:
    """Razorpay's hosted checkout: a form POSTed here (key_id, order_id, callback_url,
    cancel_url) opens the payment page without JavaScript; it POSTs the proof back."""
    return settings.RAZORPAY_API_BASE_URL.rstrip("/") + "/v1/checkout/embedded"


def checkout_origins() -> dict[str, list[str]]:
    """The Content-Security-Policy additions of a page that opens the checkout: exactly
    the gateway's origins, from settings (its script; its frames; the hosted page's form)."""
    script = _origin(checkout_script_url())
    api = _origin(settings.RAZORPAY_API_BASE_URL)
    return {
        "script-src": [script],
        "frame-src": sorted({script, api}),
        "form-action": [api],
    }


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
