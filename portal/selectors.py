"""The reads the rooms share: the bookings a user may see, a booking's appointment as
the edges show it (the booking's own copy of its times joined with the slot and
practitioner that scheduling keeps), its .ics file, and the slot step's choices."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Prefetch, QuerySet
from django.http import HttpResponse, QueryDict
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from billing.models import Document
from billing.pdf import render as render_document
from billing.selectors import receipts_of, with_receipts
from bookings.calendar import visit_calendar
from bookings.models import Booking, BookingItem, BookingStatus, MedicalService
from bookings.selectors import patient_language
from portal.forms import SlotDayForm
from scheduling.models import Practitioner, SlotBooking
from scheduling.selectors import bookable_slots, days_with_free_slots, practitioners_providing
from scheduling.services import horizon_days

# Staff who may read any booking through the API (the admin's groups grant it).
VIEW_ANY_BOOKING = "bookings.view_booking"
DAYS_SHOWN = 14  # the slot step lists the next fortnight's days that have free times


def staff_may(user: User | AnonymousUser, permission: str) -> bool:
    """Staff act through their group's permissions: `is_staff` alone allows nothing."""
    return bool(user and user.is_active and user.is_staff and user.has_perm(permission))


def visible_bookings(
    user: User,
    *,
    staff_permission: str | None = None,
    among: QuerySet[Booking] | None = None,
) -> QuerySet[Booking]:
    """The bookings `user` may see (of `among`, default all): their own, or every one for
    staff holding `staff_permission`. Any other booking does not exist for them (404)."""
    bookings = Booking.objects.all() if among is None else among
    if staff_permission is not None and staff_may(user, staff_permission):
        return bookings
    return bookings.filter(user=user)


def visible_booking(
    user: User,
    booking_id: str | uuid.UUID,
    *,
    staff_permission: str | None = None,
    among: QuerySet[Booking] | None = None,
) -> Booking | None:
    """One booking `user` may see, or None (also for an id that is not a UUID)."""
    try:
        pk = booking_id if isinstance(booking_id, uuid.UUID) else uuid.UUID(str(booking_id))
    except ValueError:
        return None
    bookings = visible_bookings(user, staff_permission=staff_permission, among=among)
    return bookings.filter(pk=pk).first()


def with_items_and_appointments(bookings: QuerySet[Booking] | None = None) -> QuerySet[Booking]:
    """Bookings as the API shows them: with their items (in order), appointments and
    receipts, three more queries in all."""
    bookings = Booking.objects.all() if bookings is None else bookings
    return with_receipts(
        with_appointments(
            bookings.prefetch_related(
                Prefetch("items", queryset=BookingItem.objects.order_by("id"))
            )
        )
    )


KIND_WORDS = {
    "receipt": gettext_lazy("receipt"),
    "bill_of_supply": gettext_lazy("bill of supply"),
    "tax_invoice": gettext_lazy("tax invoice"),
    "refund_note": gettext_lazy("refund note"),
}


def receipt_links(booking: Booking) -> list[dict]:
    """The booking page's download links: what each document is, in the page's language."""
    return [{**row, "label": KIND_WORDS[row["kind"]]} for row in receipts_of(booking)]


def appointment_services(booking: Booking) -> list[int]:
    """The booking's services that need an appointment (what a new time must serve)."""
    return list(
        booking.items.filter(service__requires_appointment=True).values_list(
            "service_id", flat=True
        )
    )


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
    if booking.appointment_start is None or booking.appointment_end is None:
        return None  # a walk-in: the booking copies both times or neither
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
    """In the patient's language (their profile's, whatever the page's): the same text as
    their e-mail's copy of the event, so a calendar that imports both shows one visit."""
    practitioner = appointment.practitioner
    with translation.override(patient_language(booking.user_id)):
        return visit_calendar(
            booking, practitioner=practitioner.name, specialty=practitioner.specialty
        )


def calendar_download(booking: Booking, appointment: Appointment) -> HttpResponse:
    """ "Add to calendar" (the page's and the API's): the appointment's .ics as a file."""
    response = HttpResponse(
        calendar_file(booking, appointment), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="appointment-{booking.pk}.ics"'
    return response


def document_download(document: Document, *, layout: str, language: str | None) -> HttpResponse:
    """A receipt or refund note as a PDF (the API's, the page's and the e-mail's link)."""
    response = HttpResponse(
        render_document(document, layout=layout, language=language),
        content_type="application/pdf",
    )
    name = document.number.replace("/", "-")
    response["Content-Disposition"] = f'inline; filename="{name}.pdf"'
    response["Cache-Control"] = "private, no-store"  # a patient's document
    return response


def slot_choices(
    query: QueryDict, needing: list[int], *, picker_url: str, excluding: int | None = None
) -> dict:
    """The slot step's context (also the "Change time" pages', the patient's and the
    staff's): the next days with free times, or, with ?day=, each practitioner's free
    times that day."""
    if not Practitioner.objects.filter(
        active=True, pk__in=practitioners_providing(needing)
    ).exists():
        # One slot per booking, and nobody provides all of these (a consultation and a
        # scan): say so instead of showing no free times.
        names = MedicalService.objects.filter(pk__in=needing).order_by("name")
        return {"nobody_provides": [s.name for s in names], "picker_url": picker_url}
    first, last = horizon_days()
    day_form = SlotDayForm(query or None, first=first, last=last)
    day = day_form.cleaned_data["day"] if day_form.is_valid() else None
    context = {"day_form": day_form, "day": day, "picker_url": picker_url}
    if day is None:
        shown = min(last, first + timedelta(days=DAYS_SHOWN - 1))
        context["days"] = days_with_free_slots(first=first, last=shown, service_ids=needing)
    else:
        by_practitioner: dict = {}
        for slot in bookable_slots(day=day, service_ids=needing):
            if slot.pk != excluding:
                by_practitioner.setdefault(slot.practitioner, []).append(slot)
        context["by_practitioner"] = list(by_practitioner.items())
    return context


def booking_made_after(attempt: Booking) -> Booking | None:
    """What a failed attempt became: the same user's first later booking for the same
    patient and services that did not fail. Its "Try again" is done then."""
    services = set(attempt.items.values_list("service_id", flat=True))
    later = (
        Booking.objects.filter(
            user_id=attempt.user_id,
            patient_name=attempt.patient_name,
            created_at__gt=attempt.created_at,
            items__service_id__in=services,
        )
        .exclude(status=BookingStatus.FAILED)
        .distinct()
        .prefetch_related("items")
        .order_by("created_at")
    )
    return next((b for b in later if {item.service_id for item in b.items.all()} == services), None)
