"""The saga's event catalog, and `emit`: the one way an event travels.

The catalog below is the whole flow, and also its wiring: each app's `ready()`
calls `listen(app_label, receivers)`, which connects that app's `on_<event>`
function for every event whose `heard_by` names the app. Receivers are called in
the order their apps start (INSTALLED_APPS); a wiring test holds the live
receivers, and their order, to `heard_by`, so this table cannot drift from what runs.

Happy path: BookingRequested → PricingCalculated → DiscountQuotaReserved →
PaymentCompleted → BookingConfirmed. Any failure after that starts ends with
CompensationTriggered → (SlotReleased) → (DiscountQuotaReleased) → (PaymentReversed) →
BookingFailed. (The slot itself is taken with the request, in BookingRequested's
transaction: a full slot means no booking and no saga.)
A cancellation of a confirmed booking has the same shape: CancellationRequested →
(SlotReleased) → (DiscountQuotaReleased, only on the clinic day it was granted) →
(PaymentRefunded) → BookingCancelled.
A reschedule is one step of scheduling's (the new slot taken, the old one given back,
in one transaction): BookingRescheduled, logged once per move (its `occurrence`).

`emit` appends the SagaEvent row inside the caller's transaction and sends the
signal only after that transaction commits, so the log is durable before anyone
acts on it. Receivers get `correlation_id` and the payload as keyword arguments.
Payloads carry what the next steps need, so no receiver re-reads the booking; the edge
that started a saga answers from the payloads too (`collect_delivered`).
"""

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from types import ModuleType
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.dispatch import Signal
from django.utils import timezone

from bookings.log_context import saga_log_context
from bookings.models import Booking, BookingStatus, SagaEvent

logger = logging.getLogger("saga")


@dataclass(frozen=True)
class Event:
    name: str
    emitted_by: str
    payload: tuple[str, ...]  # besides correlation_id, which every event carries
    heard_by: tuple[str, ...]  # app labels whose receivers listen, in call order
    signal: Signal = field(default_factory=Signal, compare=False)

    @property
    def receiver_name(self) -> str:
        """The function each listening app's receivers module defines: on_<event>."""
        return "on_" + re.sub(r"(?<!^)(?=[A-Z])", "_", self.name).lower()


# The flow, in order. Every payload also carries correlation_id.
BookingRequested = Event(
    "BookingRequested",
    emitted_by="bookings",
    # What R1 needs: the day, the patient and the snapshot's prices (no re-read).
    payload=("booking_id", "clinic_day", "gender", "date_of_birth", "prices"),
    heard_by=("pricing",),
)
PricingCalculated = Event(
    "PricingCalculated",
    emitted_by="pricing",
    payload=(
        "booking_id",
        "clinic_day",
        "base_price",
        "discount_eligible",
        "eligibility_reason",
        "discount_percent",
    ),
    heard_by=("quotas",),
)
DiscountQuotaReserved = Event(
    "DiscountQuotaReserved",
    emitted_by="quotas",
    payload=("discount_applied", "quota_exhausted", "discount_amount", "final_price"),
    heard_by=("payments",),
)
PaymentCompleted = Event(
    "PaymentCompleted",
    emitted_by="payments",
    # booking_id and appointment_start travel on to the notifications step.
    payload=("payment_id", "amount", "method", "booking_id", "appointment_start"),
    # billing after confirmations: it issues a receipt only for a confirmed booking.
    heard_by=("confirmations", "billing"),
)
PaymentFailed = Event(
    "PaymentFailed",
    emitted_by="payments",
    payload=("reason",),
    heard_by=(),
)
CompensationTriggered = Event(
    "CompensationTriggered",
    emitted_by="the failed step",
    payload=("reason", "failed_step"),
    # Each participant undoes its own part, in INSTALLED_APPS order; bookings last.
    heard_by=("scheduling", "quotas", "payments", "bookings"),
)
SlotReleased = Event(
    "SlotReleased",
    emitted_by="scheduling",
    payload=("slot_id",),
    heard_by=(),
)
DiscountQuotaReleased = Event(
    "DiscountQuotaReleased",
    emitted_by="quotas",
    payload=("quota_day",),
    heard_by=(),
)
PaymentReversed = Event(
    "PaymentReversed",
    emitted_by="payments",
    payload=("payment_id", "amount"),
    heard_by=(),
)
BookingConfirmed = Event(
    "BookingConfirmed",
    emitted_by="confirmations",
    payload=("confirmation_code", "booking_id", "appointment_start"),
    heard_by=("notifications",),
)
BookingFailed = Event(
    "BookingFailed",
    emitted_by="bookings",
    payload=("reason",),
    heard_by=(),
)
# A cancellation: the same shape as a compensation, on a confirmed booking.
CancellationRequested = Event(
    "CancellationRequested",
    emitted_by="bookings",
    payload=("actor", "reason", "by_staff", "refund_amount", "fee", "requested_on"),
    heard_by=("scheduling", "quotas", "payments", "bookings"),
)
PaymentRefunded = Event(
    "PaymentRefunded",
    emitted_by="payments",
    payload=("refund_id", "amount"),
    heard_by=("billing",),
)
# A receipt (bill of supply, tax invoice) for a payment, or a refund note for a refund:
# occurrence 1 is the payment's document, 2 the refund's note.
ReceiptIssued = Event(
    "ReceiptIssued",
    emitted_by="billing",
    payload=("number", "kind", "issued_at", "amount", "booking_id"),
    heard_by=(),
)
BookingCancelled = Event(
    "BookingCancelled",
    emitted_by="bookings",
    payload=("reason", "refund_amount"),
    heard_by=("notifications",),
)

