"""Reads of payments that the edges share: the front desk's day close, the refunds
waiting for their patients at the desk, and online captures on their way back."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from uuid import UUID

from django.db.models import Count, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from payments.models import (
    DESK_METHODS,
    CashReceipt,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundStatus,
    ReversedCapture,
)

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Drawer:
    """One receptionist's cash on one clinic day."""

    receptionist: str
    payments: int = 0
    taken: Decimal = ZERO
    refunds: int = 0
    refunded: Decimal = ZERO

    @property
    def should_hold(self) -> Decimal:
        """What the drawer should hold from the day: cash taken less cash handed back."""
        return self.taken - self.refunded


def clinic_day_span(day: date) -> tuple[datetime, datetime]:
    """The clinic day (IST) as an instant range: [00:00, next day's 00:00)."""
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def cash_day_close(*, day: date, receptionist: str | None = None) -> list[Drawer]:
    """Per receptionist, on the clinic `day`: the cash payments they took (captured: a
    booking that failed took none) and the cash refunds they handed back, by username.
    `receptionist` limits it to one. Two queries."""
    start, end = clinic_day_span(day)
    received_by = CashReceipt.objects.filter(correlation_id=OuterRef("correlation_id")).values(
        "received_by"
    )[:1]
    taken = (
        Payment.objects.filter(
            method=PaymentMethod.CASH,
            status=PaymentStatus.CAPTURED,
            amount__gt=0,
            created_at__gte=start,
            created_at__lt=end,
        )
        .annotate(receptionist=Subquery(received_by))
        .values("receptionist")
        .annotate(count=Count("pk"), total=Sum("amount"))
        .order_by()
    )
    handed_back = (
        Refund.objects.filter(
            payment__method=PaymentMethod.CASH,
            status=RefundStatus.REFUNDED,
            refunded_at__gte=start,
            refunded_at__lt=end,
        )
        .exclude(handed_back_by="")  # in nobody's drawer
        .values("handed_back_by")
        .annotate(count=Count("pk"), total=Sum("amount"))
        .order_by()
    )
    if receptionist is not None:
        taken = taken.filter(receptionist=receptionist)
        handed_back = handed_back.filter(handed_back_by=receptionist)
    drawers: dict[str, Drawer] = {}
    for row in taken:
        name = row["receptionist"] or ""
        drawers[name] = Drawer(name, payments=row["count"], taken=row["total"])
    for back in handed_back:
        name = back["handed_back_by"]
        before = drawers.get(name, Drawer(name))
        drawers[name] = Drawer(
            name, before.payments, before.taken, refunds=back["count"], refunded=back["total"]
        )
    return sorted(drawers.values(), key=lambda d: d.receptionist)


def refunds_waiting_at_desk() -> QuerySet[Refund]:
    """Refunds of cash and counter card payments whose patients cancelled themselves,
    not handed back yet (oldest first), each with its payment and booking."""
    return (
        Refund.objects.filter(
            status=RefundStatus.PENDING, handed_back_by="", payment__method__in=DESK_METHODS
        )
        .select_related("payment__booking")
        .order_by("created_at")
    )


def owed_at_desk() -> dict[str, int | Decimal]:
    """What the desk still owes patients (refunds_waiting_at_desk): `count` and
    `total`. One query."""
    return (
        refunds_waiting_at_desk()
        .order_by()
        .aggregate(count=Count("pk"), total=Coalesce(Sum("amount"), ZERO))
    )


def captured_on_its_way_back(*, correlation_id: UUID) -> Decimal:
    """What this saga captured online and is refunding without the gateway having
    processed it yet (pending in the bank's time, or failed for staff to settle)."""
    unsettled = ReversedCapture.objects.filter(correlation_id=correlation_id).exclude(
        status=RefundStatus.REFUNDED
    )
    return unsettled.aggregate(total=Coalesce(Sum("amount"), ZERO))["total"]
