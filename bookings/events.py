"""The saga's event catalog, and `emit`: the one way an event travels.

Each event is a frozen dataclass (its payload, with `Decimal`, `date`, `UUID` fields)
and a `Route` in the catalog below: who emits it and which apps hear it, in order.
Each app's `ready()` connects its receivers explicitly (`connect(Event, on_event)`), so
a search for a receiver finds its wiring; a wiring test holds the live receivers, and
their order, to `heard_by`, so this table cannot drift from what runs.

Happy path: BookingRequested → PricingCalculated → DiscountQuotaReserved →
PaymentCompleted → BookingConfirmed. Paying online, the saga waits in between:
DiscountQuotaReserved → PaymentAwaited → (the order paid) PaymentCompleted, or (expired
unpaid) PaymentFailed → CompensationTriggered. Any failure after that starts ends with
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
acts on it. Receivers get the event object and the saga's `correlation_id`.
Payloads carry what the next steps need, so no receiver re-reads the booking; the edge
that started a saga answers from the payloads too (`collect_delivered`). JSON in and
out happens here alone (`Payload.to_json`, `Payload.from_json`): nothing else parses
money or dates out of a payload.
"""

import dataclasses
import functools
import logging
import threading
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Self, TypeVar
from uuid import UUID

from django.apps import apps as django_apps
from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Field
from django.dispatch import Signal
from django.utils import timezone

from bookings.log_context import saga_log_context
from bookings.models import Booking, BookingStatus, SagaEvent

logger = logging.getLogger("saga")


def _to_json(value: Any) -> Any:
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, date):  # datetime too: ISO 8601 with its offset
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_to_json(v) for v in value]
    return value


