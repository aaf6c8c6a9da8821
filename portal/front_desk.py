"""The front desk (an admin page): a clinic day's slots per practitioner, who is booked,
and the receptionist's actions: check in, mark no-show, cancel (a full refund, with a
reason), and a link to change the time. Each action is audited."""

import uuid
from datetime import date
from itertools import groupby

from django.contrib import admin, messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from bookings.models import Booking, BookingStatus, PatientProfile
from bookings.money import format_inr
from bookings.services import NotCancellable, clinic_today, record_visit
from portal.services import cancel_booking
from scheduling.selectors import day_sheet

PERMISSION = "scheduling.use_front_desk"
SHOWS_PHONE = hasattr(PatientProfile, "phone")  # the phone arrives with the notify branch
ACTIONS = {"check_in": BookingStatus.COMPLETED, "no_show": BookingStatus.NO_SHOW}


@require_http_methods(["GET", "POST"])
@permission_required(PERMISSION, raise_exception=True)
def front_desk(request: HttpRequest) -> HttpResponse:
    day = _day(request.GET.get("day") or request.POST.get("day"))
    if request.method == "POST":
        return _act(request, day)
    slots = day_sheet(day)
    rows = [
        (practitioner, list(its_slots))
        for practitioner, its_slots in groupby(slots, key=lambda s: s.practitioner)
    ]
    context = {
        **admin.site.each_context(request),
        "title": f"Front desk: {day:%A %d %B %Y}",
        "day": day,
        "today": clinic_today(),
        "rows": rows,
        "shows_phone": SHOWS_PHONE,
    }
    return render(request, "admin/clinic/front_desk.html", context)


def _act(request: HttpRequest, day: date) -> HttpResponse:
    action = request.POST.get("action", "")
    outcome = ACTIONS.get(action)
    try:
        booking_id = uuid.UUID(request.POST.get("booking", ""))
    except ValueError:
        booking_id = None
    if action == "cancel" and booking_id is not None:
        _cancel(request, booking_id)
        return redirect(f"{reverse('front_desk')}?day={day.isoformat()}")
    if outcome is None or booking_id is None:
        raise PermissionDenied("Unknown front desk action.")
    done = record_visit(
        booking_id=booking_id,
        outcome=outcome,
        actor=request.user.get_username(),
        today=clinic_today(),
    )
    if done:
        messages.success(request, f"Booking {str(booking_id)[:8]}… marked {outcome.label}.")
    else:
        messages.error(
            request, "Nothing changed: the booking is not confirmed, or its visit is not due."
        )
    return redirect(f"{reverse('front_desk')}?day={day.isoformat()}")


def _cancel(request: HttpRequest, booking_id: uuid.UUID) -> None:
    """Cancel for the clinic (everything back), as from the booking's admin page."""
    if not request.user.has_perm("bookings.cancel_booking"):
        raise PermissionDenied
    reason = request.POST.get("reason", "").strip()[:500]
    booking = Booking.objects.filter(pk=booking_id).first()
    if booking is None or not reason:
        messages.error(request, "Nothing changed: give the reason for cancelling.")
        return
    try:
        cancelled = cancel_booking(
            booking=booking, actor=request.user.get_username(), by_staff=True, reason=reason
        )
    except NotCancellable as refused:
        messages.error(request, f"Nothing changed: {refused}")
        return
    messages.success(
        request,
        f"Cancelled {cancelled.patient_name}'s booking; "
        f"{format_inr(cancelled.final_price)} goes back to the patient.",
    )


def _day(text: str | None) -> date:
    try:
        return date.fromisoformat(text) if text else clinic_today()
    except ValueError:
        return clinic_today()
