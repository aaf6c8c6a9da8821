"""The front desk (an admin page): a clinic day's slots per practitioner, who is booked,
and the receptionist's actions: check in, mark no-show. Each action is audited."""

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

from bookings.models import BookingStatus, PatientProfile
from bookings.services import clinic_today, record_visit
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
    outcome = ACTIONS.get(request.POST.get("action", ""))
    try:
        booking_id = uuid.UUID(request.POST.get("booking", ""))
    except ValueError:
        booking_id = None
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


def _day(text: str | None) -> date:
    try:
        return date.fromisoformat(text) if text else clinic_today()
    except ValueError:
        return clinic_today()
