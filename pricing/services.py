from decimal import Decimal
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import Subquery, Sum
from django.utils import timezone

from bookings import events
from bookings.models import AuditLog, Booking, BookingStatus
from bookings.services import change_setting
from pricing.models import CancellationPolicy, DiscountSettings
from pricing.rules import discount_eligibility
from pricing.selectors import cancellation_policy


def calculate_price(*, correlation_id: UUID, booking_id: str) -> None:
    """Rule R1: the base price and whether the booking may have the discount."""
    with events.saga_step("pricing", correlation_id):
        booking = Booking.objects.annotate(items_total=Sum("items__price")).get(pk=booking_id)
        base_price = booking.items_total or Decimal("0.00")
        eligible, reason = discount_eligibility(
            gender=booking.gender,
            date_of_birth=booking.date_of_birth,
            base_price=base_price,
            today=booking.clinic_day,
        )
        going_on = Booking.objects.filter(
            pk=booking.pk, status=BookingStatus.PENDING, compensating=False
        ).update(
            base_price=base_price,
            discount_eligible=eligible,
            eligibility_reason=reason,
            # The percentage in force when the booking was priced, kept with it.
            discount_percent=DiscountSettings.current().discount_percent,
            # The cancellation policy it is sold under: a later change never alters it.
            cancellation_policy_version=Subquery(
                CancellationPolicy.objects.order_by("-id").values("id")[:1]
            ),
            updated_at=timezone.now(),
        )
        if not going_on:
            return  # the saga is being undone: no step forward
        events.emit(
            events.PricingCalculated,
            correlation_id=correlation_id,
            base_price=str(base_price),
            discount_eligible=eligible,
            eligibility_reason=reason,
        )


def set_discount_percent(*, percent: Decimal, actor: str) -> DiscountSettings:
    """Change the discount percentage (0–100) for bookings priced from now on; audited."""
    if not Decimal(0) <= percent <= Decimal(100):
        raise ValidationError({"discount_percent": "The percentage must be between 0 and 100."})
    percent = percent.quantize(Decimal("0.01"))
    DiscountSettings.current()  # the row exists before it is locked
    return change_setting(
        row=DiscountSettings.objects.filter(pk=DiscountSettings.SINGLETON_ID),
        field="discount_percent",
        value=percent,
        actor=actor,
        action="discount.percent_changed",
    )


def record_policy_published(*, policy: CancellationPolicy, actor: str) -> None:
    """Audit a new version of the cancellation policy against the one it replaces."""
    previous = CancellationPolicy.objects.filter(pk__lt=policy.pk).order_by("-pk").first()
    AuditLog.record(
        actor=actor,
        action="cancellation_policy.published",
        obj=policy,
        before=_policy_snapshot(previous.pk) if previous else None,
        after=_policy_snapshot(policy.pk),
    )


def _policy_snapshot(version: int) -> dict:
    policy = cancellation_policy(version)
    return {
        "version": policy.version,
        "tiers": [
            {
                "min_hours_before": t.min_hours_before,
                "refund_percent": str(t.refund_percent),
                "fee": str(t.fee),
            }
            for t in policy.tiers
        ],
        "reschedule_until_hours_before": policy.reschedule_until_hours_before,
        "max_reschedules": policy.max_reschedules,
    }
