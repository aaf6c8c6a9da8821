"""A visit as an iCalendar event: one writer for the page, the API and the e-mails.

One UID per booking, SEQUENCE counting its moves and STATUS following it, so a calendar
that imported the confirmation's copy and then the page's sees one visit, moved or gone.
"""

from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from bookings.models import Booking, BookingStatus

# A booking's status as an iCalendar event's (RFC 5545: TENTATIVE, CONFIRMED, CANCELLED).
CALENDAR_STATUS: dict[str, str] = {
    BookingStatus.PENDING: "TENTATIVE",
    BookingStatus.AWAITING_PAYMENT: "TENTATIVE",  # the time is held until paid or expired
    BookingStatus.CONFIRMED: "CONFIRMED",
    BookingStatus.COMPLETED: "CONFIRMED",
    BookingStatus.NO_SHOW: "CONFIRMED",  # it was on; the patient did not come
    BookingStatus.FAILED: "CANCELLED",
    BookingStatus.CANCELLED: "CANCELLED",
}


def visit_calendar(
    booking: Booking,
    *,
    practitioner: str = "",
    specialty: str = "",
    stamp: datetime | None = None,
) -> bytes:
    """The booking's appointment (its own copy of the times) in the clinic's zone
    (TZID=Asia/Kolkata), whatever the server's TZ, its text in the active language.
    `stamp` (DTSTAMP, default now): a message's own time, so each try of one e-mail
    carries the same bytes."""
    calendar = Calendar()
    calendar.add("prodid", "-//Clinic booking//EN")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"{booking.pk}@clinic-booking")
    event.add("dtstamp", stamp or timezone.now())
    event.add("sequence", booking.reschedules)
    event.add("status", CALENDAR_STATUS[booking.status])
    event.add("dtstart", timezone.localtime(booking.appointment_start))
    event.add("dtend", timezone.localtime(booking.appointment_end or booking.appointment_start))
    # Its words in the active language (the callers make it the patient's): the items'
    # names as booked in that language, the practitioner's specialty as read by the caller.
    services = ", ".join(item.name for item in booking.items.all())
    with_whom = f"{practitioner} ({specialty})" if specialty else practitioner
    event.add(
        "summary",
        _("%(services)s with %(practitioner)s")
        % {"services": services, "practitioner": practitioner}
        if practitioner
        else services,
    )
    for_whom = (
        _("%(practitioner)s for %(patient)s.")
        % {"practitioner": with_whom, "patient": booking.patient_name}
        if with_whom
        else _("For %(patient)s.") % {"patient": booking.patient_name}
    )
    code = _("Confirmation code: %(code)s.") % {"code": booking.confirmation_code or "—"}
    event.add("description", f"{for_whom} {code}")
    event.add("location", settings.CLINIC_ADDRESS)
    calendar.add_component(event)
    if hasattr(calendar, "add_missing_timezones"):
        calendar.add_missing_timezones()  # VTIMEZONE for Asia/Kolkata (icalendar ≥ 6)
    return calendar.to_ical()
