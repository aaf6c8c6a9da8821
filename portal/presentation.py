"""Plain words for the patient pages: failure reasons, discount outcomes, the timeline."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bookings.models import Booking, BookingStatus
from bookings.money import format_inr as inr
from bookings.money import percent_of
from bookings.selectors import saga_events
from pricing.rules import PRICE_THRESHOLD, REASON_BIRTHDAY, REASON_PRICE, discount_eligibility

PRICE_CHANGED = "price_changed"

MONEY_BACK_EVENTS = {"PaymentReversed", "PaymentRefunded"}

FAILURE_REASONS = {
    "card_declined": gettext_lazy("The card was declined by the bank."),
    "insufficient_funds": gettext_lazy("The card has insufficient funds."),
    "not_charged": gettext_lazy("The payment could not be completed; no money was taken."),
    PRICE_CHANGED: gettext_lazy(
        "The price went up before the payment (today's discounts ran out), so nothing was charged."
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


def discount_in_words(booking: Booking) -> str:
    """The discount, or why there is none."""
    if booking.discount_applied and booking.status == BookingStatus.FAILED:
        return _("No discount was used, since nothing was charged.")
    if booking.discount_applied:
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


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime | None
    title: str
    detail: str
    compensation: bool  # money or a discount went back: shown as such


def _describe(event_type: str, payload: dict, booking: Booking) -> tuple[str, str] | None:
    """(title, detail) in the patient's words, or None for the machinery's own steps
    (pricing, the quota, compensation), which staff read in the admin's full trail."""

    def money(key: str) -> str:
        return inr(payload.get(key))

    match event_type:
        case "BookingRequested":
            services = ", ".join(item.name for item in booking.items.all())
            return _("You asked for"), services
        case "PaymentCompleted":
            if payload.get("method") == "cash":
                return _("You paid"), _("%(amount)s in cash at the front desk.") % {
                    "amount": money("amount")
                }
            return _("You paid"), _("%(amount)s by card.") % {"amount": money("amount")}
        case "PaymentFailed":
            return _("Payment did not go through"), _("%(why)s You were not charged.") % {
                "why": failure_in_words(payload.get("reason"))
            }
        case "PaymentReversed":
            return _("Money returned"), _("%(amount)s went back to your card.") % {
                "amount": money("amount")
            }
        case "BookingConfirmed":
            return _("Booking confirmed"), _("Your code is %(code)s.") % {
                "code": payload.get("confirmation_code")
            }
        case "BookingFailed":
            return _("Booking not made"), _("Nothing was charged.")
        case "CancellationRequested":
            if Decimal(payload.get("fee", "0")):
                detail = _("%(amount)s to come back (fee %(fee)s).")
            else:
                detail = _("%(amount)s to come back.")
            return _("You cancelled"), detail % {
                "amount": money("refund_amount"),
                "fee": money("fee"),
            }
        case "PaymentRefunded":
            return _("Refund made"), _("%(amount)s went back to your card.") % {
                "amount": money("amount")
            }
        case "BookingCancelled":
            return _("Booking cancelled"), _("The visit is cancelled.")
        case "BookingRescheduled":
            start = timezone.localtime(datetime.fromisoformat(payload["appointment_start"]))
            return _("Appointment moved"), _("Now %(when)s IST.") % {
                "when": date_format(start, "D j M Y, H:i")
            }
    return None


def next_step(booking: Booking) -> str:
    """What happens next, in one sentence."""
    match booking.status:
        case BookingStatus.CONFIRMED:
            return _("Show your code at reception on the day of your visit.")
        case BookingStatus.FAILED:
            return _("Nothing more will happen. You can try again with another card.")
        case BookingStatus.CANCELLED:
            return _("Nothing more to do; any refund reaches your card in a few days.")
        case BookingStatus.PENDING:
            return _("We are taking the payment; this page will show the result.")
    return ""


def timeline(booking: Booking) -> list[TimelineEntry]:
    """The patient's story of a booking: asked for, paid or not, what happens next."""
    entries = _story(booking, _describe)
    follows = next_step(booking)
    if follows:
        entries.append(
            TimelineEntry(at=None, title=_("What happens next"), detail=follows, compensation=False)
        )
    return entries


def _staff_describe(event_type: str, payload: dict, booking: Booking) -> tuple[str, str] | None:
    """(title, detail) for the clinic's staff: every step of the booking in plain words,
    told about the patient, including what was held and given back (the event names, ids
    and payloads stay in the managers' technical details)."""

    def money(key: str) -> str:
        return inr(payload.get(key))

    match event_type:
        case "BookingRequested":
            services = ", ".join(item.name for item in booking.items.all())
            return "Booking asked for", services
        case "PricingCalculated":
            if payload.get("discount_eligible"):
                why = eligibility_in_words(payload.get("eligibility_reason", ""))
                return "Price worked out", f"{money('base_price')}; discount due, as {why}."
            return "Price worked out", f"{money('base_price')}; no discount due."
        case "DiscountQuotaReserved":
            if payload.get("discount_applied"):
                return "Discount held for the patient", (
                    f"{money('discount_amount')} off, one of today's discounts; "
                    f"to pay {money('final_price')}."
                )
            if payload.get("quota_exhausted"):
                return "No discount left today", f"Full price to pay: {money('final_price')}."
            return "Amount to pay set", f"To pay {money('final_price')}."
        case "PaymentCompleted":
            how = " in cash at the desk" if payload.get("method") == "cash" else " by card"
            return "Paid", f"{money('amount')} taken{how}."
        case "PaymentFailed":
            return "Payment did not go through", failure_in_words(payload.get("reason"))
        case "CompensationTriggered":
            return "Booking being undone", "What was held for it is given back."
        case "SlotReleased":
            return "Appointment time freed", "The place is free for other patients."
        case "DiscountQuotaReleased":
            return "Discount given back", "Today's count of discounts given is one lower."
        case "PaymentReversed":
            return "Payment returned", f"{money('amount')} back to the card."
        case "BookingConfirmed":
            return "Booking confirmed", f"Code {payload.get('confirmation_code')}."
        case "BookingFailed":
            return "Booking not made", "Nothing was charged."
        case "CancellationRequested":
            who = "by the clinic" if payload.get("by_staff") else "by the patient"
            fee = f" (fee {money('fee')})" if Decimal(payload.get("fee", "0")) else ""
            reason = payload.get("reason") or ""
            detail = f"{money('refund_amount')} to go back{fee}." + (
                f" Reason: {reason}" if reason else ""
            )
            return f"Cancelled {who}", detail
        case "PaymentRefunded":
            return "Refund made", f"{money('amount')} back to the card."
        case "BookingCancelled":
            return "Booking cancelled", "The visit is cancelled."
        case "BookingRescheduled":
            start = timezone.localtime(datetime.fromisoformat(payload["appointment_start"]))
            return "Appointment moved", f"Now {start:%a %d %b %Y, %H:%M} IST."
    return None


def staff_story(booking: Booking) -> list[TimelineEntry]:
    """The booking's story for the admin: each step, in words a receptionist uses."""
    return _story(booking, _staff_describe)


def _story(booking: Booking, describe) -> list[TimelineEntry]:
    """The booking's events that `describe` puts in words (it returns None to skip one)."""
    entries = []
    for event in saga_events(booking.correlation_id):
        said = describe(event.event_type, event.payload, booking)
        if said is not None:
            entries.append(
                TimelineEntry(
                    at=event.created_at,
                    title=said[0],
                    detail=said[1],
                    compensation=event.event_type in MONEY_BACK_EVENTS,
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
