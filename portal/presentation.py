"""Plain words for the patient pages: failure reasons, discount outcomes, the timeline."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from bookings import events, refund_words
from bookings.models import Booking, BookingStatus
from bookings.money import format_inr as inr
from bookings.money import percent_of
from bookings.selectors import saga_events
from payments.online import GATEWAY_UNAVAILABLE, PAYMENT_EXPIRED
from payments.selectors import captured_on_its_way_back
from pricing.cancellation import Policy
from pricing.rules import PRICE_THRESHOLD, REASON_BIRTHDAY, REASON_PRICE, discount_eligibility

PRICE_CHANGED = "price_changed"

MONEY_BACK_EVENTS = {events.PaymentReversed, events.PaymentRefunded}

FAILURE_REASONS = {
    "card_declined": gettext_lazy("The card was declined by the bank."),
    "insufficient_funds": gettext_lazy("The card has insufficient funds."),
    "not_charged": gettext_lazy("The payment could not be completed; no money was taken."),
    PRICE_CHANGED: gettext_lazy(
        "The price went up before the payment (today's discounts ran out), so nothing was charged."
    ),
    PAYMENT_EXPIRED: gettext_lazy(
        "The online payment did not arrive in time, so the time held for you was released."
    ),
    GATEWAY_UNAVAILABLE: gettext_lazy(
        "The payment gateway could not be reached; nothing was charged."
    ),
}


def _eligibility_reasons() -> dict:
    return {
        REASON_BIRTHDAY: _("it is the patient's birthday"),
        REASON_PRICE: _("the base price is above %(threshold)s")
        % {"threshold": inr(PRICE_THRESHOLD)},
    }


def failure_in_words(reason: str | None) -> str:
    if not reason:
        return ""
    if reason in FAILURE_REASONS:
        return str(FAILURE_REASONS[reason])
    if reason.startswith("internal_error"):
        return _(
            "A technical problem on our side stopped the booking. Anything taken was returned."
        )
    return _("The booking could not be completed; no money was kept.")


def eligibility_in_words(reason: str) -> str:
    return _eligibility_reasons().get(reason, reason.replace("_", " "))


def percent_in_words(percent: Decimal) -> str:
    """12.00 -> "12%", 12.50 -> "12.5%"."""
    return f"{percent.normalize():f}%"


def refund_share_in_words(*, hours: int, percent: Decimal, paid: Decimal, fee: Decimal) -> str:
    """A cancellation tier applied to what was paid: "all of ₹500.00 comes back", or
    "50% of ₹500.00", never "100.00% of ₹500.00"."""
    words = {"paid": inr(paid), "fee": inr(fee), "percent": percent_in_words(percent)}
    if percent == 100:
        what = (
            _("all of %(paid)s comes back, less a %(fee)s fee.")
            if fee
            else _("all of %(paid)s comes back.")
        ) % words
    else:
        what = (
            _("%(percent)s of %(paid)s comes back, less a %(fee)s fee.")
            if fee
            else _("%(percent)s of %(paid)s comes back.")
        ) % words
    return ngettext(
        "At least %(hours)s hour before the visit: %(what)s",
        "At least %(hours)s hours before the visit: %(what)s",
        hours,
    ) % {"hours": hours, "what": what}


def _paid_by(booking: Booking) -> str:
    payment = getattr(booking, "payment", None)  # none: nothing was taken
    return payment.method if payment is not None else ""


def _went_back(booking: Booking, amount: Decimal) -> str:
    """Money returned (a refund or a reversed capture), and where it went."""
    said = {"amount": inr(amount)}
    match _paid_by(booking):
        case "cash":
            return _("%(amount)s was given back in cash at the desk.") % said
        case "online":
            return _("%(amount)s went back to the account you paid from.") % said
    return _("%(amount)s went back to your card.") % said


STAFF_WHERE_BACK = {
    "cash": "handed back in cash",
    "online": "back to the paying account (Razorpay)",
}


def _staff_went_back(booking: Booking, amount: Decimal) -> str:
    return f"{inr(amount)} {STAFF_WHERE_BACK.get(_paid_by(booking), 'back to the card')}."


def _payment_returned(booking: Booking) -> str:
    """A failed booking whose payment was taken and then returned."""
    match _paid_by(booking):
        case "cash":
            return _("The payment was given back in cash at the desk.")
        case "online":
            return _("The payment was refunded to the account you paid from.")
    return _("The payment was refunded to your card.")


def _failed(event: events.Payload, booking: Booking) -> tuple[str, str]:
    """Charged, then the saga was undone: say where the money is, never "nothing"."""
    if amount := being_returned(booking):
        said = {"amount": inr(amount)}
        return _("Booking not made"), _(
            "%(amount)s is on its way back to the account you paid from."
        ) % said
    if charged_and_returned(booking):
        return _("Booking not made"), _payment_returned(booking)
    return _("Booking not made"), _("Nothing was charged.")


def _failed_for_staff(event: events.Payload, booking: Booking) -> tuple[str, str]:
    if amount := being_returned(booking):
        return (
            "Booking not made",
            f"{inr(amount)} is being refunded; Razorpay has not processed it yet.",
        )
    if charged_and_returned(booking):
        where = STAFF_WHERE_BACK.get(_paid_by(booking), "back to the card")
        return "Booking not made", f"The payment was refunded: {where}."
    return "Booking not made", "Nothing was charged."


def refund_in_words(booking: Booking, refund: dict[str, Any]) -> str:
    """What a cancellation gave back, and where it goes (refund: portal.flows.refund_of's):
    the same sentence as the patient's e-mail and SMS."""
    return refund_words.refund_in_words(
        amount=refund["amount"], method=_paid_by(booking), settled=refund["status"] == "refunded"
    )


def discount_in_words(booking: Booking) -> str:
    """The discount, or why there is none."""
    if booking.discount_applied and booking.status == BookingStatus.FAILED:
        if charged_and_returned(booking) or being_returned(booking):
            return _("No discount was used, since the booking was not made.")
        return _("No discount was used, since nothing was charged.")
    if booking.discount_applied:
        assert booking.discount_percent is not None  # priced before it was applied
        return _("%(amount)s off (%(percent)s), because %(why)s.") % {
            "amount": inr(booking.discount_amount),
            "percent": percent_in_words(booking.discount_percent),
            "why": eligibility_in_words(booking.eligibility_reason),
        }
    if booking.quota_exhausted:
        return _("Eligible, but today's discounts were all used up, so the full price applies.")
    if booking.discount_eligible is False:
        return _(
            "No discount: the base price is not above %(threshold)s "
            "and it is not a woman patient's birthday."
        ) % {"threshold": inr(PRICE_THRESHOLD)}
    return _("Not worked out yet.")


def charged_and_returned(booking: Booking) -> bool:
    """A failed booking whose card was charged before the saga was undone: the money went
    back (PaymentReversed), so "nothing was charged" would be untrue."""
    return (
        booking.status == BookingStatus.FAILED
        and saga_events(booking.correlation_id).filter(event_type="PaymentReversed").exists()
    )


def being_returned(booking: Booking) -> Decimal:
    """A failed booking's online payment that was captured and is on its way back (the
    gateway has not processed the refund yet): ₹0 when there is none. Until it is back,
    neither "nothing was charged" nor "refunded" is true."""
    if booking.status != BookingStatus.FAILED:
        return Decimal("0.00")
    return captured_on_its_way_back(correlation_id=booking.correlation_id)


def why_not_cancellable(booking: Booking) -> str:
    """Why a booking that is not confirmed (or is being cancelled) cannot be cancelled,
    in words true of its state: the cancellation quote's refusal."""
    if booking.status == BookingStatus.FAILED:
        if being_returned(booking):
            return _("This booking failed; the payment is on its way back to you.")
        if charged_and_returned(booking):
            return _("This booking failed; the payment was refunded.")
        return _("This booking failed; nothing was charged.")
    reasons: dict[str, str] = {
        BookingStatus.CANCELLED: _("This booking is already cancelled."),
        BookingStatus.PENDING: _("This booking is not confirmed yet."),
        BookingStatus.COMPLETED: _("This visit has taken place; it cannot be cancelled."),
        BookingStatus.NO_SHOW: _(
            "This visit was marked as missed (a no-show); it cannot be cancelled."
        ),
    }
    return reasons.get(booking.status, _("This booking is being cancelled."))


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime | None
    title: str
    detail: str
    compensation: bool  # money or a discount went back: shown as such


Said = tuple[str, str]  # (title, detail)


@dataclass(frozen=True)
class Words:
    """An event in words: the patient's (None: the machinery's own steps, which staff
    read in the admin's full trail) and the staff's (told about the patient; the event
    names, ids and payloads stay in the managers' technical details)."""

    patient: Callable[[Any, Booking], Said] | None
    staff: Callable[[Any, Booking], Said] | None


def _services(booking: Booking) -> str:
    return ", ".join(item.name for item in booking.items.all())


STAFF_PAID_BY = {
    "cash": "in cash at the desk",
    "pos": "by card at the desk",
    "online": "online (Razorpay)",
}


def _paid(e: events.PaymentCompleted, _b: Booking) -> Said:
    if e.method == "cash":
        return _("You paid"), _("%(amount)s in cash at the front desk.") % {"amount": inr(e.amount)}
    if e.method == "pos":
        return _("You paid"), _("%(amount)s by card at the front desk.") % {"amount": inr(e.amount)}
    if e.method == "online":
        return _("You paid"), _("%(amount)s online.") % {"amount": inr(e.amount)}
    return _("You paid"), _("%(amount)s by card.") % {"amount": inr(e.amount)}


def _awaited(e: events.PaymentAwaited, _b: Booking) -> Said:
    until = date_format(timezone.localtime(e.expires_at), "H:i")
    return _("Waiting for your payment"), _(
        "%(amount)s to pay online; your time is held until %(until)s IST."
    ) % {"amount": inr(e.amount), "until": until}


def _awaited_for_staff(e: events.PaymentAwaited, _b: Booking) -> Said:
    until = timezone.localtime(e.expires_at)
    return "Waiting for the online payment", (
        f"{inr(e.amount)}, order {e.order_id}; time and discount held until {until:%H:%M} IST."
    )


def _cancelled(e: events.CancellationRequested, _b: Booking) -> Said:
    if e.fee:
        detail = _("%(amount)s to come back (fee %(fee)s).")
    else:
        detail = _("%(amount)s to come back.")
    return _("You cancelled"), detail % {"amount": inr(e.refund_amount), "fee": inr(e.fee)}


def _priced_for_staff(e: events.PricingCalculated, _b: Booking) -> Said:
    if e.discount_eligible:
        why = eligibility_in_words(e.eligibility_reason)
        return "Price worked out", f"{inr(e.base_price)}; discount due, as {why}."
    return "Price worked out", f"{inr(e.base_price)}; no discount due."


def _reserved_for_staff(e: events.DiscountQuotaReserved, _b: Booking) -> Said:
    if e.discount_applied:
        return "Discount held for the patient", (
            f"{inr(e.discount_amount)} off, one of today's discounts; to pay {inr(e.final_price)}."
        )
    if e.quota_exhausted:
        return "No discount left today", f"Full price to pay: {inr(e.final_price)}."
    return "Amount to pay set", f"To pay {inr(e.final_price)}."


def _cancelled_for_staff(e: events.CancellationRequested, _b: Booking) -> Said:
    who = "by the clinic" if e.by_staff else "by the patient"
    fee = f" (fee {inr(e.fee)})" if e.fee else ""
    detail = f"{inr(e.refund_amount)} to go back{fee}." + (
        f" Reason: {e.reason}" if e.reason else ""
    )
    return f"Cancelled {who}", detail


def _moved(e: events.BookingRescheduled, _b: Booking) -> Said:
    when = date_format(timezone.localtime(e.appointment_start), "D j M Y, H:i")
    return _("Appointment moved"), _("Now %(when)s IST.") % {"when": when}


def _moved_for_staff(e: events.BookingRescheduled, _b: Booking) -> Said:
    start = timezone.localtime(e.appointment_start)
    return "Appointment moved", f"Now {start:%a %d %b %Y, %H:%M} IST."


# Every event a reader may see, the patient's words beside the staff's.
WORDS: dict[type[events.Payload], Words] = {
    events.BookingRequested: Words(
        patient=lambda e, b: (_("You asked for"), _services(b)),
        staff=lambda e, b: ("Booking asked for", _services(b)),
    ),
    events.PricingCalculated: Words(patient=None, staff=_priced_for_staff),
    events.DiscountQuotaReserved: Words(patient=None, staff=_reserved_for_staff),
    events.PaymentAwaited: Words(patient=_awaited, staff=_awaited_for_staff),
    events.PaymentCompleted: Words(
        patient=_paid,
        staff=lambda e, b: (
            "Paid",
            f"{inr(e.amount)} taken {STAFF_PAID_BY.get(e.method, 'by card')}.",
        ),
    ),
    events.PaymentFailed: Words(
        patient=lambda e, b: (
            _("Payment did not go through"),
            _("%(why)s You were not charged.") % {"why": failure_in_words(e.reason)},
        ),
        staff=lambda e, b: ("Payment did not go through", failure_in_words(e.reason)),
    ),
    events.CompensationTriggered: Words(
        patient=None,
        staff=lambda e, b: ("Booking being undone", "What was held for it is given back."),
    ),
    events.SlotReleased: Words(
        patient=None,
        staff=lambda e, b: ("Appointment time freed", "The place is free for other patients."),
    ),
    events.DiscountQuotaReleased: Words(
        patient=None,
        staff=lambda e, b: (
            "Discount given back",
            "Today's count of discounts given is one lower.",
        ),
    ),
    events.PaymentReversed: Words(
        patient=lambda e, b: (_("Money returned"), _went_back(b, e.amount)),
        staff=lambda e, b: ("Payment returned", _staff_went_back(b, e.amount)),
    ),
    events.BookingConfirmed: Words(
        patient=lambda e, b: (
            _("Booking confirmed"),
            _("Your code is %(code)s.") % {"code": e.confirmation_code},
        ),
        staff=lambda e, b: ("Booking confirmed", f"Code {e.confirmation_code}."),
    ),
    events.BookingFailed: Words(patient=_failed, staff=_failed_for_staff),
    events.CancellationRequested: Words(patient=_cancelled, staff=_cancelled_for_staff),
    events.PaymentRefunded: Words(
        patient=lambda e, b: (_("Refund made"), _went_back(b, e.amount)),
        staff=lambda e, b: ("Refund made", _staff_went_back(b, e.amount)),
    ),
    events.BookingCancelled: Words(
        patient=lambda e, b: (_("Booking cancelled"), _("The visit is cancelled.")),
        staff=lambda e, b: ("Booking cancelled", "The visit is cancelled."),
    ),
    events.BookingRescheduled: Words(patient=_moved, staff=_moved_for_staff),
}


def released_time_in_words(start: datetime, *, still_free: bool) -> str:
    """ "Try again" after a failed payment: the time that payment held was given back."""
    when = date_format(timezone.localtime(start), "D j M, H:i")
    if still_free:
        return _(
            "The time you had chosen, %(when)s IST, was released when the payment did not "
            "go through. It is still free, so it is chosen again for you: check and pay."
        ) % {"when": when}
    return _(
        "The time you had chosen, %(when)s IST, was released when the payment did not go "
        "through, and someone has taken it since. Please choose another time."
    ) % {"when": when}


def next_step(booking: Booking) -> str:
    """What happens next, in one sentence."""
    match booking.status:
        case BookingStatus.CONFIRMED:
            return _("Show your code at reception on the day of your visit.")
        case BookingStatus.FAILED if booking.failure_reason == PAYMENT_EXPIRED:
            return _("Nothing more will happen. You can try again.")
        case BookingStatus.FAILED:
            return _("Nothing more will happen. You can try again with another card.")
        case BookingStatus.AWAITING_PAYMENT:
            return _(
                "Pay online before the time held for you runs out; this page shows the result."
            )
        case BookingStatus.CANCELLED:
            return _("Nothing more to do; any refund reaches your card in a few days.")
        case BookingStatus.PENDING:
            return _("We are taking the payment; this page will show the result.")
    return ""


def timeline(booking: Booking) -> list[TimelineEntry]:
    """The patient's story of a booking: asked for, paid or not, what happens next."""
    entries = _story(booking, staff=False)
    follows = next_step(booking)
    if follows:
        entries.append(
            TimelineEntry(at=None, title=_("What happens next"), detail=follows, compensation=False)
        )
    return entries


def staff_story(booking: Booking) -> list[TimelineEntry]:
    """The booking's story for the admin: each step, in words a receptionist uses."""
    return _story(booking, staff=True)


def _story(booking: Booking, *, staff: bool) -> list[TimelineEntry]:
    """The booking's events that have words for this reader (the patient or staff)."""
    entries = []
    for row in saga_events(booking.correlation_id):
        event: events.Payload = events.payload_of(row)
        words = WORDS.get(type(event))
        say = None if words is None else (words.staff if staff else words.patient)
        if say is None:
            continue
        title, detail = say(event, booking)
        entries.append(
            TimelineEntry(
                at=row.created_at,
                title=title,
                detail=detail,
                compensation=type(event) in MONEY_BACK_EVENTS,
            )
        )
    return entries


@dataclass(frozen=True)
class Quote:
    """What the review step promises: the price the patient will really pay now.

    R1 decides eligibility; R2 decides at payment. With none of the day's discounts
    left, an eligible booking is shown (and charged) the full price. Should the last
    one go between this page and the payment, nothing is charged (the page sends the
    amount it showed) and the patient is asked to confirm the new price.
    """

    base_price: Decimal
    eligible: bool
    eligibility_reason: str
    discount_percent: Decimal
    discounts_left: int
    expected_discount: Decimal
    expected_final: Decimal

    @property
    def discounts_gone(self) -> bool:
        """Eligible, but the day's discounts are all used: the full price applies."""
        return self.eligible and self.discounts_left <= 0


def quote(
    *, services, gender: str, date_of_birth, today, discount_percent: Decimal, discounts_left: int
) -> Quote:
    base = sum((s.price for s in services), Decimal("0.00"))
    eligible, reason = discount_eligibility(
        gender=gender, date_of_birth=date_of_birth, base_price=base, today=today
    )
    discounted = eligible and discounts_left > 0
    discount = percent_of(base, discount_percent) if discounted else Decimal("0.00")
    return Quote(
        base_price=base,
        eligible=eligible,
        eligibility_reason=eligibility_in_words(reason) if eligible else "",
        discount_percent=discount_percent,
        discounts_left=discounts_left,
        expected_discount=discount,
        expected_final=base - discount,
    )


def cancellation_terms(*, policy: Policy, visit_starts: datetime | None) -> list[str]:
    """The policy's tiers in the patient's words, longest notice first, each with the
    moment it ends when the visit's time is known (an appointment; tiers already over
    left out), then what is left (nothing). Shown before paying, so nobody learns of a
    fee only when cancelling."""
    if not policy.tiers:
        return [_("Cancelling gives nothing back.")]
    lines = []
    for tier in policy.tiers:
        percent = f"{tier.refund_percent.normalize():f}"  # 100, 12.5: no needless decimals
        if tier.refund_percent == 100 and not tier.fee:
            what = _("everything you paid comes back.")
        elif tier.refund_percent == 100:  # "all", not "100%"
            what = _("everything you paid comes back, less a fee of %(fee)s.") % {
                "fee": inr(tier.fee)
            }
        elif tier.fee:
            what = _("%(percent)s%% of what you paid comes back, less a fee of %(fee)s.") % {
                "percent": percent,
                "fee": inr(tier.fee),
            }
        else:
            what = _("%(percent)s%% of what you paid comes back.") % {"percent": percent}
        if visit_starts is None:
            lines.append(
                ngettext(
                    "Cancelled at least %(hours)s hour before the visit: %(what)s",
                    "Cancelled at least %(hours)s hours before the visit: %(what)s",
                    tier.min_hours_before,
                )
                % {"hours": tier.min_hours_before, "what": what}
            )
        else:
            until = timezone.localtime(visit_starts - timedelta(hours=tier.min_hours_before))
            if until <= timezone.now():
                continue  # a tier already over does not apply to this booking
            lines.append(
                _("Cancelled until %(until)s IST: %(what)s")
                % {"until": date_format(until, "l j F, H:i"), "what": what}
            )
    lines.append(_("Later than that: nothing comes back."))
    return lines