def _from_json(kind: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(kind, types.UnionType) or typing.get_origin(kind) is typing.Union:
        (kind,) = [k for k in typing.get_args(kind) if k is not type(None)]
    if typing.get_origin(kind) is tuple:
        item = typing.get_args(kind)[0]
        return tuple(_from_json(item, v) for v in value)
    if kind is Decimal:
        return Decimal(value)
    if kind is datetime:
        return datetime.fromisoformat(value)
    if kind is date:
        return date.fromisoformat(value)
    if kind is UUID:
        return UUID(str(value))
    return value


@functools.cache
def _field_types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


class Payload:
    """The base of every event: a frozen dataclass, turned to JSON for the log and back.

    `onto_booking` and `booking_becomes` say how the edge's in-memory booking follows the
    event (`apply_delivered`): payload field → booking field, and fixed values; an event
    with `ends_saga` is the booking's end.
    """

    name: ClassVar[str]  # the class's own name: the log's event_type
    onto_booking: ClassVar[Mapping[str, str]] = {}
    booking_becomes: ClassVar[Mapping[str, Any]] = {}
    ends_saga: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.name = cls.__name__

    def to_json(self) -> dict[str, Any]:
        fields = dataclasses.fields(self)  # type: ignore[arg-type]  # every event is one
        return {f.name: _to_json(getattr(self, f.name)) for f in fields}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        # A class is hashable; mypy checks type[Self] against the instances' __hash__.
        hints = _field_types(cls)  # type: ignore[arg-type]
        fields = dataclasses.fields(cls)  # type: ignore[arg-type]  # every event is one
        # A field added later (with its default) is absent from events logged before it.
        return cls(
            **{f.name: _from_json(hints[f.name], data[f.name]) for f in fields if f.name in data}
        )


# The flow, in order. Every event also travels with its saga's correlation_id.


@dataclass(frozen=True)
class BookingRequested(Payload):
    """The booking is written (and its slot taken). What R1 needs: the day, the patient
    and the snapshot's prices (no re-read)."""

    booking_id: UUID
    clinic_day: date
    gender: str
    date_of_birth: date
    prices: tuple[Decimal, ...]


@dataclass(frozen=True)
class PricingCalculated(Payload):
    booking_id: UUID
    clinic_day: date
    base_price: Decimal
    discount_eligible: bool
    eligibility_reason: str
    discount_percent: Decimal
    # The cancellation policy the booking is sold under (None in events logged before
    # it was carried, and on a database without a policy).
    cancellation_policy_version: int | None = None

    onto_booking = {
        "base_price": "base_price",
        "discount_eligible": "discount_eligible",
        "eligibility_reason": "eligibility_reason",
        "discount_percent": "discount_percent",
        "cancellation_policy_version": "cancellation_policy_version",
    }


@dataclass(frozen=True)
class DiscountQuotaReserved(Payload):
    discount_applied: bool
    quota_exhausted: bool
    discount_amount: Decimal
    final_price: Decimal

    onto_booking = {
        "discount_applied": "discount_applied",
        "quota_exhausted": "quota_exhausted",
        "discount_amount": "discount_amount",
        "final_price": "final_price",
    }


@dataclass(frozen=True)
class PaymentCompleted(Payload):
    """booking_id and appointment_start travel on to the notifications step."""

    payment_id: int
    amount: Decimal
    method: str  # card, cash or online: the patient's history says which
    booking_id: UUID
    appointment_start: datetime | None
    # Online: how the patient paid at the gateway (upi, card, netbanking, wallet…), for
    # the receipt; empty for the others.
    instrument: str = ""


@dataclass(frozen=True)
class PaymentAwaited(Payload):
    """Online payment: the gateway's order exists; the saga waits (slot and discount
    held) until the order is paid (PaymentCompleted) or expires (PaymentFailed,
    payment_expired)."""

    payment_id: int
    order_id: str
    amount: Decimal
    expires_at: datetime


@dataclass(frozen=True)
class PaymentFailed(Payload):
    reason: str


@dataclass(frozen=True)
class CompensationTriggered(Payload):
    reason: str
    failed_step: str

    booking_becomes = {"compensating": True}


@dataclass(frozen=True)
class SlotReleased(Payload):
    slot_id: int


@dataclass(frozen=True)
class DiscountQuotaReleased(Payload):
    quota_day: date


@dataclass(frozen=True)
class PaymentReversed(Payload):
    payment_id: int
    amount: Decimal


@dataclass(frozen=True)
class BookingConfirmed(Payload):
    confirmation_code: str
    booking_id: UUID
    appointment_start: datetime | None

    onto_booking = {"confirmation_code": "confirmation_code"}
    booking_becomes = {"status": BookingStatus.CONFIRMED}
    ends_saga = True


@dataclass(frozen=True)
class BookingFailed(Payload):
    reason: str

    onto_booking = {"reason": "failure_reason"}
    booking_becomes = {"status": BookingStatus.FAILED}
    ends_saga = True


@dataclass(frozen=True)
class CancellationRequested(Payload):
    """A cancellation: the same shape as a compensation, on a confirmed booking."""

    actor: str
    reason: str
    by_staff: bool
    refund_amount: Decimal
    fee: Decimal
    requested_on: date


@dataclass(frozen=True)
class PaymentRefunded(Payload):
    refund_id: int
    amount: Decimal


@dataclass(frozen=True)
class ReceiptIssued(Payload):
    """A receipt (bill of supply, tax invoice) for a payment, or a refund note for a
    refund: occurrence 1 is the payment's document, 2 the refund's note."""

    number: str
    kind: str
    issued_at: datetime
    amount: Decimal
    booking_id: UUID


@dataclass(frozen=True)
class BookingCancelled(Payload):
    reason: str
    refund_amount: Decimal

    booking_becomes = {"status": BookingStatus.CANCELLED}
    ends_saga = True


@dataclass(frozen=True)
class BookingRescheduled(Payload):
    """One step of scheduling's; may happen again (logged with the move's number as
    occurrence)."""

    actor: str
    number: int
    from_slot_id: int
    to_slot_id: int
    appointment_start: datetime
    appointment_end: datetime


@dataclass
class Route:
    """Who emits an event and which apps hear it (app labels, in call order)."""

    event: type[Payload]
    emitted_by: str
    heard_by: tuple[str, ...]
    signal: Signal = field(default_factory=Signal)
    # (dispatch_uid, connected function) of each receiver `connect` added, in order.
    listeners: list[tuple[str, Callable[..., None]]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.event.name


ROUTES: tuple[Route, ...] = (
    Route(BookingRequested, emitted_by="bookings", heard_by=("pricing",)),
    Route(PricingCalculated, emitted_by="pricing", heard_by=("quotas",)),
    Route(DiscountQuotaReserved, emitted_by="quotas", heard_by=("payments",)),
    Route(PaymentAwaited, emitted_by="payments", heard_by=("notifications",)),
    # billing after confirmations: it issues a receipt only for a confirmed booking.
    Route(PaymentCompleted, emitted_by="payments", heard_by=("confirmations", "billing")),
    Route(PaymentFailed, emitted_by="payments", heard_by=()),
    # Each participant undoes its own part, in INSTALLED_APPS order; bookings last.
    Route(
        CompensationTriggered,
        emitted_by="the failed step",
        heard_by=("scheduling", "quotas", "payments", "bookings"),
    ),
    Route(SlotReleased, emitted_by="scheduling", heard_by=()),
    Route(DiscountQuotaReleased, emitted_by="quotas", heard_by=()),
    Route(PaymentReversed, emitted_by="payments", heard_by=()),
    Route(BookingConfirmed, emitted_by="confirmations", heard_by=("notifications",)),
    Route(BookingFailed, emitted_by="bookings", heard_by=()),
    Route(
        CancellationRequested,
        emitted_by="bookings",
        heard_by=("scheduling", "quotas", "payments", "bookings"),
    ),
    Route(PaymentRefunded, emitted_by="payments", heard_by=("billing",)),
    Route(ReceiptIssued, emitted_by="billing", heard_by=()),
    Route(BookingCancelled, emitted_by="bookings", heard_by=("notifications",)),
    Route(BookingRescheduled, emitted_by="scheduling", heard_by=("notifications",)),
)
CATALOG: dict[str, Route] = {route.name: route for route in ROUTES}

E = TypeVar("E", bound=Payload)


def route(event: type[Payload] | Payload) -> Route:
    """The catalog's entry for an event class (or an event)."""
    return CATALOG[event.name]


def connect(event: type[E], receiver: Callable[[E, UUID], None]) -> None:
    """Connect an app's receiver of `event` (from its `ready()`); called with the event
    and the saga's correlation_id. The app is the receiver's top-level package."""
    entry = route(event)
    uid = f"{receiver.__module__}.{receiver.__qualname__}"

    def heard(sender: str, *, event: E, correlation_id: UUID, **_: Any) -> None:
        receiver(event, correlation_id)

    heard.receiver = receiver  # type: ignore[attr-defined]  # named in logs and tests
    heard.__module__ = receiver.__module__
    if any(known == uid for known, _ in entry.listeners):
        return  # connected already (a second ready())
    entry.signal.connect(heard, weak=False, dispatch_uid=uid)
    entry.listeners.append((uid, heard))


def payload_of(row: SagaEvent, kind: type[E] = Payload) -> E:  # type: ignore[assignment]
    """A logged event as its typed object (replays and the log's readers use this);
    `kind` is the event class the caller expects (TypeError for another)."""
    event = CATALOG[row.event_type].event.from_json(row.payload)
    if not isinstance(event, kind):
        raise TypeError(f"{row.event_type} is not a {kind.__name__}")
    return event


DUPLICATE_EVENT_CONSTRAINT = "saga_event_once_per_saga"


class ReceiverCrashed(Exception):
    """Re-raised (in tests) after a crashing receiver has been compensated."""


class StepAbandoned(Exception):
    """Raised inside a saga_step whose saga is being undone: the step is rolled back
    and skipped (a forward step must not take effect once compensation started)."""


def emit(event: Payload, *, correlation_id: UUID, occurrence: int = 1) -> None:
    """Log `event` in the current transaction; send its signal once that commits.

    Must run inside `saga_step`: a second emission of the same event (and occurrence)
    for the same saga violates a unique constraint, which rolls back the whole step, so
    a step delivered twice changes nothing. An event that may rightly happen again
    passes its number as `occurrence`.
    """
    name = event.name
    # No savepoint of its own: a duplicate breaks the caller's transaction, and
    # saga_step turns that into "already done" once the transaction is rolled back.
    _append(name, correlation_id, event.to_json(), occurrence=occurrence)
    logger.info(
        "saga event=%s correlation_id=%s",
        name,
        correlation_id,
        extra={"event": name, "correlation_id": str(correlation_id)},
    )

    # A named function, not a functools.partial: Django's on_commit names a failing
    # callback by its __qualname__ in the log, and a partial has none.
    def deliver_after_commit() -> None:
        deliver(event, correlation_id)

    transaction.on_commit(deliver_after_commit)


SEQUENCE_ATTEMPTS = 20


def _column(name: str) -> str:
    field = SagaEvent._meta.get_field(name)
    assert isinstance(field, Field) and field.column  # the log's own columns
    return field.column


def _append(name: str, correlation_id: UUID, payload: dict[str, Any], *, occurrence: int) -> None:
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
        quote(_column(name))
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
        name,
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
    raise RuntimeError(f"no free sequence number for {name} of saga {correlation_id}")


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
    # SQLite (the embedded default for trying the app) names the columns instead:
    # "UNIQUE constraint failed: payments_reversedcapture.gateway_payment_id".
    failed = str(error).removeprefix("UNIQUE constraint failed: ")
    return any(failed == _sqlite_columns(name) for name in constraints)


@functools.cache
def _sqlite_columns(constraint: str) -> str:
    """How SQLite names a unique constraint that fails: its table.column list."""
    for model in django_apps.get_models():
        for unique in model._meta.constraints:
            if unique.name == constraint and isinstance(unique, models.UniqueConstraint):
                table = model._meta.db_table
                columns = (
                    typing.cast(Field, model._meta.get_field(f)).column for f in unique.fields
                )
                return ", ".join(f"{table}.{column}" for column in columns)
    return ""  # not a unique constraint of ours: matches no error


_watching = threading.local()


@contextmanager
def collect_delivered() -> Iterator[dict[UUID, dict[str, Payload]]]:
    """Collect what this thread delivers while inside: saga → event name → event.

    The edge that starts a saga answers from these (see `apply_delivered`) instead of
    re-reading the rows its steps just wrote: the payloads are what those steps committed.
    """
    seen: dict[UUID, dict[str, Payload]] = {}
    outer = getattr(_watching, "seen", None)
    _watching.seen = seen
    try:
        yield seen
    finally:
        _watching.seen = outer


def apply_delivered(booking: Booking, delivered: Mapping[str, Payload]) -> bool:
    """Bring the in-memory `booking` up to what its delivered events say (each event's
    `onto_booking` and `booking_becomes`, in the flow's order); True when they include
    its end (confirmed, failed or cancelled): the fields a saga changes are then as the
    database has them."""
    ended = False
    for entry in ROUTES:
        event = delivered.get(entry.name)
        if event is None:
            continue
        for source, target in event.onto_booking.items():
            value = getattr(event, source)
            limit = getattr(Booking._meta.get_field(target), "max_length", None)
            setattr(booking, target, value[:limit] if limit and isinstance(value, str) else value)
        for target, value in event.booking_becomes.items():
            setattr(booking, target, value)
        ended = ended or event.ends_saga
    # The booking's documents so far (the API's `receipts`): none for a booking that never
    # confirmed; the receipt billing issued when the whole saga ran here.
    if BookingFailed.name in delivered:
        booking.delivered_receipts = []  # type: ignore[attr-defined]  # read by the serializer
    elif (receipt := delivered.get(ReceiptIssued.name)) and PaymentCompleted.name in delivered:
        booking.delivered_receipts = [receipt]  # type: ignore[attr-defined]
    return ended


def deliver(event: Payload, correlation_id: UUID) -> None:
    """Send the signal. A receiver that raises is tried once more; if it raises again,
    its step has failed: compensate it."""
    entry = route(event)
    seen = getattr(_watching, "seen", None)
    if seen is not None:
        seen.setdefault(correlation_id, {})[entry.name] = event
    # One receiver at a time, in the catalog's order, a failing one tried again before
    # the next hears the event: billing must see the confirmation it follows, and the
    # booking is failed only after the others have undone their parts.
    crashed: ReceiverCrashed | None = None  # a crash below, compensated there; loud in tests
    for receiver in entry.signal._live_receivers(entry.name)[0]:
        try:
            receiver(
                signal=entry.signal, sender=entry.name, event=event, correlation_id=correlation_id
            )
            continue
        except ReceiverCrashed as below:
            crashed = crashed or below
            continue
        except Exception as error:
            outcome = _call_again(receiver, entry, event, correlation_id, error)
        if outcome is None:
            continue
        if isinstance(outcome, ReceiverCrashed):
            crashed = crashed or outcome
            continue
        failed_step = receiver.__module__.split(".")[0]
        logger.error(
            "saga receiver crashed event=%s step=%s correlation_id=%s",
            entry.name,
            failed_step,
            correlation_id,
            exc_info=outcome,
            extra={"event": entry.name, "step": failed_step},
        )
        trigger_compensation(
            correlation_id=correlation_id,
            reason=f"internal_error in {failed_step}",
            failed_step=failed_step,
        )
        if settings.SAGA_RERAISE_RECEIVER_ERRORS:
            raise ReceiverCrashed(f"{failed_step} crashed on {entry.name}") from outcome
    if crashed is not None and settings.SAGA_RERAISE_RECEIVER_ERRORS:
        raise crashed


def _call_again(
    receiver: Any, entry: Route, event: Payload, correlation_id: UUID, error: Exception
) -> Exception | None:
    """One more try, on a new database connection if the receiver's one died.

    Receivers are idempotent, so this is safe; it keeps a dropped connection from
    failing a patient's booking, and a compensation receiver's blip from leaving a
    failed booking holding a discount or money until recovery runs.
    """
    logger.warning(
        "saga receiver raised, trying once more event=%s receiver=%s correlation_id=%s",
        entry.name,
        receiver.__module__,
        correlation_id,
        exc_info=error,
        extra={"event": entry.name},
    )
    if not connection.in_atomic_block:  # never inside a caller's transaction
        connection.close_if_unusable_or_obsolete()
    try:
        receiver(signal=entry.signal, sender=entry.name, event=event, correlation_id=correlation_id)
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
            CompensationTriggered(reason=reason, failed_step=failed_step),
            correlation_id=correlation_id,
        )
        started = True
    return started


def replay(event_row: SagaEvent) -> None:
    """Send a logged event's signal again (receivers are idempotent): resumes a stuck saga."""
    deliver(payload_of(event_row), event_row.correlation_id)
