"""Slots: generated from the weekly schedules when a day is first needed, taken by one
conditional UPDATE with the booking request, given back exactly once on compensation."""

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from bookings import events
from bookings.models import Booking
from bookings.services import clinic_today
from scheduling.models import (
    ScheduleException,
    Slot,
    SlotBooking,
    SlotDay,
    WeeklySchedule,
)


class SlotUnavailable(Exception):
    """The slot is full, past, closed or unknown: nothing was booked (a 409)."""


class SlotsStillBooked(ValidationError):
    """Leave would cover slots patients hold; staff must move or cancel them first."""

    def __init__(self, bookings: list[SlotBooking]):
        self.bookings = bookings
        listed = "; ".join(
            f"{timezone.localtime(sb.slot.start):%d %b %H:%M} {sb.booking.patient_name} "
            f"(booking {sb.booking_id})"
            for sb in bookings
        )
        super().__init__(
            f"{len(bookings)} booked appointment(s) fall in this time; move or cancel them "
            f"first: {listed}"
        )


def clinic_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The clinic day's first instant and the next day's (IST), whatever the server's TZ."""
    zone = clinic_zone()
    return (
        datetime.combine(day, time.min, tzinfo=zone),
        datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone),
    )


def horizon_days() -> tuple[date, date]:
    """The first and last clinic days a slot may be booked on."""
    today = clinic_today()
    return today, today + timedelta(days=settings.BOOKING_HORIZON_DAYS)


def ensure_slots(day: date) -> None:
    """Create the day's slots from the schedules if nobody has yet; race-free.

    INSERT … ON CONFLICT DO NOTHING on (practitioner, start): two requests generating
    the same day at once write each slot once. A day done before costs one query.
    Slots overlapping leave or a clinic holiday are not created.
    """
    if SlotDay.objects.filter(day=day).exists():
        return
    first, after = day_bounds(day)
    closed = list(
        ScheduleException.objects.filter(start__lt=after, end__gt=first).values_list(
            "practitioner_id", "start", "end"
        )
    )
    schedules = WeeklySchedule.objects.filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=day),
        weekday=day.weekday(),
        valid_from__lte=day,
        practitioner__active=True,
    )
    zone = clinic_zone()
    slots = []
    for schedule in schedules:
        step = timedelta(minutes=schedule.slot_minutes)
        start = datetime.combine(day, schedule.start, tzinfo=zone)
        stop = datetime.combine(day, schedule.end, tzinfo=zone)
        while start + step <= stop:
            end = start + step
            if not any(
                (who is None or who == schedule.practitioner_id) and s < end and start < e
                for who, s, e in closed
            ):
                slots.append(
                    Slot(
                        practitioner_id=schedule.practitioner_id,
                        start=start,
                        end=end,
                        capacity=schedule.capacity,
                    )
                )
            start = end
    Slot.objects.bulk_create(slots, ignore_conflicts=True, batch_size=1000)
    SlotDay.objects.bulk_create([SlotDay(day=day)], ignore_conflicts=True)


def ensure_slots_between(first: date, last: date) -> None:
    day = first
    while day <= last:
        ensure_slots(day)
        day += timedelta(days=1)


def schedules_changed() -> None:
    """Let the coming days pick up a changed schedule: their missing slots are added when
    next needed. Existing slots are kept (a booked one is never removed silently); hours
    taken away are closed with leave."""
    SlotDay.objects.filter(day__gte=clinic_today()).delete()


def check_slot_serves(*, slot_id: int, service_ids: Iterable[int]) -> None:
    """Refuse (400) a slot whose practitioner does not provide every given service;
    an unknown slot or one of an inactive practitioner is unavailable (409)."""
    slot = Slot.objects.select_related("practitioner").filter(pk=slot_id).first()
    if slot is None or not slot.practitioner.active:
        raise SlotUnavailable(f"Slot {slot_id} does not exist.")
    wanted = set(service_ids)
    provided = set(slot.practitioner.services.filter(pk__in=wanted).values_list("pk", flat=True))
    missing = sorted(wanted - provided)
    if missing:
        raise ValidationError(
            {
                "slot_id": f"{slot.practitioner.name} does not provide service "
                f"{', '.join(map(str, missing))}; choose a slot of a practitioner who does."
            }
        )


