"""Slots: generated from the weekly schedules when a day is first needed, taken by one
conditional UPDATE with the booking request, given back exactly once on compensation."""

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, F, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from bookings import events
from bookings.models import AuditLog, Booking, BookingItem, BookingStatus
from bookings.services import clinic_today
from scheduling.models import (
    OpeningHours,
    Practitioner,
    ScheduleException,
    Slot,
    SlotBooking,
    SlotDay,
    WalkInAssignment,
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


def opening_hours(day: date) -> tuple[datetime, datetime] | None:
    """When the clinic's doors open and close on `day` (IST), or None when it is closed:
    its weekday closed, or a clinic holiday on that day. One query (a booking pays it)."""
    first, after = day_bounds(day)
    hours = (
        OpeningHours.objects.filter(weekday=day.weekday(), closed=False)
        .annotate(holiday=Exists(_clinic_holidays(first, after)))
        .first()
    )
    if hours is None or hours.holiday:
        return None
    zone = clinic_zone()
    return (
        datetime.combine(day, hours.opens, tzinfo=zone),
        datetime.combine(day, hours.closes, tzinfo=zone),
    )


def _clinic_holidays(first: datetime, after: datetime):
    # A holiday closes its whole day, even one covering only part of it: no half days
    # for walk-ins (a fasting test cannot wait for the afternoon).
    return ScheduleException.objects.filter(
        practitioner__isnull=True, start__lt=after, end__gt=first
    )


def _open_days(first: date, last: date) -> dict[date, tuple[datetime, datetime]]:
    """Two queries for any number of days: the weekly hours and the clinic's holidays."""
    weekly = {h.weekday: h for h in OpeningHours.objects.filter(closed=False)}
    zone = clinic_zone()
    holidays = list(
        _clinic_holidays(day_bounds(first)[0], day_bounds(last)[1]).values_list("start", "end")
    )
    days = {}
    day = first
    while day <= last:
        hours = weekly.get(day.weekday())
        start, end = day_bounds(day)
        if hours is not None and not any(s < end and e > start for s, e in holidays):
            days[day] = (
                datetime.combine(day, hours.opens, tzinfo=zone),
                datetime.combine(day, hours.closes, tzinfo=zone),
            )
        day += timedelta(days=1)
    return days


def check_walk_in_day(*, day: date) -> None:
    """A walk-in visit is for a day within the horizon the clinic is open, and for today
    only before closing; otherwise a ValidationError on `visit_date` (a 400)."""
    first, last = horizon_days()
    if not first <= day <= last:
        raise ValidationError(
            {
                "visit_date": _("Choose a day from %(first)s to %(last)s.")
                % {"first": date_format(first), "last": date_format(last)}
            }
        )
    hours = opening_hours(day)
    if hours is None:
        raise ValidationError(
            {"visit_date": _("The clinic is closed on %(day)s.") % {"day": date_format(day)}}
        )
    if day == first and timezone.now() >= hours[1]:
        closes = timezone.localtime(hours[1], clinic_zone())
        raise ValidationError(
            {
                "visit_date": _("The clinic closed at %(time)s today: choose another day.")
                % {"time": date_format(closes, "H:i")}
            }
        )


def walk_ins_over_by() -> date:
    """The last clinic day whose walk-in hours are over: today once it has closed (or if
    it does not open), otherwise yesterday. A walk-in may come any time the clinic is
    open, so only then is one who did not come a no-show."""
    today = clinic_today()
    hours = opening_hours(today)
    if hours is None or timezone.now() >= hours[1]:
        return today
    return today - timedelta(days=1)


def walk_in_days() -> list[tuple[date, tuple[datetime, datetime]]]:
    """The days a walk-in may still be booked for, in order, with their opening hours."""
    now = timezone.now()
    return [(day, hours) for day, hours in _open_days(*horizon_days()).items() if now < hours[1]]


def ensure_slots(day: date) -> None:
    """Create the day's slots from the schedules if nobody has yet; race-free.

    INSERT … ON CONFLICT DO NOTHING on (practitioner, start): two requests generating
    the same day at once write each slot once. A day done before costs one query.
    Slots overlapping leave or a clinic holiday are not created.
    """
    if SlotDay.objects.filter(day=day).exists():
        return
    first, after = day_bounds(day)
    closed = _closed_between(first, after)
    schedules = _schedules_between(day, day)
    slots = [
        Slot(practitioner_id=who, start=start, end=end, capacity=capacity)
        for who, start, end, capacity in _wanted_slots(day, schedules, closed)
    ]
    Slot.objects.bulk_create(slots, ignore_conflicts=True, batch_size=1000)
    SlotDay.objects.bulk_create([SlotDay(day=day)], ignore_conflicts=True)


def _closed_between(
    first: datetime, after: datetime
) -> list[tuple[int | None, datetime, datetime]]:
    return list(
        ScheduleException.objects.filter(start__lt=after, end__gt=first).values_list(
            "practitioner_id", "start", "end"
        )
    )


def _schedules_between(first: date, last: date) -> list[WeeklySchedule]:
    return list(
        WeeklySchedule.objects.filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=first),
            valid_from__lte=last,
            practitioner__active=True,
        ).order_by("practitioner_id", "start", "pk")
    )