# One step of scheduling's; may happen again (logged with the move's number as occurrence).
BookingRescheduled = Event(
    "BookingRescheduled",
    emitted_by="scheduling",
    payload=(
        "actor",
        "number",
        "from_slot_id",
        "to_slot_id",
        "appointment_start",
        "appointment_end",
    ),
    heard_by=("notifications",),
)

CATALOG: dict[str, Event] = {
    e.name: e
    for e in (
        BookingRequested,
        PricingCalculated,
        DiscountQuotaReserved,
        PaymentCompleted,
        PaymentFailed,
        CompensationTriggered,
        SlotReleased,
        DiscountQuotaReleased,
        PaymentReversed,
        BookingConfirmed,
        BookingFailed,
        CancellationRequested,
        PaymentRefunded,
        ReceiptIssued,
        BookingCancelled,
        BookingRescheduled,
    )
}


def listen(app_label: str, receivers: ModuleType) -> None:
    """Connect `app_label`'s receivers to the events the catalog says it hears.

    Called from the app's `ready()`; a missing `on_<event>` function fails start-up.
    """
    for event in CATALOG.values():
        if app_label in event.heard_by:
            receiver = getattr(receivers, event.receiver_name)
            event.signal.connect(receiver, dispatch_uid=f"{app_label}.{event.receiver_name}")


DUPLICATE_EVENT_CONSTRAINT = "saga_event_once_per_saga"


class ReceiverCrashed(Exception):
    """Re-raised (in tests) after a crashing receiver has been compensated."""


class StepAbandoned(Exception):
    """Raised inside a saga_step whose saga is being undone: the step is rolled back
    and skipped (a forward step must not take effect once compensation started)."""


def emit(event: Event, *, correlation_id: UUID, occurrence: int = 1, **payload: Any) -> None:
    """Log `event` in the current transaction; send its signal once that commits.

    Must run inside `saga_step`: a second emission of the same event (and occurrence)
    for the same saga violates a unique constraint, which rolls back the whole step, so
    a step delivered twice changes nothing. An event that may rightly happen again
    passes its number as `occurrence`.
    """
    if set(payload) != set(event.payload):  # the catalog is the payload's contract
        raise TypeError(f"{event.name} carries {sorted(event.payload)}, not {sorted(payload)}")
    # No savepoint of its own: a duplicate breaks the caller's transaction, and
    # saga_step turns that into "already done" once the transaction is rolled back.
    _append(event, correlation_id, payload, occurrence=occurrence)
    logger.info(
        "saga event=%s correlation_id=%s",
        event.name,
        correlation_id,
        extra={"event": event.name, "correlation_id": str(correlation_id)},
    )

    # A named function, not a functools.partial: Django's on_commit names a failing
    # callback by its __qualname__ in the log, and a partial has none.
    def deliver_after_commit() -> None:
        deliver(event, correlation_id, payload)

    transaction.on_commit(deliver_after_commit)


SEQUENCE_ATTEMPTS = 20


