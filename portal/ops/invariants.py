"""DESIGN.md's invariants, checked on the live database: used by `manage.py
check_saga_invariants`, the tests and the bench."""

from datetime import timedelta
from itertools import islice
from uuid import UUID

from django.conf import settings
from django.db.models import Count, F, Max, Q
from django.utils import timezone

from bookings import events
from bookings.models import Booking, BookingStatus, SagaEvent
from payments.gateway import SimulatedGateway, get_gateway
from payments.models import (
    DESK_METHODS,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundStatus,
    ReversedCapture,
    SimulatedGatewayCharge,
    SimulatedGatewayRefund,
)
from portal.ops.billing_invariants import billing_violations
from quotas.models import DiscountQuota
from scheduling.models import Slot


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
    slots = Slot.objects.annotate(
        live=Count("slot_bookings", filter=Q(slot_bookings__released_at__isnull=True))
    ).filter(Q(booked__gt=0) | Q(live__gt=0))
    for slot in slots.filter(~Q(booked=F("live")) | Q(booked__gt=F("capacity"))):
        found.append(
            f"slot {slot.pk}: booked={slot.booked}, live slot bookings={slot.live}, "
            f"capacity={slot.capacity}"
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
    ended = Booking.objects.filter(status__in=[BookingStatus.FAILED, BookingStatus.CANCELLED])
    for booking in ended.filter(
        slot_bookings__isnull=False, slot_bookings__released_at__isnull=True
    ):
        found.append(f"booking {booking.pk} is {booking.status} but still holds a place in a slot")
    found += _appointments_held_where_they_show()
    for booking in failed.filter(payment__status__in=[PaymentStatus.CAPTURED]):
        found.append(f"booking {booking.pk} failed but its payment is captured and not refunded")
    for booking in failed.filter(payment__status=PaymentStatus.PENDING):
        # The charge's outcome was never settled: the gateway may hold the money.
        found.append(f"booking {booking.pk} failed but its payment's outcome is still unknown")
    found += _money_the_gateway_holds_without_a_record()
    found += _cancellations_refunded_as_the_policy_gave()
    found += _cancellations_stuck_half_way()
    found += _online_payments_settled()
    found += billing_violations()  # issue 24: receipts and refund notes
    deadline = timezone.now() - timedelta(seconds=settings.SAGA_HARD_DEADLINE_SECONDS)
    for booking in Booking.objects.filter(status=BookingStatus.PENDING, created_at__lt=deadline):
        found.append(f"booking {booking.pk} is still pending past the saga deadline")
    return found


def _appointments_held_where_they_show() -> list[str]:
    """A confirmed booking that took a slot (and any it was moved to since) holds exactly
    one live place, and it is the one whose time the booking's copy shows."""
    live = Q(slot_bookings__released_at__isnull=True)
    appointments = (
        Booking.objects.filter(status=BookingStatus.CONFIRMED, slot_bookings__isnull=False)
        .annotate(
            live=Count("slot_bookings", filter=live, distinct=True),
            live_start=Max("slot_bookings__slot__start", filter=live),
        )
        .filter(~Q(live=1) | ~Q(live_start=F("appointment_start")))
    )
    return [
        f"booking {b.pk} is confirmed with {b.live} live place(s), not one at its time "
        f"{b.appointment_start}"
        for b in appointments
    ]


def _money_the_gateway_holds_without_a_record() -> list[str]:
    """Every charge the (simulated) gateway kept is a captured payment of ours.

    The simulator's ledger is the gateway's side of the books (its keys are our
    correlation ids); with a real gateway this table is empty: nothing to compare.
    """
    kept = (
        SimulatedGatewayCharge.objects.filter(captured=True, refund_reference="")
        .only("idempotency_key", "amount", "reference")
        .iterator(chunk_size=2000)
    )
    found = []
    while chunk := list(islice(kept, 2000)):
        recorded = {
            str(key)
            for key in Payment.objects.filter(
                status=PaymentStatus.CAPTURED, correlation_id__in=_uuids(chunk)
            ).values_list("correlation_id", flat=True)
        }
        found += [
            f"the gateway holds ₹{charge.amount} ({charge.reference}) that no captured "
            "payment records"
            for charge in chunk
            if charge.idempotency_key not in recorded
        ]
    return found


def _uuids(charges: list[SimulatedGatewayCharge]) -> list[UUID]:
    keys = []
    for charge in charges:
        try:
            keys.append(UUID(charge.idempotency_key))
        except ValueError:
            continue  # not one of ours: reported as unrecorded
    return keys


def _cancellations_refunded_as_the_policy_gave() -> list[str]:
    """A cancelled booking's refund is what its CancellationRequested promised, and the
    gateway's ledger holds exactly our refunds. A refund still pending is on its way
    (retried by recovery) unless it is past the saga deadline unanswered (one the gateway
    accepted is processed in the bank's time, asked about every minute); a failed one
    needs staff."""
    found = []
    deadline = timezone.now() - timedelta(seconds=settings.SAGA_HARD_DEADLINE_SECONDS)
    promised = {
        row.correlation_id: events.payload_of(row, events.CancellationRequested).refund_amount
        for row in SagaEvent.objects.filter(
            event_type=events.CancellationRequested.name,
            correlation_id__in=Booking.objects.filter(status=BookingStatus.CANCELLED).values(
                "correlation_id"
            ),
        )
    }
    refunds = {
        r.correlation_id: r
        for r in Refund.objects.filter(correlation_id__in=promised).select_related("payment")
    }
    for correlation_id, amount in promised.items():
        refund = refunds.get(correlation_id)
        if refund is None:
            if amount:
                found.append(f"cancellation {correlation_id} promised ₹{amount}, no refund")
        elif refund.amount != amount:
            found.append(
                f"cancellation {correlation_id} promised ₹{amount}, refund ₹{refund.amount}"
            )
        elif refund.status == RefundStatus.FAILED:
            found.append(f"cancellation {correlation_id}: the gateway refused its refund")
        elif (
            refund.status == RefundStatus.PENDING
            and not refund.gateway_reference  # one the gateway accepted takes the bank's days
            and not refund.waits_at_desk  # handed over when the patient comes
            and refund.created_at < deadline
        ):
            found.append(f"cancellation {correlation_id}: refund still pending past the deadline")
    ours = {
        r.idempotency_key: r
        for r in Refund.objects.filter(status=RefundStatus.REFUNDED).select_related("payment")
    }
    theirs = {
        kept.idempotency_key: kept
        for kept in SimulatedGatewayRefund.objects.filter(idempotency_key__startswith="cancel-")
    }
    for key, kept in theirs.items():
        if key not in ours or ours[key].amount != kept.amount:
            found.append(
                f"the gateway refunded ₹{kept.amount} ({kept.reference}) we never recorded"
            )
    if _the_gateway_is_simulated():
        # The other way round: a refund we mark refunded went back at the gateway, in full.
        # (Cash is handed back at the desk; a real gateway's books are not in this database.)
        for key, refund in ours.items():
            if refund.payment.method in DESK_METHODS:
                continue
            at_gateway = theirs.get(key)
            if at_gateway is None:
                found.append(
                    f"cancellation {refund.correlation_id}: refund of ₹{refund.amount} marked "
                    "refunded, but the gateway has no such refund"
                )
            elif at_gateway.amount != refund.amount:
                found.append(
                    f"cancellation {refund.correlation_id}: refund of ₹{refund.amount} marked "
                    f"refunded, but the gateway refunded ₹{at_gateway.amount}"
                )
    return found


def _the_gateway_is_simulated() -> bool:
    return isinstance(get_gateway(), SimulatedGateway)


def _cancellations_stuck_half_way() -> list[str]:
    """A cancellation requested but whose booking is still confirmed past the saga deadline:
    its saga stopped and recovery has not finished it (the slot, discount or refund may
    still be held)."""
    deadline = timezone.now() - timedelta(seconds=settings.SAGA_HARD_DEADLINE_SECONDS)
    stuck = Booking.objects.filter(
        status=BookingStatus.CONFIRMED, cancellation_requested_at__lt=deadline
    ).only("pk", "cancellation_requested_at")
    return [
        f"booking {b.pk}: cancellation requested at {b.cancellation_requested_at:%Y-%m-%d %H:%M} "
        "UTC, still confirmed past the saga deadline"
        for b in stuck
    ]


# Reconciliation runs every minute; one missed run is allowed before it is a violation.
RECONCILIATION_GRACE = timedelta(minutes=2)


def _online_payments_settled() -> list[str]:
    """DESIGN.md: no booking awaits payment past its expiry plus the reconciliation
    interval, and a capture a booking does not keep is refunded (not failed, not left
    unanswered past the saga deadline)."""
    now = timezone.now()
    found = [
        f"booking {p.booking_id} still awaits payment, expired at {p.expires_at:%Y-%m-%d %H:%M} UTC"
        for p in Payment.objects.filter(
            method=PaymentMethod.ONLINE,
            booking__status=BookingStatus.AWAITING_PAYMENT,
            expires_at__lt=now - RECONCILIATION_GRACE,
        ).only("booking_id", "expires_at")
    ]
    deadline = now - timedelta(seconds=settings.SAGA_HARD_DEADLINE_SECONDS)
    # A refund the gateway accepted (its id recorded) is processed in the bank's time.
    unrefunded = ReversedCapture.objects.filter(
        Q(status=RefundStatus.FAILED)
        | Q(status=RefundStatus.PENDING, created_at__lt=deadline, refund_reference="")
    )
    found += [
        f"capture {r.gateway_payment_id} of booking saga {r.correlation_id} was not kept "
        f"({r.reason}) and is {r.status}, not refunded"
        for r in unrefunded
    ]
    return found
