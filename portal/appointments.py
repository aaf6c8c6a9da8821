"""A booking's appointment as the edges show it: the booking's own copy of its times
joined with the slot and practitioner that scheduling keeps; and its .ics file."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Prefetch
from django.utils import timezone
from icalendar import Calendar, Event

from bookings.models import Booking, BookingStatus
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


# A booking's status as an iCalendar event's (RFC 5545: TENTATIVE, CONFIRMED, CANCELLED).
CALENDAR_STATUS = {
    BookingStatus.PENDING: "TENTATIVE",
    BookingStatus.CONFIRMED: "CONFIRMED",
    BookingStatus.COMPLETED: "CONFIRMED",
    BookingStatus.NO_SHOW: "CONFIRMED",  # it was on; the patient did not come
    BookingStatus.FAILED: "CANCELLED",
    BookingStatus.CANCELLED: "CANCELLED",
}


def calendar_file(booking: Booking, appointment: Appointment) -> bytes:
    """One VEVENT in the clinic's zone (TZID=Asia/Kolkata), whatever the server's TZ."""
    calendar = Calendar()
    calendar.add("prodid", "-//Clinic booking//EN")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"{booking.pk}@clinic-booking")
    event.add("dtstamp", timezone.now())
    # Same UID, a higher SEQUENCE per move, CANCELLED when off: a calendar that imported
    # an earlier copy moves or drops the event instead of keeping a visit that will not be.
    event.add("sequence", booking.reschedules)
    event.add("status", CALENDAR_STATUS[booking.status])
    event.add("dtstart", appointment.local_start)
    event.add("dtend", appointment.local_end)
    services = ", ".join(item.name for item in booking.items.all())
    practitioner = appointment.practitioner
    event.add("summary", f"{services} with {practitioner.name}")
    event.add(
        "description",
        f"{practitioner.name} ({practitioner.specialty}) for {booking.patient_name}. "
        f"Confirmation code: {booking.confirmation_code or '—'}.",
    )
    event.add("location", settings.CLINIC_ADDRESS)
    calendar.add_component(event)
    if hasattr(calendar, "add_missing_timezones"):
        calendar.add_missing_timezones()  # VTIMEZONE for Asia/Kolkata (icalendar ≥ 6)
    return calendar.to_ical()
