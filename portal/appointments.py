"""A booking's appointment as the edges show it: the booking's own copy of its times
joined with the slot and practitioner that scheduling keeps; and its .ics file."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch
from django.utils import timezone

from bookings.calendar import visit_calendar
from bookings.models import Booking
from scheduling.models import Practitioner, SlotBooking


@dataclass(frozen=True)
class Appointment:
    slot_id: int
    practitioner: Practitioner
    start: datetime
    end: datetime

    @property
    def local_start(self) -> datetime:
        return timezone.localtime(self.start)

    @property
    def local_end(self) -> datetime:
        return timezone.localtime(self.end)


def with_appointments(bookings):
    """Fetch each booking's slot booking and practitioner in one more query."""
    return bookings.prefetch_related(
        Prefetch(
            "slot_bookings",
            queryset=SlotBooking.objects.select_related("slot__practitioner").order_by(
                "created_at"
            ),
        )
    )


def appointment_of(booking: Booking) -> Appointment | None:
    """The appointment the booking took (kept after a failed saga gave the place back),
    or None for a walk-in."""
    if booking.appointment_start is None:
        return None
    held = list(booking.slot_bookings.all())
    if not held:
        return None
    # The live place (after a reschedule, the new slot), else the last one held.
    live = [h for h in held if h.released_at is None]
    slot = (live or sorted(held, key=lambda h: (h.created_at, h.pk)))[-1].slot
    return Appointment(
        slot_id=slot.pk,
        practitioner=slot.practitioner,
        start=booking.appointment_start,
        end=booking.appointment_end,
    )


def calendar_file(booking: Booking, appointment: Appointment) -> bytes:
    practitioner = appointment.practitioner
    return visit_calendar(booking, practitioner=practitioner.name, specialty=practitioner.specialty)
