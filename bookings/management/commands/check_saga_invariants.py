"""Check DESIGN.md's invariants on the live database; exit 1 if any is broken."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, F, Q
from django.utils import timezone

from bookings.models import Booking, BookingStatus
from payments.models import PaymentStatus
from quotas.models import DiscountQuota


def find_violations() -> list[str]:
    found: list[str] = []
    days = DiscountQuota.objects.annotate(
        live=Count("reservations", filter=Q(reservations__released_at__isnull=True))
    )
    for quota in days.filter(~Q(used=F("live")) | Q(used__gt=F("limit"))):
        found.append(
            f"quota {quota.day}: used={quota.used}, live reservations={quota.live}, "
            f"limit={quota.limit}"
        )
    confirmed = Booking.objects.filter(status=BookingStatus.CONFIRMED).select_related("payment")
    for booking in confirmed.exclude(
        payment__status=PaymentStatus.CAPTURED, payment__amount=F("final_price")
    ):
        found.append(
            f"booking {booking.pk} is confirmed without one captured payment of its final price"
        )
    failed = Booking.objects.filter(status=BookingStatus.FAILED)
    for booking in failed.filter(
        quota_reservations__isnull=False, quota_reservations__released_at__isnull=True
    ):
        found.append(f"booking {booking.pk} failed but still holds a discount reservation")
    for booking in failed.filter(payment__status__in=[PaymentStatus.CAPTURED]):
        found.append(f"booking {booking.pk} failed but its payment is captured and not refunded")
    for booking in failed.filter(payment__status=PaymentStatus.PENDING):
        # The charge's outcome was never settled: the gateway may hold the money.
        found.append(f"booking {booking.pk} failed but its payment's outcome is still unknown")
    deadline = timezone.now() - timedelta(seconds=settings.SAGA_HARD_DEADLINE_SECONDS)
    for booking in Booking.objects.filter(status=BookingStatus.PENDING, created_at__lt=deadline):
        found.append(f"booking {booking.pk} is still pending past the saga deadline")
    return found


class Command(BaseCommand):
    help = "Check the saga's invariants (quota counts, payments of confirmed and failed bookings)."

    def handle(self, *args, **options) -> None:
        violations = find_violations()
        for line in violations:
            self.stderr.write(line)
        if violations:
            raise CommandError(f"{len(violations)} invariant violation(s)")
        self.stdout.write(self.style.SUCCESS("All saga invariants hold."))
