"""What the edge does across participants: starting a booking (and taking its slot),
cancelling one, moving one to another time."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from bookings import events
from bookings.log_context import saga_log_context
from bookings.models import AuditLog, Booking, BookingStatus, SagaEvent
from bookings.selectors import active_services
from bookings.services import (
    NotCancellable,
    clinic_today,
    desk_patient_account,
    initiate_booking,
    request_cancellation,
)
from payments.gateway import get_gateway
from payments.models import DESK_TOKENS, PAYMENT_LINK_TOKEN, Refund, RefundStatus
from payments.online import online_payment_available
from payments.services import receive_cash
from portal.presentation import refund_share_in_words, why_not_cancellable
from pricing.cancellation import refund_for
from pricing.selectors import cancellation_policy
from scheduling.services import (
    NotReschedulable,
    SlotUnavailable,
    check_slot_serves,
    check_walk_in_day,
    reschedule,
    take_slot,
)

__all__ = [
    "NotReschedulable",
    "RefundLowered",
    "SlotUnavailable",
    "book_at_front_desk",
    "cancel_booking",
    "cancellation_quote",
    "refund_of",
    "move_booking",
    "reschedule_booking",
    "reschedule_quote",
    "start_booking",
]


def start_booking(
    *,
    user: User,
    patient_name: str,
    gender: str,
    date_of_birth: date,
    service_ids: Sequence[int],
    payment_token: str,
    request_key: str | None = None,
    slot_id: int | None = None,
    visit_date: date | None = None,
    cash_received_by: str | None = None,
    expected_total: Decimal | None = None,
    payment_link_by: str | None = None,
) -> Booking:
    """Check what only payments and scheduling can judge, then start the saga.

    `expected_total` is the amount the patient was shown: payments charges nothing if
    the final price turns out higher (the booking fails with `price_changed`).

    The booking insert (with BookingRequested) and the slot's conditional UPDATE share
    one transaction: a full, past or unknown slot raises SlotUnavailable and leaves no
    booking behind. The saga runs when that transaction commits.

    `visit_date`, when given, is the day the patient chose: a slot of another day is a
    400; a walk-in's must be a day the clinic is open, and today only before closing.
    Cash (`payment_token="cash"`) only with
    `cash_received_by`, the receptionist who took it (the front desk); payments records
    it as captured without the card gateway, so the saga is the same for both. A
    payment link (`payment_token="payment_link"`) only with `payment_link_by`, the
    receptionist who offers it, and only with the online gateway.
    """
    # Input validation only (the gateway is asked nothing else here): an unknown token
    # is the patient's mistake, to be told now, not a failed payment later.
    cash = payment_token in DESK_TOKENS and bool(cash_received_by)
    link = payment_token == PAYMENT_LINK_TOKEN and bool(payment_link_by)
    if link and not online_payment_available():
        raise ValidationError(
            {"payment_token": "Payment links need the online gateway (PAYMENT_GATEWAY=razorpay)."}
        )
    if not (cash or link) and not get_gateway().accepts(payment_token):
        raise ValidationError({"payment_token": f"Unknown payment token {payment_token!r}."})
    active = active_services(list(service_ids))  # read once, for bookings too
    needing_slot = [pk for pk, service in active.items() if service.requires_appointment]
    if needing_slot and slot_id is None:
        raise ValidationError(
            {"slot_id": "These services need an appointment: choose a slot (GET /api/slots)."}
        )
    if not needing_slot and slot_id is not None:
        # Refused rather than ignored: a client sending a time believes it booked one.
        raise ValidationError(
            {"slot_id": "None of these services takes an appointment: they are walk-in."}
        )
    if slot_id is not None:
        check_slot_serves(slot_id=slot_id, service_ids=needing_slot, day=visit_date)
    else:
        # A walk-in without a day is today's (API.md), judged like any day: after
        # closing it is a 400, never a visit paid for a clinic that is shut.
        visit_date = visit_date or clinic_today()
        check_walk_in_day(day=visit_date)
    booking_request: dict[str, Any] = {
        "user": user,
        "patient_name": patient_name,
        "gender": gender,
        "date_of_birth": date_of_birth,
        "service_ids": service_ids,
        "payment_token": payment_token,
        "request_key": request_key,
        "expected_total": expected_total,
        "active": active,
        "visit_date": visit_date if slot_id is None else None,
    }
    if slot_id is None and not cash:
        return initiate_booking(**booking_request)  # bookings' own transaction is the whole
    # The saga runs as this transaction commits, inside the log context, so every
    # step's log line names the booking (as bookings does for a walk-in alone).
    with saga_log_context(step="bookings.request") as log_fields, transaction.atomic():
        booking = initiate_booking(**booking_request)
        log_fields.update(booking_id=str(booking.pk), correlation_id=str(booking.correlation_id))
        if slot_id is not None:
            take_slot(slot_id=slot_id, booking_id=booking.pk, correlation_id=booking.correlation_id)
        if cash:
            assert cash_received_by  # `cash` needs who received it
            receive_cash(correlation_id=booking.correlation_id, received_by=cash_received_by)
    return booking


@dataclass(frozen=True)
class CancellationQuote:
    allowed: bool
    refund_amount: Decimal
    fee: Decimal
    reason: str  # in words, for the patient or the API client
    holds_until: datetime | None  # this refund holds until then (None: no deadline)


def visit_starts(booking: Booking) -> datetime:
    """When the visit begins, for the policy: the appointment, or for a walk-in the end
    of its clinic day (a walk-in may come any time that day)."""
    if booking.appointment_start is not None:
        return booking.appointment_start
    return timezone.make_aware(datetime.combine(booking.visit_date + timedelta(days=1), time.min))


def cancellation_quote(
    booking: Booking, *, by_staff: bool, now: datetime | None = None
) -> CancellationQuote:
    """What cancelling `booking` now would give back, under the policy it was sold under."""
    now = now or timezone.now()
    nothing = Decimal("0.00")
    if booking.status != BookingStatus.CONFIRMED or booking.cancellation_requested_at:
        return CancellationQuote(False, nothing, nothing, why_not_cancellable(booking), None)
    starts = visit_starts(booking)
    if now >= starts:
        return CancellationQuote(False, nothing, nothing, _("The visit has already begun."), None)
    assert booking.final_price is not None  # a confirmed booking was priced
    refund = refund_for(
        # Bookings sold before policies had versions fall under the first one.
        policy=cancellation_policy(booking.cancellation_policy_version or 1),
        paid=booking.final_price,
        visit_starts=starts,
        now=now,
        by_staff=by_staff,
    )
    if by_staff:
        reason = _("Cancelled by the clinic: everything paid comes back.")
    elif refund.tier is None:
        reason = _("Less notice than the policy's last tier: nothing comes back.")
    else:
        reason = refund_share_in_words(
            hours=refund.tier.min_hours_before,
            percent=refund.tier.refund_percent,
            paid=booking.final_price,
            fee=refund.fee,
        )
    return CancellationQuote(True, refund.amount, refund.fee, reason, refund.holds_until)


class RefundLowered(Exception):
    """Less would come back now than the page the patient confirmed showed (a tier's
    edge passed in between): nothing is cancelled; `quote` is what cancelling now gives."""

    def __init__(self, quote: "CancellationQuote") -> None:
        super().__init__(quote.reason)
        self.quote = quote


def cancel_booking(
    *,
    booking: Booking,
    actor: str,
    by_staff: bool,
    reason: str,
    expected_refund: Decimal | None = None,
    request_key: str | None = None,
) -> Booking:
    """Cancel under the policy (staff: everything back); the saga runs before this returns.

    `expected_refund` is the refund the patient was shown: when cancelling now would give
    back less, RefundLowered is raised and nothing changes. `request_key` links the
    cancellation to the API request that made it (a retry of that request finds it).
    Raises NotCancellable when the booking cannot be cancelled (any more).
    """
    quote = cancellation_quote(booking, by_staff=by_staff)
    if not quote.allowed:
        raise NotCancellable(quote.reason)
    if expected_refund is not None and quote.refund_amount < expected_refund:
        raise RefundLowered(quote)
    with events.collect_delivered() as delivered:
        request_cancellation(
            booking=booking,
            actor=actor,
            reason=reason,
            by_staff=by_staff,
            refund_amount=quote.refund_amount,
            fee=quote.fee,
            request_key=request_key or "",
        )
    if events.apply_delivered(booking, delivered.get(booking.correlation_id, {})):
        return booking  # as its events left it (its items, slot and price unchanged)
    return Booking.objects.get(pk=booking.pk)


def refund_of(booking: Booking) -> dict:
    """A cancelled booking's refund as the patient sees it: refunded, on its way, or none."""
    return refunds_of([booking])[booking.pk]