def _append(
    event: Event, correlation_id: UUID, payload: dict[str, Any], *, occurrence: int
) -> None:
    """INSERT the event with the saga's next sequence number, computed in the INSERT.

    Two steps of one saga may log at the same instant (a confirmation racing a
    compensation): both compute the same MAX + 1. `ON CONFLICT (correlation_id,
    sequence) DO NOTHING` makes the second wait for the first and insert nothing, without
    breaking its transaction; it then takes the next number. Any other conflict (the
    same event twice: a step done before) still raises, as saga_step expects.
    Plain SQL because every event pays for it (one statement, no read first).
    """
    meta = SagaEvent._meta
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    cid, kind, nth, seq, body, at = (
        quote(meta.get_field(name).column)
        for name in (
            "correlation_id",
            "event_type",
            "occurrence",
            "sequence",
            "payload",
            "created_at",
        )
    )
    key = meta.get_field("correlation_id").get_db_prep_value(correlation_id, connection)
    params = (
        key,
        event.name,
        occurrence,
        meta.get_field("payload").get_db_prep_value(payload, connection),
        meta.get_field("created_at").get_db_prep_value(timezone.now(), connection),
        key,
    )
    sql = (
        f"INSERT INTO {table} ({cid}, {kind}, {nth}, {seq}, {body}, {at}) "
        f"SELECT %s, %s, %s, COALESCE(MAX({seq}), 0) + 1, %s, %s FROM {table} WHERE {cid} = %s "
        f"ON CONFLICT ({cid}, {seq}) DO NOTHING"
    )
    with connection.cursor() as cursor:
        for _attempt in range(SEQUENCE_ATTEMPTS):
            cursor.execute(sql, params)
            if cursor.rowcount == 1:
                return
    raise RuntimeError(f"no free sequence number for {event.name} of saga {correlation_id}")


@contextmanager
def saga_step(
    name: str, correlation_id: UUID, *, once_per_saga: tuple[str, ...] = ()
) -> Iterator[None]:
    """One step: its state change and its event in one short transaction.

    A step that was done before trips a unique constraint, the event log's or one of
    the step's own rows (`once_per_saga`); it is rolled back and skipped quietly.
    """
    # Every log line of the step (its event's included) carries the step and saga ids.
    with saga_log_context(step=name, correlation_id=correlation_id):
        try:
            with transaction.atomic():
                yield
        except StepAbandoned:
            logger.info("saga step=%s abandoned correlation_id=%s", name, correlation_id)
        except IntegrityError as error:
            if not _is_repeat(error, (DUPLICATE_EVENT_CONSTRAINT, *once_per_saga)):
                raise
            logger.info("saga step=%s already done correlation_id=%s", name, correlation_id)


def _is_repeat(error: IntegrityError, constraints: tuple[str, ...]) -> bool:
    diag = getattr(error.__cause__, "diag", None)
    if diag is not None and diag.constraint_name:  # PostgreSQL names the constraint
        return diag.constraint_name in constraints
    # SQLite (the embedded default for trying the app) names columns instead.
    message = str(error)
    return "UNIQUE constraint failed" in message and ".correlation_id" in message


_watching = threading.local()


@contextmanager
def collect_delivered() -> Iterator[dict[UUID, dict[str, dict[str, Any]]]]:
    """Collect what this thread delivers while inside: saga → event name → payload.

    The edge that starts a saga answers from these (see `apply_delivered`) instead of
    re-reading the rows its steps just wrote: the payloads are what those steps committed.
    """
    seen: dict[UUID, dict[str, dict[str, Any]]] = {}
    outer = getattr(_watching, "seen", None)
    _watching.seen = seen
    try:
        yield seen
    finally:
        _watching.seen = outer


def apply_delivered(booking: Booking, delivered: dict[str, dict[str, Any]]) -> bool:
    """Bring the in-memory `booking` up to what its delivered events say; True when they
    include its end (confirmed, failed or cancelled): the fields a saga changes are then as
    the database has them."""
    priced = delivered.get(PricingCalculated.name)
    if priced:
        booking.base_price = Decimal(priced["base_price"])
        booking.discount_eligible = priced["discount_eligible"]
        booking.eligibility_reason = priced["eligibility_reason"]
        booking.discount_percent = Decimal(priced["discount_percent"])
    reserved = delivered.get(DiscountQuotaReserved.name)
    if reserved:
        booking.discount_applied = reserved["discount_applied"]
        booking.quota_exhausted = reserved["quota_exhausted"]
        booking.discount_amount = Decimal(reserved["discount_amount"])
        booking.final_price = Decimal(reserved["final_price"])
    if CompensationTriggered.name in delivered:
        booking.compensating = True
    if BookingFailed.name in delivered:
        booking.delivered_receipts = []  # a booking that never confirmed gets no document
    elif (receipt := delivered.get(ReceiptIssued.name)) and PaymentCompleted.name in delivered:
        # The whole saga ran here: its one document so far is this receipt.
        booking.delivered_receipts = [receipt]
    if confirmed := delivered.get(BookingConfirmed.name):
        booking.status = BookingStatus.CONFIRMED
        booking.confirmation_code = confirmed["confirmation_code"]
        return True
    if failed := delivered.get(BookingFailed.name):
        booking.status = BookingStatus.FAILED
        booking.failure_reason = failed["reason"][:200]
        return True
    if BookingCancelled.name in delivered:
        booking.status = BookingStatus.CANCELLED
        return True
    return False