def _wanted_slots(
    day: date, schedules: list[WeeklySchedule], closed: list
) -> list[tuple[int, datetime, datetime, int]]:
    """(practitioner, start, end, capacity) of the day's slots by the schedules, leave and
    holidays left out; a start overlapping an earlier one of the same practitioner (two
    schedules that overlap) is left out too."""
    zone = clinic_zone()
    wanted: list[tuple[int, datetime, datetime, int]] = []
    taken: dict[int, list[tuple[datetime, datetime]]] = {}
    for schedule in schedules:
        if schedule.weekday != day.weekday() or schedule.valid_from > day:
            continue
        if schedule.valid_to is not None and schedule.valid_to < day:
            continue
        who = schedule.practitioner_id
        step = timedelta(minutes=schedule.slot_minutes)
        start = datetime.combine(day, schedule.start, tzinfo=zone)
        stop = datetime.combine(day, schedule.end, tzinfo=zone)
        while start + step <= stop:
            end = start + step
            free = not any(
                (p is None or p == who) and s < end and start < e for p, s, e in closed
            ) and not any(s < end and start < e for s, e in taken.get(who, ()))
            if free:
                wanted.append((who, start, end, schedule.capacity))
                taken.setdefault(who, []).append((start, end))
            start = end
    return wanted


def ensure_slots_between(first: date, last: date) -> None:
    day = first
    while day <= last:
        ensure_slots(day)
        day += timedelta(days=1)


def schedules_changed(first: date | None = None, last: date | None = None) -> list[Slot]:
    """Bring the coming days' slots in line with the schedules, leave and holidays now.

    Only days already generated (the others are made right when first needed), from
    today (or `first`) to `last`, and only slots that have not begun. Each slot:
    - still wanted as it is: kept; closed by leave that has since been shortened or
      removed, or with another capacity: its capacity set (conditional: never below
      its `booked`);
    - wanted from the same start with another length (slot length changed): reshaped,
      only while nobody holds it (`booked = 0`);
    - wanted no more (hours cut, leave added): closed, capacity 0 by one conditional
      UPDATE `WHERE booked = 0`, so a patient booking it at that moment either wins first
      (and the slot is kept) or finds it full.
    A new start is added unless it overlaps an open or booked slot of the same
    practitioner (so 30-minute slots changed to 20 never overlap). Returns the booked
    slots kept although no schedule wants them any more: staff move or cancel those.
    """
    today = clinic_today()
    generated = SlotDay.objects.filter(day__gte=max(first or today, today))
    if last is not None:
        generated = generated.filter(day__lte=last)
    days = sorted(generated.values_list("day", flat=True))
    if not days:
        return []
    lo, hi = day_bounds(days[0])[0], day_bounds(days[-1])[1]
    now = timezone.now()
    closed = _closed_between(lo, hi)
    schedules = _schedules_between(days[0], days[-1])
    wanted = {
        (who, start): (end, capacity)
        for day in days
        for who, start, end, capacity in _wanted_slots(day, schedules, closed)
        if start > now
    }
    day_set = set(days)
    zone = clinic_zone()
    stranded: list[Slot] = []
    occupied: dict[int, list[tuple[datetime, datetime]]] = {}
    with transaction.atomic():
        existing = Slot.objects.filter(start__lt=hi, end__gt=max(lo, now)).select_related(
            "practitioner"
        )
        for slot in existing.order_by("start", "pk"):
            if timezone.localtime(slot.start, zone).date() not in day_set:
                continue
            kept = slot.start > now and _reconcile_slot(
                slot, wanted.pop((slot.practitioner_id, slot.start), None)
            )
            if slot.capacity > 0 or slot.booked > 0:
                occupied.setdefault(slot.practitioner_id, []).append((slot.start, slot.end))
            if kept:
                stranded.append(slot)
        added = [
            Slot(practitioner_id=who, start=start, end=end, capacity=capacity)
            for (who, start), (end, capacity) in sorted(wanted.items(), key=lambda kv: kv[0][1])
            if not any(s < end and start < e for s, e in occupied.get(who, ()))
        ]
        Slot.objects.bulk_create(added, ignore_conflicts=True, batch_size=1000)
    return stranded