def refunds_of(bookings: Sequence[Booking]) -> dict[Any, dict]:
    """refund_of for each of `bookings` (a page of a list), by pk, in two queries however
    many there are."""
    by_saga = {b.correlation_id: b.pk for b in bookings}
    if not by_saga:
        return {}
    shown: dict[Any, dict] = {}
    for refund in Refund.objects.filter(correlation_id__in=by_saga):
        # A refund the gateway refused is the clinic's to settle: for the patient it is pending.
        status = "refunded" if refund.status == RefundStatus.REFUNDED else "pending"
        shown[by_saga[refund.correlation_id]] = {"amount": refund.amount, "status": status}
    # No refund row: nothing promised, or the payments step failed and recovery has yet
    # to record the refund the cancellation promised: that one is on its way.
    unrecorded = [c for c, pk in by_saga.items() if pk not in shown]
    for row in SagaEvent.objects.filter(
        correlation_id__in=unrecorded, event_type=events.CancellationRequested.name
    ):
        promised = events.payload_of(row, events.CancellationRequested)
        if promised.refund_amount > 0:
            shown[by_saga[row.correlation_id]] = {
                "amount": promised.refund_amount,
                "status": "pending",
            }
    none = {"amount": Decimal("0.00"), "status": "none"}
    return {pk: shown.get(pk, none) for pk in by_saga.values()}