def deliver(event: Event, correlation_id: UUID, payload: dict[str, Any]) -> None:
    """Send the signal. A receiver that raises is tried once more; if it raises again,
    its step has failed: compensate it."""
    seen = getattr(_watching, "seen", None)
    if seen is not None:
        seen.setdefault(correlation_id, {})[event.name] = payload
    responses = event.signal.send_robust(
        sender=event.name, correlation_id=correlation_id, **payload
    )
    for receiver, outcome in responses:
        if isinstance(outcome, Exception) and not isinstance(outcome, ReceiverCrashed):
            outcome = _call_again(receiver, event, correlation_id, payload, outcome)
        if not isinstance(outcome, Exception) or isinstance(outcome, ReceiverCrashed):
            if isinstance(outcome, ReceiverCrashed) and settings.SAGA_RERAISE_RECEIVER_ERRORS:
                raise outcome
            continue
        failed_step = receiver.__module__.split(".")[0]
        logger.error(
            "saga receiver crashed event=%s step=%s correlation_id=%s",
            event.name,
            failed_step,
            correlation_id,
            exc_info=outcome,
            extra={"event": event.name, "step": failed_step},
        )
        trigger_compensation(
            correlation_id=correlation_id,
            reason=f"internal_error in {failed_step}",
            failed_step=failed_step,
        )
        if settings.SAGA_RERAISE_RECEIVER_ERRORS:
            raise ReceiverCrashed(f"{failed_step} crashed on {event.name}") from outcome


def _call_again(
    receiver: Any, event: Event, correlation_id: UUID, payload: dict[str, Any], error: Exception
) -> Exception | None:
    """One more try, on a new database connection if the receiver's one died.

    Receivers are idempotent, so this is safe; it keeps a dropped connection from
    failing a patient's booking, and a compensation receiver's blip from leaving a
    failed booking holding a discount or money until recovery runs.
    """
    logger.warning(
        "saga receiver raised, trying once more event=%s receiver=%s correlation_id=%s",
        event.name,
        receiver.__module__,
        correlation_id,
        exc_info=error,
        extra={"event": event.name},
    )
    if not connection.in_atomic_block:  # never inside a caller's transaction
        connection.close_if_unusable_or_obsolete()
    try:
        receiver(signal=event.signal, sender=event.name, correlation_id=correlation_id, **payload)
    except Exception as again:
        return again
    return None


def mark_compensating(correlation_id: UUID) -> bool:
    """Move a pending booking into compensation; False if it is confirmed, failed or
    already being undone (then there is nothing for this caller to start).

    One conditional UPDATE of the booking row, in the caller's step transaction, which
    must then log CompensationTriggered. Confirmation is the mirror UPDATE (`pending and
    not compensating`): the row lock orders the two, and whichever commits second
    changes no row. Call it before the step logs any event, so that the booking row is
    always locked before an event row (no deadlock between two steps of one saga).
    """
    return bool(
        Booking.objects.filter(
            correlation_id=correlation_id, status=BookingStatus.PENDING, compensating=False
        ).update(compensating=True, updated_at=timezone.now())
    )


def trigger_compensation(*, correlation_id: UUID, reason: str, failed_step: str) -> bool:
    """Ask every participant to undo its own work for this saga (once per saga).

    Nothing happens when the booking has ended (a confirmed booking is never undone)
    or is already being undone. Returns whether this call started the compensation.
    """
    started = False
    with saga_step("compensation", correlation_id):
        if not mark_compensating(correlation_id):
            logger.info(
                "saga compensation not started: booking ended or already undoing correlation_id=%s",
                correlation_id,
            )
            return False
        emit(
            CompensationTriggered,
            correlation_id=correlation_id,
            reason=reason,
            failed_step=failed_step,
        )
        started = True
    return started


def replay(event_row: SagaEvent) -> None:
    """Send a logged event's signal again (receivers are idempotent): resumes a stuck saga."""
    deliver(CATALOG[event_row.event_type], event_row.correlation_id, dict(event_row.payload))
