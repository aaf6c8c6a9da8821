"""Plain words for the patient pages: failure reasons, discount outcomes, the timeline."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from bookings.models import Booking, BookingStatus
from bookings.money import format_inr as inr
from bookings.money import percent_of
from bookings.selectors import saga_events
from pricing.rules import PRICE_THRESHOLD, REASON_BIRTHDAY, REASON_PRICE, discount_eligibility

PRICE_CHANGED = "price_changed"

FAILURE_REASONS = {
    PRICE_CHANGED: (
        "The price went up before the payment: today's last discount went to another "
        "patient. Nothing was charged."
    ),
    "card_declined": "The card was declined by the bank.",
    "insufficient_funds": "The card has insufficient funds.",
    "not_charged": "The payment could not be completed; no money was taken.",
}

ELIGIBILITY_REASONS = {
    REASON_BIRTHDAY: "it is the patient's birthday",
    REASON_PRICE: f"the base price is above {inr(PRICE_THRESHOLD)}",
}

COMPENSATION_EVENTS = {"CompensationTriggered", "DiscountQuotaReleased", "PaymentReversed"}


def failure_in_words(reason: str | None) -> str:
    if not reason:
        return ""
    if reason in FAILURE_REASONS:
        return FAILURE_REASONS[reason]
    if reason.startswith("internal_error"):
        return "A technical problem on our side stopped the booking. Anything taken was returned."
    return reason.replace("_", " ").capitalize() + "."


def eligibility_in_words(reason: str) -> str:
    return ELIGIBILITY_REASONS.get(reason, reason.replace("_", " "))


def percent_in_words(percent: Decimal) -> str:
    """12.00 -> "12%", 12.50 -> "12.5%"."""
    return f"{percent.normalize():f}%"


def discount_in_words(booking: Booking) -> str:
    """The discount, or why there is none."""
    if booking.discount_applied and booking.status == BookingStatus.FAILED:
        return (
            f"{inr(booking.discount_amount)} off was reserved, and given back to today's "
            "discounts when the booking failed."
        )
    if booking.discount_applied:
        return (
            f"{inr(booking.discount_amount)} off ({percent_in_words(booking.discount_percent)}), "
            f"because {eligibility_in_words(booking.eligibility_reason)}."
        )
    if booking.quota_exhausted:
        return "Eligible, but today's discounts were all used up, so the full price applies."
    if booking.discount_eligible is False:
        return (
            f"No discount: the base price is not above {inr(PRICE_THRESHOLD)} "
            "and it is not a woman patient's birthday."
        )
    return "Not worked out yet."


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    title: str
    detail: str
    compensation: bool


def _describe(event_type: str, payload: dict) -> tuple[str, str]:
    """(title, detail) in plain words for one logged event."""

    def money(key: str) -> str:
        return inr(payload.get(key))

    match event_type:
        case "BookingRequested":
            return "Booking requested", ""
        case "PricingCalculated":
            if payload.get("discount_eligible"):
                why = eligibility_in_words(payload.get("eligibility_reason", ""))
                return "Price worked out", f"Base price {money('base_price')}; eligible, as {why}."
            return "Price worked out", f"Base price {money('base_price')}; no discount applies."
        case "DiscountQuotaReserved":
            if payload.get("discount_applied"):
                detail = f"{money('discount_amount')} off; to pay {money('final_price')}."
                return "Discount reserved", detail
            if payload.get("quota_exhausted"):
                detail = f"Today's discounts are used up; to pay {money('final_price')}."
                return "No discount left today", detail
            return "Amount to pay set", f"To pay {money('final_price')}."
        case "PaymentCompleted":
            return "Payment taken", f"{money('amount')} charged to the card."
        case "PaymentFailed":
            return "Payment failed", failure_in_words(payload.get("reason"))
        case "CompensationTriggered":
            return (
                "Compensation started",
                "Undoing the earlier steps. Why: " + failure_in_words(payload.get("reason")),
            )
        case "DiscountQuotaReleased":
            return "Discount given back", "The reserved discount returned to today's pool."
        case "PaymentReversed":
            return "Payment refunded", f"{money('amount')} refunded to the card."
        case "BookingConfirmed":
            return "Booking confirmed", f"Confirmation code {payload.get('confirmation_code')}."
        case "BookingFailed":
            return "Booking failed", failure_in_words(payload.get("reason"))
        case "CancellationRequested":
            return "Cancellation asked for", (
                f"{money('refund_amount')} to come back"
                + (f" (fee {money('fee')})." if Decimal(payload.get("fee", "0")) else ".")
            )
        case "PaymentRefunded":
            return "Refund made", f"{money('amount')} refunded to the card."
        case "BookingCancelled":
            return "Booking cancelled", "The visit is cancelled."
    return event_type, ""


def timeline(booking: Booking) -> list[TimelineEntry]:
    events = saga_events(booking.correlation_id)
    entries = []
    for event in events:
        title, detail = _describe(event.event_type, event.payload)
        entries.append(
            TimelineEntry(
                at=event.created_at,
                title=title,
                detail=detail,
                compensation=event.event_type in COMPENSATION_EVENTS,
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