def book_at_front_desk(
    *,
    receptionist: str,
    patient_name: str,
    gender: str,
    date_of_birth: date,
    phone: str,
    service_ids: Sequence[int],
    payment_token: str,
    day: date,
    slot_id: int | None = None,
) -> Booking:
    """A walk-in or telephone patient booked by the receptionist, through `start_booking`
    like every other door. The booking belongs to the patient's account found (or made)
    by phone; cash is recorded as received by the receptionist; a payment link is texted to
    the phone (and shown as a QR code at the desk). The account, the booking
    request and the desk's AuditLog row commit together; the saga runs on that commit,
    so the booking handed back is confirmed or failed (reload it)."""
    cash = payment_token in DESK_TOKENS  # cash, or the counter's card machine
    link = payment_token == PAYMENT_LINK_TOKEN
    with transaction.atomic():
        user, created = desk_patient_account(
            phone=phone, full_name=patient_name, gender=gender, date_of_birth=date_of_birth
        )
        booking = start_booking(
            user=user,
            patient_name=patient_name,
            gender=gender,
            date_of_birth=date_of_birth,
            service_ids=service_ids,
            payment_token=payment_token,
            slot_id=slot_id,
            visit_date=day,
            cash_received_by=receptionist if cash else None,
            payment_link_by=receptionist if link else None,
        )
        AuditLog.record(
            actor=receptionist,
            action="booking.front_desk",
            obj=booking,
            correlation_id=booking.correlation_id,
            after={
                "account": user.get_username(),
                "account_created": created,
                "phone": str(phone),
                "payment": payment_token,
                "slot_id": slot_id,
                "services": list(service_ids),
            },
        )
    return Booking.objects.get(pk=booking.pk)


@dataclass(frozen=True)
class RescheduleQuote:
    allowed: bool
    reason: str  # in words: why not, or the limits that apply
    until: datetime | None  # the last moment it may be moved (None: no deadline)
    moves_left: int | None  # None: no limit (staff)


def reschedule_quote(
    booking: Booking, *, by_staff: bool, now: datetime | None = None
) -> RescheduleQuote:
    """Whether `booking` may be moved now, under the policy it was sold under.

    The policy binds patients; staff (moving patients off a practitioner's leave, say)
    may move any confirmed appointment that has not begun. The step itself decides
    again, race-free, with one conditional UPDATE.
    """
    now = now or timezone.now()
    if booking.status != BookingStatus.CONFIRMED or booking.cancellation_requested_at:
        return RescheduleQuote(False, _("Only a confirmed booking can be moved."), None, 0)
    if booking.appointment_start is None:
        return RescheduleQuote(False, _("A walk-in booking has no time to move."), None, 0)
    if booking.appointment_start <= now:
        return RescheduleQuote(False, _("The appointment has already begun."), None, 0)
    if by_staff:
        return RescheduleQuote(True, _("Staff may move it to any free time."), None, None)
    policy = cancellation_policy(booking.cancellation_policy_version or 1)
    until = booking.appointment_start - timedelta(hours=policy.reschedule_until_hours_before)
    left = max(policy.max_reschedules - booking.reschedules, 0)
    if not left:
        return RescheduleQuote(
            False,
            _("Already moved %(n)s time(s), the most allowed.") % {"n": booking.reschedules},
            until,
            0,
        )
    if now > until:
        return RescheduleQuote(
            False,
            _("Too late: the policy allows a move until %(hours)s hours before the appointment.")
            % {"hours": policy.reschedule_until_hours_before},
            until,
            left,
        )
    return RescheduleQuote(
        True, _("It may be moved %(n)s more time(s).") % {"n": left}, until, left
    )


def reschedule_booking(*, booking: Booking, slot_id: int, actor: str, by_staff: bool) -> Booking:
    """Move `booking` to `slot_id` (one step in scheduling); the policy's limits for a
    patient, none for staff. Raises NotReschedulable, SlotUnavailable or ValidationError."""
    if by_staff:
        until_hours, most = None, None
    else:
        policy = cancellation_policy(booking.cancellation_policy_version or 1)
        until_hours, most = policy.reschedule_until_hours_before, policy.max_reschedules
    reschedule(
        booking_id=booking.pk,
        slot_id=slot_id,
        actor=actor,
        until_hours_before=until_hours,
        max_reschedules=most,
    )
    return Booking.objects.get(pk=booking.pk)


@dataclass(frozen=True)
class Moved:
    """How a page's "Change time" form went: the booking when it moved, and what to say."""

    booking: Booking | None
    message: str


def move_booking(*, booking: Booking, slot_text: str, actor: str, by_staff: bool) -> Moved:
    """The patient's and the staff's "Change time" forms: move to the slot posted."""
    try:
        moved = reschedule_booking(
            booking=booking, slot_id=int(slot_text), actor=actor, by_staff=by_staff
        )
    except (ValueError, ValidationError, SlotUnavailable):
        return Moved(None, _("That time is no longer free; choose another of the times shown."))
    except NotReschedulable as refused:
        return Moved(None, str(refused))
    when = date_format(timezone.localtime(moved.appointment_start), "l j F Y, H:i")
    return Moved(moved, _("Moved: the appointment is now %(when)s IST.") % {"when": when})
