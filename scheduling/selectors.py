"""Reads of the schedule used by the API, the patient pages and the front desk."""

from collections.abc import Sequence
from datetime import date, timedelta
from uuid import UUID

from django.db.models import (
    Count,
    DurationField,
    F,
    Func,
    Max,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from bookings.models import Booking, BookingStatus, MedicalService
from scheduling.models import Practitioner, Slot, SlotBooking, WalkInAssignment
from scheduling.services import clinic_zone, day_bounds, ensure_slots


def active_practitioners() -> QuerySet[Practitioner]:
    return Practitioner.objects.filter(active=True).prefetch_related("services").order_by("name")


def practitioners_providing(service_ids: Sequence[int]) -> QuerySet:
    """Ids of the practitioners who provide every one of `service_ids` (a subquery)."""
    ids = set(service_ids)
    return (
        Practitioner.services.through.objects.filter(medicalservice_id__in=ids)
        .values("practitioner_id")
        .annotate(n=Count("medicalservice_id", distinct=True))
        .filter(n=len(ids))  # type: ignore[misc]  # the plugin misses annotate()'s `n`
        .values("practitioner_id")
    )


def long_enough_for(slots: QuerySet[Slot], service_ids: Sequence[int]) -> QuerySet[Slot]:
    """Only slots at least as long as the longest of the services that need one (MRI, 45
    minutes, is never offered a 30-minute slot). A subquery: no statement more."""
    longest = (
        MedicalService.objects.filter(pk__in=set(service_ids), requires_appointment=True)
        .order_by()
        .values("requires_appointment")
        .annotate(minutes=Max("duration_minutes"))
        .values("minutes")
    )
    return slots.filter(end__gte=F("start") + Minutes(Coalesce(Subquery(longest), 0)))


class Minutes(Func):
    """A whole number of minutes as a duration. `n * interval '1 minute'` is PostgreSQL's
    alone (SQLite refuses it: `make run` answered /api/slots with a 500)."""

    output_field = DurationField()

    def as_postgresql(self, compiler, connection, **extra_context):
        template = "make_interval(mins => %(expressions)s)"
        return self.as_sql(compiler, connection, template=template, **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        # Django keeps a duration on SQLite as a count of microseconds.
        template = "(%(expressions)s * 60000000)"
        return self.as_sql(compiler, connection, template=template, **extra_context)


def bookable_slots(
    *, day: date, practitioner_id: int | None = None, service_ids: Sequence[int] = ()
) -> QuerySet[Slot]:
    """The day's slots that start in the future and have a free place, by start.

    Two queries once the day exists (its marker, the slots with their practitioner),
    however many practitioners there are.
    """
    ensure_slots(day)
    first, after = day_bounds(day)
    slots = (
        Slot.objects.filter(
            start__gte=max(first, timezone.now()),
            start__lt=after,
            booked__lt=F("capacity"),
            practitioner__active=True,
        )
        .select_related("practitioner")
        .order_by("start", "practitioner__name", "pk")
    )
    if practitioner_id is not None:
        slots = slots.filter(practitioner_id=practitioner_id)
    if service_ids:
        slots = slots.filter(practitioner_id__in=practitioners_providing(service_ids))
        slots = long_enough_for(slots, service_ids)
    return slots


def days_with_free_slots(
    *, first: date, last: date, service_ids: Sequence[int] = ()
) -> list[tuple[date, int]]:
    """(day, free times) for the days from `first` to `last` that have any, in order: the
    distinct start times with a free place, which is what a patient chooses among (two
    practitioners free at 10:00, or a slot of several places, are one time)."""
    day = first
    while day <= last:
        ensure_slots(day)
        day += timedelta(days=1)
    slots = Slot.objects.filter(
        start__gte=max(day_bounds(first)[0], timezone.now()),
        start__lt=day_bounds(last)[1],
        booked__lt=F("capacity"),
        practitioner__active=True,
    )
    if service_ids:
        slots = slots.filter(practitioner_id__in=practitioners_providing(service_ids))
        slots = long_enough_for(slots, service_ids)
    rows = (
        slots.annotate(day=TruncDate("start", tzinfo=clinic_zone()))
        .values("day")
        .annotate(free=Count("start", distinct=True))
        .order_by("day")
    )
    return [(row["day"], row["free"]) for row in rows if row["free"]]


def day_sheet(day: date, practitioner_ids: Sequence[int] | None = None) -> QuerySet[Slot]:
    """Every slot of the day (full or not) with its live bookings, for the front desk."""
    ensure_slots(day)
    first, after = day_bounds(day)
    slots = Slot.objects.filter(start__gte=first, start__lt=after).filter(
        Q(capacity__gt=0) | Q(booked__gt=0)
    )
    if practitioner_ids:
        slots = slots.filter(practitioner_id__in=practitioner_ids)
    return (
        slots.select_related("practitioner")
        .prefetch_related(
            Prefetch(
                "slot_bookings",
                queryset=SlotBooking.objects.filter(released_at__isnull=True)
                .select_related("booking__user__patient_profile")
                .order_by("created_at"),
                to_attr="live_bookings",
            )
        )
        .order_by("practitioner__name", "practitioner_id", "start")
    )


# What a practitioner's day lists: bookings that were really made (not failed or cancelled).
SEEN_STATUSES = (BookingStatus.CONFIRMED, BookingStatus.COMPLETED, BookingStatus.NO_SHOW)


def practitioners_bookings(practitioner_id: int, day: date) -> QuerySet[Booking]:
    """One practitioner's patients of one clinic day: their appointments (a live place in
    one of their slots) and the walk-ins the desk sent to them, by time (walk-ins last,
    by when they were booked)."""
    first, after = day_bounds(day)
    in_their_slots = SlotBooking.objects.filter(
        released_at__isnull=True,
        slot__practitioner_id=practitioner_id,
        slot__start__gte=first,
        slot__start__lt=after,
    ).values("booking_id")
    sent_to_them = WalkInAssignment.objects.filter(practitioner_id=practitioner_id).values(
        "booking_id"
    )
    return (
        Booking.objects.filter(visit_date=day, status__in=SEEN_STATUSES)
        .filter(Q(pk__in=in_their_slots) | Q(pk__in=sent_to_them))
        .prefetch_related("items")
        .order_by(F("appointment_start").asc(nulls_last=True), "created_at")
    )


def is_practitioners_booking(practitioner_id: int, booking_id: UUID) -> bool:
    """Whether the booking is one of this practitioner's patients (any day)."""
    return (
        SlotBooking.objects.filter(
            released_at__isnull=True, slot__practitioner_id=practitioner_id, booking_id=booking_id
        ).exists()
        or WalkInAssignment.objects.filter(
            practitioner_id=practitioner_id, booking_id=booking_id
        ).exists()
    )


def walk_in_practitioners(booking_ids: Sequence[UUID]) -> dict[UUID, Practitioner]:
    """The practitioner each of these walk-ins was sent to (the front desk's list)."""
    return {
        a.booking_id: a.practitioner
        for a in WalkInAssignment.objects.filter(booking_id__in=booking_ids).select_related(
            "practitioner"
        )
    }