def _reconcile_slot(slot: Slot, want: tuple[datetime, int] | None) -> bool:
    """One future slot against what the schedules want at its start (None: nothing).
    True when it is stranded: booked, kept as it was, for staff to move."""
    mine = Slot.objects.filter(pk=slot.pk)
    if want is None:
        if slot.capacity == 0:
            return False
        if slot.booked == 0 and mine.filter(booked=0).update(capacity=0):
            slot.capacity = 0
            return False
        return True  # booked (now or a moment ago): kept, for staff to move
    end, capacity = want
    if slot.end == end:
        if slot.capacity != capacity and mine.filter(booked__lte=capacity).update(
            capacity=capacity
        ):
            slot.capacity = capacity
        return False
    if slot.booked == 0 and mine.filter(booked=0).update(end=end, capacity=capacity):
        slot.end, slot.capacity = end, capacity
        return False
    # Booked at its old length: kept as it is; no longer what the schedule makes.
    return True


def check_slot_serves(*, slot_id: int, service_ids: Iterable[int], day: date | None = None) -> None:
    """Refuse (400) a slot whose practitioner does not provide every given service, a
    slot beyond the booking horizon (patients and the front desk alike), or
    (with `day`, the day the patient chose) a slot of another clinic day; an unknown
    slot or one of an inactive practitioner is unavailable (409)."""
    slot = Slot.objects.select_related("practitioner").filter(pk=slot_id).first()
    if slot is None or not slot.practitioner.active:
        raise SlotUnavailable(f"Slot {slot_id} does not exist.")
    slot_day = timezone.localtime(slot.start, clinic_zone()).date()
    last = horizon_days()[1]
    if slot_day > last:  # from the row just read: no statement more
        raise ValidationError(
            {
                "slot_id": f"Slot {slot_id} is on {slot_day.isoformat()}, beyond the booking "
                f"horizon: appointments can be booked up to {last.isoformat()}."
            }
        )
    if day is not None and slot_day != day:
        raise ValidationError(
            {
                "slot_id": f"Slot {slot_id} is on {slot_day.isoformat()}, not on the chosen "
                f"day {day.isoformat()}; choose one of that day's times."
            }
        )
    wanted = set(service_ids)
    provided = dict(
        slot.practitioner.services.filter(pk__in=wanted).values_list("pk", "duration_minutes")
    )  # the same one query as before, now with each service's length
    missing = sorted(wanted - set(provided))
    if missing:
        raise ValidationError(
            {
                "slot_id": f"{slot.practitioner.name} does not provide service "
                f"{', '.join(map(str, missing))}; choose a slot of a practitioner who does."
            }
        )
    needed = max(provided.values(), default=0)
    length = int((slot.end - slot.start).total_seconds() // 60)
    if length < needed:
        raise ValidationError(
            {
                "slot_id": f"Slot {slot_id} lasts {length} minutes; the chosen services need "
                f"{needed}: choose a longer slot."
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


class NotReschedulable(Exception):
    """The booking may not be moved (any more): nothing was changed (a 409)."""


def reschedule(
    *,
    booking_id: UUID,
    slot_id: int,
    actor: str,
    until_hours_before: int | None,
    max_reschedules: int | None,
    now: datetime | None = None,
) -> Slot:
    """Move a confirmed appointment to another slot: one step, one transaction.

    The limits come from the booking's policy version (None: no limit, for staff).
    The booking row is claimed first by one conditional UPDATE (confirmed, not being
    cancelled, an appointment, early enough, `reschedules < max`), which also counts
    the move; a cancellation racing it waits for this commit or wins before it. Then
    both slots are locked in id order (two patients swapping slots cannot deadlock),
    the new place is taken (`booked < capacity AND start > now`) before the old one is
    given back, and the booking's copy of the times follows. A full slot rolls it all
    back (SlotUnavailable); the price is untouched.
    """
    now = now or timezone.now()
    booking = Booking.objects.only("pk", "correlation_id").get(pk=booking_id)
    needing = BookingItem.objects.filter(
        booking_id=booking_id, service__requires_appointment=True
    ).values_list("service_id", flat=True)
    check_slot_serves(slot_id=slot_id, service_ids=list(needing))
    claim = Booking.objects.filter(
        pk=booking_id,
        status=BookingStatus.CONFIRMED,
        cancellation_requested_at__isnull=True,
        appointment_start__gt=now,
    )
    if until_hours_before is not None:
        claim = claim.filter(appointment_start__gte=now + timedelta(hours=until_hours_before))
    if max_reschedules is not None:
        claim = claim.filter(reschedules__lt=max_reschedules)
    with events.saga_step("scheduling.reschedule", booking.correlation_id):
        if not claim.update(reschedules=F("reschedules") + 1, updated_at=now):
            raise NotReschedulable(
                _why_not_reschedulable(booking_id, now, until_hours_before, max_reschedules)
            )
        held = SlotBooking.objects.get(correlation_id=booking.correlation_id, released_at=None)
        if held.slot_id == slot_id:
            raise ValidationError({"slot_id": "The booking already has this time."})
        # Row locks in slot-id order, whichever way this patient moves.
        list(
            Slot.objects.select_for_update()
            .filter(pk__in=[held.slot_id, slot_id])
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not Slot.objects.filter(pk=slot_id, booked__lt=F("capacity"), start__gt=now).update(
            booked=F("booked") + 1
        ):
            raise SlotUnavailable(f"Slot {slot_id} is full, past or unknown.")
        SlotBooking.objects.filter(pk=held.pk, released_at=None).update(released_at=now)
        Slot.objects.filter(pk=held.slot_id).update(booked=F("booked") - 1)
        slot = Slot.objects.only("pk", "start", "end").get(pk=slot_id)
        SlotBooking.objects.create(
            slot=slot, correlation_id=booking.correlation_id, booking_id=booking_id
        )
        old = Booking.objects.only("appointment_start", "reschedules").get(pk=booking_id)
        assert old.appointment_start is not None  # it held a slot (SlotBooking above)
        Booking.objects.filter(pk=booking_id).update(
            visit_date=timezone.localtime(slot.start, clinic_zone()).date(),
            appointment_start=slot.start,
            appointment_end=slot.end,
        )
        AuditLog.record(
            actor=actor,
            action="booking.rescheduled",
            obj=booking,
            correlation_id=booking.correlation_id,
            before={"slot_id": held.slot_id, "start": old.appointment_start.isoformat()},
            after={"slot_id": slot.pk, "start": slot.start.isoformat(), "number": old.reschedules},
        )
        events.emit(
            events.BookingRescheduled(
                actor=actor,
                number=old.reschedules,
                from_slot_id=held.slot_id,
                to_slot_id=slot.pk,
                appointment_start=slot.start,
                appointment_end=slot.end,
            ),
            correlation_id=booking.correlation_id,
            occurrence=old.reschedules,
        )
    return slot


def _why_not_reschedulable(
    booking_id: UUID, now: datetime, until_hours_before: int | None, max_reschedules: int | None
) -> str:
    """The refusal in words (read after the conditional UPDATE said no)."""
    booking = Booking.objects.get(pk=booking_id)
    if booking.status != BookingStatus.CONFIRMED:
        return f"Only a confirmed booking can be moved; this one is {booking.status}."
    if booking.cancellation_requested_at is not None:
        return "This booking is being cancelled."
    if booking.appointment_start is None:
        return "A walk-in booking has no appointment time to move."
    if booking.appointment_start <= now:
        return "The appointment has already begun."
    if max_reschedules is not None and booking.reschedules >= max_reschedules:
        return (
            f"This booking has already been moved {booking.reschedules} time(s), the most allowed."
        )
    return (
        f"Too late to move: the policy allows it until {until_hours_before} hours "
        "before the appointment."
    )


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
    events.emit(events.SlotReleased(slot_id=held.slot_id), correlation_id=correlation_id)


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


def assign_walk_in(*, booking_id: UUID, practitioner_id: int, actor: str) -> Practitioner | None:
    """The front desk sends a walk-in to a practitioner (or to another one): it shows on
    their day. None when the booking is no live walk-in or the practitioner is inactive."""
    walk_in = Booking.objects.filter(
        pk=booking_id,
        appointment_start__isnull=True,
        status__in=(BookingStatus.CONFIRMED, BookingStatus.COMPLETED),
    ).first()
    practitioner = Practitioner.objects.filter(pk=practitioner_id, active=True).first()
    if walk_in is None or practitioner is None:
        return None
    with transaction.atomic():
        _, created = WalkInAssignment.objects.update_or_create(
            booking=walk_in, defaults={"practitioner": practitioner, "assigned_by": actor}
        )
        AuditLog.record(
            actor=actor,
            action="walk_in.assigned",
            obj=walk_in,
            correlation_id=walk_in.correlation_id,
            after={"practitioner_id": practitioner.pk, "practitioner": practitioner.name},
        )
    return practitioner
