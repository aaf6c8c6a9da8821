"""Rule R2: at most N discounts per clinic day, reserved by one conditional UPDATE."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import F
from django.utils import timezone

from bookings import events
from bookings.models import Booking, BookingStatus
from bookings.money import percent_of
from bookings.services import change_setting
from quotas.models import ONE_RESERVATION_PER_SAGA, DiscountQuota, QuotaReservation, QuotaSettings


def ensure_day(day: date) -> None:
    """Create the day's row if missing: INSERT … ON CONFLICT DO NOTHING, race-free."""
    DiscountQuota.objects.bulk_create(
        [DiscountQuota(day=day, limit=QuotaSettings.current().default_daily_limit)],
        ignore_conflicts=True,
    )


def reserve_discount(*, correlation_id: UUID, priced: events.PricingCalculated) -> None:
    """Take one of the day's discounts for an eligible booking, or go on at full price.

    A booking that cannot have the discount was fully priced by pricing: this step only
    logs that it goes on. Not once the saga is being undone: a reservation made then
    would outlive the compensation that already looked for it.
    """
    base, discount_eligible, booking_id = (
        priced.base_price,
        priced.discount_eligible,
        priced.booking_id,
    )
    with events.saga_step(
        "quotas.reserve", correlation_id, once_per_saga=(ONE_RESERVATION_PER_SAGA,)
    ):
        if not discount_eligible:
            reserved = False
        else:
            day = priced.clinic_day
            reserved = _take_one(day)
            if reserved:
                QuotaReservation.objects.create(
                    correlation_id=correlation_id,
                    quota_id=day,  # the day is the quota row's key
                    booking_id=booking_id,
                )
        discount = percent_of(base, priced.discount_percent) if reserved else Decimal("0.00")
        final_price = base - discount
        quota_exhausted = discount_eligible and not reserved
        if discount_eligible:
            going_on = Booking.objects.filter(
                pk=booking_id, status=BookingStatus.PENDING, compensating=False
            ).update(
                discount_applied=reserved,
                quota_exhausted=quota_exhausted,
                discount_amount=discount,
                final_price=final_price,
                updated_at=timezone.now(),
            )
            if not going_on:
                raise events.StepAbandoned  # rolls the day's unit back with the step
        events.emit(
            events.DiscountQuotaReserved(
                discount_applied=reserved,
                quota_exhausted=quota_exhausted,
                discount_amount=discount,
                final_price=final_price,
            ),
            correlation_id=correlation_id,
        )


def _take_one(day: date) -> bool:
    """The one statement that decides R2. Its row lock lasts only this short step."""
    take = DiscountQuota.objects.filter(day=day, used__lt=F("limit"))
    if take.update(used=F("used") + 1):
        return True
    if DiscountQuota.objects.filter(day=day).exists():
        return False  # the day's discounts are all taken
    ensure_day(day)  # the day's first discount: create its row, then try again
    return bool(take.update(used=F("used") + 1))


def release_discount(*, correlation_id: UUID) -> None:
    """Give back this saga's discount unit, if it holds one. Exact and idempotent."""
    with events.saga_step("quotas.release", correlation_id):
        if not Booking.objects.filter(correlation_id=correlation_id, compensating=True).exists():
            return  # confirmation won the race: the discount is rightly used
        _give_back(correlation_id=correlation_id)


def release_on_cancellation(*, correlation_id: UUID, requested_on: date) -> None:
    """A cancelled booking's discount goes back to its day's quota only when cancelled
    on that same clinic day: a later day's quota is another day's."""
    with events.saga_step("quotas.release_on_cancel", correlation_id):
        _give_back(correlation_id=correlation_id, only_day=requested_on)


def _give_back(*, correlation_id: UUID, only_day: date | None = None) -> None:
    """Release this saga's live reservation (of `only_day`, if given). Exact and idempotent."""
    live = QuotaReservation.objects.filter(correlation_id=correlation_id, released_at__isnull=True)
    if only_day is not None:
        live = live.filter(quota_id=only_day)
    reservation = live.first()
    if reservation is None:
        return
    # Conditional on still being live, so two releases can never both count.
    if not QuotaReservation.objects.filter(pk=reservation.pk, released_at__isnull=True).update(
        released_at=timezone.now()
    ):
        return
    DiscountQuota.objects.filter(pk=reservation.quota_id).update(used=F("used") - 1)
    events.emit(
        events.DiscountQuotaReleased(quota_day=reservation.quota_id),
        correlation_id=correlation_id,
    )


def set_daily_limit(*, day: date, limit: int, actor: str) -> DiscountQuota:
    """Change one day's limit; never below the discounts it has already granted."""
    if limit < 0:
        raise ValidationError({"limit": "The limit cannot be negative."})

    def not_below_used(quota: DiscountQuota) -> None:
        if limit < quota.used:
            raise ValidationError(
                {
                    "limit": f"{quota.used} discounts are already granted on {day}; "
                    f"the limit cannot be lower than that."
                }
            )

    ensure_day(day)
    return change_setting(
        row=DiscountQuota.objects.filter(day=day),
        field="limit",
        value=limit,
        actor=actor,
        action="quota.limit_changed",
        context={"day": day.isoformat()},
        check=not_below_used,
    )


def quota_for_day(day: date) -> DiscountQuota:
    """The day's quota as it stands; a day with no discount yet is shown unsaved (a read
    must not write)."""
    quota = DiscountQuota.objects.filter(day=day).first()
    if quota is None:
        quota = DiscountQuota(day=day, limit=QuotaSettings.current().default_daily_limit, used=0)
    return quota


def day_resets_at(day: date) -> datetime:
    """The moment the clinic day ends: next midnight in the clinic's zone."""
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def set_default_daily_limit(*, limit: int, actor: str) -> QuotaSettings:
    """Change the limit new clinic days start with (days already begun keep theirs); audited."""
    if limit < 0:
        raise ValidationError({"default_daily_limit": "The limit cannot be negative."})
    # The row exists before it is locked (a flushed test database has none).
    QuotaSettings.objects.get_or_create(pk=QuotaSettings.SINGLETON_ID)
    return change_setting(
        row=QuotaSettings.objects.filter(pk=QuotaSettings.SINGLETON_ID),
        field="default_daily_limit",
        value=limit,
        actor=actor,
        action="quota.default_limit_changed",
    )
