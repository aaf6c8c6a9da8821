from decimal import Decimal
from typing import Any, cast
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import DecimalField, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.db.models.sql import UpdateQuery
from django.utils import timezone

from bookings import events
from bookings.models import AuditLog, Booking, BookingStatus
from bookings.services import change_setting
from pricing.models import CancellationPolicy, DiscountSettings
from pricing.rules import discount_eligibility
from pricing.selectors import cancellation_policy


def calculate_price(*, correlation_id: UUID, requested: events.BookingRequested) -> None:
    """Rule R1: the base price and whether the booking may have the discount.

    A booking that cannot have the discount is fully priced here (final = base), so
    the quota step has nothing to change for it.
    """
    base_price = sum(requested.prices, Decimal("0.00"))
    eligible, reason = discount_eligibility(
        gender=requested.gender,
        date_of_birth=requested.date_of_birth,
        base_price=base_price,
        today=requested.clinic_day,
    )
    priced = {
        "base_price": base_price,
        "discount_eligible": eligible,
        "eligibility_reason": reason,
        # The percentage in force when the booking was priced, kept with it.
        # (The row is made on first use: until then, the field's default is in force.)
        "discount_percent": Coalesce(
            Subquery(
                DiscountSettings.objects.filter(pk=DiscountSettings.SINGLETON_ID).values(
                    "discount_percent"
                )
            ),
            Value(DiscountSettings._meta.get_field("discount_percent").default),
            output_field=DecimalField(max_digits=5, decimal_places=2),
        ),
        # The cancellation policy it is sold under: a later change never alters it.
        "cancellation_policy_version": Subquery(
            CancellationPolicy.objects.order_by("-id").values("id")[:1]
        ),
        "updated_at": timezone.now(),
    }
    if not eligible:
        priced.update(
            discount_applied=False,
            quota_exhausted=False,
            discount_amount=Decimal("0.00"),
            final_price=base_price,
        )
    with events.saga_step("pricing", correlation_id):
        returned = _update_returning(
            Booking.objects.filter(
                pk=requested.booking_id, status=BookingStatus.PENDING, compensating=False
            ),
            priced,
            returning=("discount_percent", "cancellation_policy_version"),
        )
        if returned is _NO_ROW:
            return  # the saga is being undone: no step forward
        percent, policy_version = returned
        events.emit(
            events.PricingCalculated(
                booking_id=requested.booking_id,
                clinic_day=requested.clinic_day,
                base_price=base_price,
                discount_eligible=eligible,
                eligibility_reason=reason,
                discount_percent=_money_percent(percent),
                cancellation_policy_version=policy_version,
            ),
            correlation_id=correlation_id,
        )


_NO_ROW = object()


def _update_returning(rows: QuerySet, values: dict[str, Any], *, returning: tuple[str, ...]) -> Any:
    """`rows.update(**values)`, also handing back columns of the row changed (a tuple, or
    _NO_ROW): the subqueries' results without a second statement. The ORM writes the
    UPDATE; RETURNING (PostgreSQL, and SQLite since 3.35) is added to it."""
    # chain(klass) makes a `klass`; the stubs say a plain Query.
    query = cast(UpdateQuery, rows.query.chain(UpdateQuery))
    query.add_update_values(values)
    update, params = query.get_compiler(rows.db).as_sql()
    columns = ", ".join(
        connection.ops.quote_name(rows.model._meta.get_field(name).column) for name in returning
    )
    with connection.cursor() as cursor:
        cursor.execute(f"{update} RETURNING {columns}", params)
        row = cursor.fetchone()
    return _NO_ROW if row is None else tuple(row)


def _money_percent(value: Any) -> Decimal:
    # SQLite hands a DECIMAL column back as a float or an int.
    return Decimal(str(value)).quantize(Decimal("0.01"))


def set_discount_percent(*, percent: Decimal, actor: str) -> DiscountSettings:
    """Change the discount percentage (0–100) for bookings priced from now on; audited."""
    if not Decimal(0) <= percent <= Decimal(100):
        raise ValidationError({"discount_percent": "The percentage must be between 0 and 100."})
    percent = percent.quantize(Decimal("0.01"))
    # The row exists before it is locked (a flushed test database has none).
    DiscountSettings.objects.get_or_create(pk=DiscountSettings.SINGLETON_ID)
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
