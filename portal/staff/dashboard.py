"""Today at a glance, for the admin's front page. Reads only; never creates a row."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone

from bookings.models import Booking, BookingStatus
from notifications.sender import delivery_unknown
from payments.models import Payment, PaymentStatus, Refund, RefundStatus, ReversedCapture
from quotas.models import DiscountQuota, QuotaSettings


@dataclass(frozen=True)
class TodayAtAGlance:
    day: date
    bookings_by_status: dict[str, int]  # every status, zero included
    revenue_collected: Decimal  # payments taken today, captured, less what refunds gave back
    discounts_granted: int
    discount_limit: int
    payments_failed: int
    # Messages a dead worker interrupted that no provider could settle: staff decide.
    deliveries_unknown: int = 0
    # Today's visits (visit_date today, whenever booked), by what became of them.
    visits_by_status: dict[str, int] = field(default_factory=dict)
    # Money owed back that has not reached the patient, whatever day it was asked for:
    # refunds the gateway refused (staff act) and ones it has not processed yet
    # (cancellations' refunds and reversed captures together).
    refunds_failed: int = 0
    refunds_pending: int = 0

    @property
    def refunds_unsettled(self) -> int:
        return self.refunds_failed + self.refunds_pending

    @property
    def visits_total(self) -> int:
        return sum(self.visits_by_status.values())

    @property
    def bookings_total(self) -> int:
        """Real bookings: a failed attempt charged nothing and is counted apart."""
        return sum(n for s, n in self.bookings_by_status.items() if s != BookingStatus.FAILED)

    @property
    def attempts_not_charged(self) -> int:
        return self.bookings_by_status[BookingStatus.FAILED]

    @property
    def discounts_remaining(self) -> int:
        return max(self.discount_limit - self.discounts_granted, 0)


VISIT_STATUSES = (
    BookingStatus.CONFIRMED,  # expected
    BookingStatus.COMPLETED,  # came (checked in)
    BookingStatus.NO_SHOW,
    BookingStatus.CANCELLED,
)


def today_at_a_glance(day: date) -> TodayAtAGlance:
    visits = dict(
        Booking.objects.filter(visit_date=day, status__in=VISIT_STATUSES)
        .values_list("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = dict(
        Booking.objects.filter(clinic_day=day)
        .values_list("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    start = timezone.make_aware(datetime.combine(day, time.min))
    end = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))
    payments = Payment.objects.filter(created_at__gte=start, created_at__lt=end).aggregate(
        revenue=Sum("amount", filter=Q(status=PaymentStatus.CAPTURED)),
        failed=Count("pk", filter=Q(status=PaymentStatus.DECLINED)),
    )
    # Money a cancellation gave back of those payments is no longer collected (a refund
    # still pending or refused is: the clinic holds it until the gateway says otherwise).
    refunded = Refund.objects.filter(
        status=RefundStatus.REFUNDED,
        payment__status=PaymentStatus.CAPTURED,
        payment__created_at__gte=start,
        payment__created_at__lt=end,
    ).aggregate(total=Sum("amount"))["total"] or Decimal("0.00")
    unsettled = _unsettled_refunds()
    quota = DiscountQuota.objects.filter(day=day).values("used", "limit").first()
    if quota is None:  # no discount asked for yet today: the day starts with the default
        quota = {"used": 0, "limit": QuotaSettings.current().default_daily_limit}
    return TodayAtAGlance(
        day=day,
        bookings_by_status={s: counts.get(s, 0) for s in BookingStatus.values},
        revenue_collected=(payments["revenue"] or Decimal("0.00")) - refunded,
        discounts_granted=quota["used"],
        discount_limit=quota["limit"],
        payments_failed=payments["failed"],
        deliveries_unknown=delivery_unknown().count(),
        visits_by_status={s: visits.get(s, 0) for s in VISIT_STATUSES},
        refunds_failed=unsettled.get(RefundStatus.FAILED, 0),
        refunds_pending=unsettled.get(RefundStatus.PENDING, 0),
    )


def _unsettled_refunds() -> dict[str, int]:
    """Refunds and reversed captures still pending or failed, by status (one query)."""
    open_statuses = (RefundStatus.PENDING, RefundStatus.FAILED)
    refunds = Refund.objects.filter(status__in=open_statuses).values_list("status")
    reversals = ReversedCapture.objects.filter(status__in=open_statuses).values_list("status")
    counts: dict[str, int] = {}
    for (status,) in refunds.union(reversals, all=True):
        counts[status] = counts.get(status, 0) + 1
    return counts
