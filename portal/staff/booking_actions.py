"""The two pages of a booking's admin that act on it for the clinic: cancel (everything
paid comes back, a reason required) and change time. Each checks its own permission."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse

from bookings.admin_display import inr
from bookings.models import Booking
from bookings.services import NotCancellable
from portal.flows import cancel_booking, cancellation_quote, move_booking, reschedule_quote
from portal.selectors import appointment_of, appointment_services, slot_choices, with_appointments
from portal.staff.forms import StaffCancellationForm


def reschedule(model_admin: admin.ModelAdmin, request: HttpRequest, pk) -> HttpResponse:
    """Move an appointment for the clinic: any free time of a practitioner who provides
    its services (the policy's deadline and count bind patients only). Audited."""
    if not request.user.has_perm("bookings.reschedule_booking"):
        raise PermissionDenied
    booking = get_object_or_404(with_appointments(Booking.objects), pk=pk)
    moving = reschedule_quote(booking, by_staff=True)
    if request.method == "POST" and moving.allowed:
        outcome = move_booking(
            booking=booking,
            slot_text=request.POST.get("slot", ""),
            actor=request.user.get_username(),
            by_staff=True,
        )
        if outcome.booking is not None:
            messages.success(request, outcome.message)
            return HttpResponseRedirect(reverse("admin:bookings_booking_change", args=[pk]))
        messages.error(request, outcome.message)
        return HttpResponseRedirect(request.get_full_path())
    appointment = appointment_of(booking)
    context = {
        **model_admin.admin_site.each_context(request),
        **slot_choices(
            request.GET,
            appointment_services(booking),
            picker_url=request.path,
            excluding=appointment.slot_id if appointment else None,
        ),
        "title": f"Change the time of {booking.patient_name}'s appointment",
        "booking": booking,
        "appointment": appointment,
        "moving": moving,
        "opts": model_admin.model._meta,
    }
    return TemplateResponse(request, "admin/bookings/booking/reschedule.html", context)


def cancel(model_admin: admin.ModelAdmin, request: HttpRequest, pk) -> HttpResponse:
    """Cancel for the clinic: everything paid comes back; a reason is required."""
    if not request.user.has_perm("bookings.cancel_booking"):
        raise PermissionDenied
    booking = get_object_or_404(Booking, pk=pk)
    quote = cancellation_quote(booking, by_staff=True)
    form = StaffCancellationForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and quote.allowed:
        try:
            cancel_booking(
                booking=booking,
                actor=request.user.get_username(),
                by_staff=True,
                reason=form.cleaned_data["reason"],
            )
        except NotCancellable as refused:
            model_admin.message_user(request, str(refused), messages.ERROR)
        else:
            model_admin.message_user(
                request, f"Cancelled; {inr(quote.refund_amount)} goes back to the patient."
            )
        return HttpResponseRedirect(reverse("admin:bookings_booking_change", args=[pk]))
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Cancel the booking of {booking.patient_name}",
        "booking": booking,
        "quote": quote,
        "form": form,
        "opts": model_admin.model._meta,
    }
    return TemplateResponse(request, "admin/bookings/booking/cancel.html", context)