def take_slot(*, slot_id: int, booking_id: UUID, correlation_id: UUID) -> Slot:
    """Take one place in the slot for this saga, inside the caller's transaction.

    One conditional UPDATE decides (its row lock lasts until the booking request
    commits, a few milliseconds); a full, past or closed slot raises SlotUnavailable
    so the caller's whole transaction, booking included, rolls back. The booking
    gets its own copy of the appointment's times.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("take_slot must run in the booking request's transaction")
    held = SlotBooking.objects.filter(correlation_id=correlation_id).select_related("slot").first()
    if held is not None:  # the same request sent again (its request key): already taken
        return held.slot
    taken = Slot.objects.filter(
        pk=slot_id, booked__lt=F("capacity"), start__gt=timezone.now()
    ).update(booked=F("booked") + 1)
    if not taken:
        raise SlotUnavailable(f"Slot {slot_id} is full, past or unknown.")
    slot = Slot.objects.only("pk", "start", "end", "practitioner_id").get(pk=slot_id)
    SlotBooking.objects.create(slot=slot, correlation_id=correlation_id, booking_id=booking_id)
    Booking.objects.filter(pk=booking_id).update(
        visit_date=timezone.localtime(slot.start, clinic_zone()).date(),
        appointment_start=slot.start,
        appointment_end=slot.end,
        updated_at=timezone.now(),
    )
    return slot


def release_slot(*, correlation_id: UUID) -> None:
    """Give back this saga's place, if it holds one. Exact and idempotent."""
    with events.saga_step("scheduling.release", correlation_id):
        # Only a booking being undone (events.mark_compensating): a confirmed one never
        # is, so its place is never given back here.
        if not Booking.objects.filter(correlation_id=correlation_id, compensating=True).exists():
            return  # confirmation won the race: the place is rightly used
        _give_back(correlation_id=correlation_id)


def release_on_cancellation(*, correlation_id: UUID) -> None:
    """A cancelled booking gives its place back at once (another patient may take it)."""
    with events.saga_step("scheduling.release_on_cancel", correlation_id):
        _give_back(correlation_id=correlation_id)


def _give_back(*, correlation_id: UUID) -> None:
    """Release this saga's live place, if it holds one. Exact and idempotent."""
    held = (
        SlotBooking.objects.filter(correlation_id=correlation_id, released_at__isnull=True)
        .only("pk", "slot_id")
        .first()
    )
    if held is None:
        return
    # Conditional on still being live, so two releases can never both count.
    if not SlotBooking.objects.filter(pk=held.pk, released_at__isnull=True).update(
        released_at=timezone.now()
    ):
        return
    Slot.objects.filter(pk=held.slot_id).update(booked=F("booked") - 1)
    events.emit(events.SlotReleased, correlation_id=correlation_id, slot_id=held.slot_id)


def close_slots(*, practitioner_id: int | None, start: datetime, end: datetime) -> int:
    """Close the slots that leave (or a clinic holiday) covers, in the caller's transaction.

    Unbooked slots get capacity 0 by one conditional UPDATE, so a patient taking one
    at the same moment either wins first (and the leave is refused) or finds it full.
    Raises SlotsStillBooked, listing the bookings, when patients hold covered slots;
    nothing is changed then.
    """
    first_day = max(timezone.localtime(start, clinic_zone()).date(), clinic_today())
    last_day = min(timezone.localtime(end, clinic_zone()).date(), horizon_days()[1])
    ensure_slots_between(first_day, last_day)  # slots generated later would skip the leave
    with transaction.atomic():
        covered = Slot.objects.filter(start__lt=end, end__gt=start)
        if practitioner_id is not None:
            covered = covered.filter(practitioner_id=practitioner_id)
        closed = covered.filter(booked=0).update(capacity=0)
        holders = list(
            SlotBooking.objects.filter(slot__in=covered.filter(booked__gt=0), released_at=None)
            .select_related("slot", "booking")
            .order_by("slot__start")
        )
        if holders:
            raise SlotsStillBooked(holders)  # rolls the closing back
    return closed
