"""A practitioner's own day (an admin page for the "Practitioner" group): their
appointments and the walk-ins the desk sent to them, whether each patient has arrived
(checked in at the desk), and "Mark completed" once seen. Only the practitioner linked
to the signed-in account: another practitioner's patient is a 404."""

import uuid
from typing import cast

from django.contrib import admin, messages
from django.contrib.auth.decorators import permission_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from bookings.models import Booking, BookingStatus
from bookings.services import clinic_today, finish_visit
from scheduling.models import Practitioner
from scheduling.selectors import is_practitioners_booking, practitioners_bookings

PERMISSION = "scheduling.see_own_day"


def arrival(booking: Booking) -> str:
    """Where the patient is, in the clinic's words."""
    if booking.visit_finished_at is not None:
        return "Visit completed"
    if booking.status == BookingStatus.COMPLETED:
        return "Arrived (checked in)"
    if booking.status == BookingStatus.NO_SHOW:
        return "No-show"
    return "Expected"


@require_http_methods(["GET", "POST"])
@permission_required(PERMISSION, raise_exception=True)
def my_day(request: HttpRequest) -> HttpResponse:
    account = cast(User, request.user)  # admin_view: signed in
    practitioner = Practitioner.objects.filter(user=account, active=True).first()
    if practitioner is None:
        raise PermissionDenied("This account is not linked to a practitioner.")
    today = clinic_today()
    if request.method == "POST":
        return _finish(request, practitioner, today)
    bookings = list(practitioners_bookings(practitioner.pk, today))
    context = {
        **admin.site.each_context(request),
        "title": f"My day: {practitioner.name}, {today:%A %d %B %Y}",
        "practitioner": practitioner,
        "rows": [(b, arrival(b)) for b in bookings],
    }
    return render(request, "admin/clinic/my_day.html", context)


def _finish(request: HttpRequest, practitioner: Practitioner, today) -> HttpResponse:
    try:
        booking_id = uuid.UUID(request.POST.get("booking", ""))
    except ValueError:
        raise Http404("No such booking.") from None
    if not is_practitioners_booking(practitioner.pk, booking_id):
        raise Http404("No such booking on your day.")  # nobody else's patients, not even by id
    booking = Booking.objects.only("patient_name", "confirmation_code").get(pk=booking_id)
    named = f"{booking.patient_name} ({booking.confirmation_code or 'no code'})"
    if finish_visit(
        booking_id=booking_id,
        actor=request.user.get_username(),
        today=today,
        now=timezone.now(),
    ):
        messages.success(request, f"{named}: visit completed.")
    else:
        messages.error(
            request, f"Nothing changed for {named}: the visit is not today's, or already ended."
        )
    return redirect(reverse("my_day"))
