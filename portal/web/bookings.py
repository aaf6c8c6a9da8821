"""The patient's bookings: the list, one booking, "Try again", its .ics, its receipts
(the e-mails' links), cancel and change time. Another patient's booking does not exist
here (404)."""

import uuid
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from billing.models import Document
from bookings.models import Booking, BookingStatus
from bookings.services import NotCancellable, clinic_today
from payments.online import PAYMENT_EXPIRED
from portal.authenticated import AuthenticatedHttpRequest
from portal.flows import (
    RefundLowered,
    cancel_booking,
    cancellation_quote,
    move_booking,
    refund_of,
    refunds_of,
    reschedule_quote,
)
from portal.presentation import (
    PRICE_CHANGED,
    discount_in_words,
    failure_in_words,
    refund_in_words,
    released_time_in_words,
    timeline,
)
from portal.selectors import (
    appointment_of,
    appointment_services,
    booking_made_after,
    calendar_download,
    document_download,
    receipt_links,
    slot_choices,
    visible_bookings,
    with_appointments,
)
from portal.web.booking import DRAFT, _needing_slot, _slot_step
from portal.web.online_payment import allow_checkout, checkout_of
from scheduling.selectors import bookable_slots

BOOKINGS_PER_PAGE = 10


def _own_with_appointment(request: AuthenticatedHttpRequest, pk: uuid.UUID) -> Booking:
    # Another patient's booking does not exist, as far as this patient can tell.
    among = with_appointments(Booking.objects)
    return get_object_or_404(visible_bookings(request.user, among=among), pk=pk)


@login_required
def my_bookings(request: AuthenticatedHttpRequest) -> HttpResponse:
    bookings = with_appointments(
        visible_bookings(request.user).prefetch_related("items").order_by("-created_at", "-pk")
    )
    page = Paginator(bookings, BOOKINGS_PER_PAGE).get_page(request.GET.get("page"))
    rows = _with_retries(list(page))
    # What came back of each cancelled booking, said beside what was paid.
    refunds = refunds_of([row["booking"] for row in rows if row["booking"].status == "cancelled"])
    for row in rows:
        row["refund"] = refunds.get(row["booking"].pk)
    return render(request, "bookings/my_bookings.html", {"page": page, "rows": rows})


def _with_retries(bookings: list[Booking]) -> list[dict]:
    """Newest first; a failed attempt for the same services as the row above it (the booking
    finally made, or a later attempt) is folded under that row instead of a row of its own."""
    rows: list[dict] = []
    for booking in bookings:
        services = frozenset(item.service_id for item in booking.items.all())
        if booking.status == BookingStatus.FAILED and rows and rows[-1]["services"] == services:
            rows[-1]["attempts"].append(booking)
            continue
        rows.append(
            {
                "booking": booking,
                "appointment": appointment_of(booking),
                "services": services,
                "attempts": [],
            }
        )
    return rows


@login_required
def booking_detail(request: AuthenticatedHttpRequest, pk: uuid.UUID) -> HttpResponse:
    # Another patient's booking does not exist, as far as this patient can tell.
    booking = _own_with_appointment(request, pk)
    failed = booking.status == BookingStatus.FAILED
    # A failed attempt retried into a booking since: no "Try again", a link to that one.
    made_after = booking_made_after(booking) if failed else None
    checkout = checkout_of(request, booking)  # awaiting payment: how to finish
    refund = refund_of(booking) if booking.status == BookingStatus.CANCELLED else None
    response = render(
        request,
        "bookings/booking_detail.html",
        {
            "booking": booking,
            "needs_time": booking.appointment_start is not None,
            "made_after": made_after,
            "appointment": appointment_of(booking),
            "items": booking.items.all(),
            "discount_words": discount_in_words(booking),
            "failure_words": failure_in_words(booking.failure_reason),
            "timeline": timeline(booking),
            "can_retry": failed and made_after is None,
            "price_changed": booking.failure_reason == PRICE_CHANGED,
            "cancellation": cancellation_quote(booking, by_staff=False),
            "moving": reschedule_quote(booking, by_staff=False),
            "refund": refund,
            "refund_words": refund_in_words(booking, refund) if refund else "",
            "receipts": receipt_links(booking),
            "checkout": checkout,
            "payment_expired": booking.failure_reason == PAYMENT_EXPIRED,
        },
    )
    return allow_checkout(response) if checkout else response


@login_required
@require_http_methods(["POST"])
def booking_retry(request: AuthenticatedHttpRequest, pk: uuid.UUID) -> HttpResponse:
    """ "Try again with another card": a new draft of this failed booking's own services and
    patient (never the session's newest draft), then its review, or its time if it needs one."""
    among = with_appointments(Booking.objects)
    booking = get_object_or_404(
        visible_bookings(request.user, among=among), pk=pk, status=BookingStatus.FAILED
    )
    made_after = booking_made_after(booking)
    if made_after is not None:  # a stale page: it was tried again and booked already
        messages.info(request, _("These services were booked since; here is that booking."))
        return redirect("booking_detail", pk=made_after.pk)
    draft = {
        "services": [str(pk) for pk in booking.items.values_list("service_id", flat=True)],
        "patient_name": booking.patient_name,
        "gender": booking.gender,
        "date_of_birth": booking.date_of_birth.isoformat(),
    }
    needing = _needing_slot(draft)
    appointment = appointment_of(booking)
    if not needing or appointment is None:
        request.session[DRAFT] = draft
        return redirect("book_slot" if needing else "book_review")
    # The failed payment gave its time back: say so, and offer it again while it is free.
    day = appointment.local_start.date()
    upcoming = day >= clinic_today()
    still_free = (
        upcoming
        and bookable_slots(day=day, service_ids=needing).filter(pk=appointment.slot_id).exists()
    )
    messages.info(request, released_time_in_words(appointment.start, still_free=still_free))
    if still_free:
        request.session[DRAFT] = {**draft, "slot_id": appointment.slot_id}
        return redirect("book_review")
    request.session[DRAFT] = draft
    return redirect(_slot_step(day if upcoming else None))


@login_required
def booking_calendar(request: AuthenticatedHttpRequest, pk: uuid.UUID) -> HttpResponse:
    """ "Add to calendar": the appointment's .ics, for its owner."""
    booking = _own_with_appointment(request, pk)
    appointment = appointment_of(booking)
    if appointment is None:
        raise Http404("This booking has no appointment.")
    return calendar_download(booking, appointment)


@login_required
def booking_document(request: AuthenticatedHttpRequest, pk: uuid.UUID, number: str) -> HttpResponse:
    """A receipt or refund note of the patient's own booking, in their language: where the
    confirmation and refund e-mails link (a signed-out patient signs in first)."""
    booking = get_object_or_404(visible_bookings(request.user), pk=pk)
    document = get_object_or_404(
        Document.objects.select_related("refunds").prefetch_related("lines"),
        booking=booking,
        number=number,
    )
    return document_download(document, layout="a4", language=None)


@login_required
@require_http_methods(["GET", "POST"])
def cancel(request: AuthenticatedHttpRequest, pk: uuid.UUID) -> HttpResponse:
    """Show exactly what comes back before the patient confirms; then cancel."""
    booking = get_object_or_404(visible_bookings(request.user), pk=pk)
    quote = cancellation_quote(booking, by_staff=False)
    if request.method == "POST" and quote.allowed:
        reason = request.POST.get("reason", "").strip()[:500]
        shown = _money_or_none(request.POST.get("expected_refund"))
        if shown is None:  # a form without the amount it showed: show it, ask again
            return _cancel_page(request, booking, quote, reason=reason, incomplete=True)
        try:
            cancelled = cancel_booking(
                booking=booking,
                actor=request.user.get_username(),
                by_staff=False,
                reason=reason,
                expected_refund=shown,
            )
        except RefundLowered as lowered:
            # A tier's edge passed since the page was shown: nothing is cancelled; the
            # page again, with what comes back now.
            return _cancel_page(request, booking, lowered.quote, reason=reason, shown=shown)
        except NotCancellable as refused:
            messages.error(request, str(refused))
        else:
            said = refund_in_words(cancelled, refund_of(cancelled))
            messages.success(request, _("Your booking is cancelled. %(refund)s") % {"refund": said})
        return redirect("booking_detail", pk=booking.pk)
    if not quote.allowed:
        messages.error(request, quote.reason)
        return redirect("booking_detail", pk=booking.pk)
    return _cancel_page(request, booking, quote)


def _cancel_page(
    request: HttpRequest,
    booking: Booking,
    quote,
    *,
    reason: str = "",
    shown: Decimal | None = None,
    incomplete: bool = False,
) -> HttpResponse:
    """The confirmation page; it posts back the refund it shows (`expected_refund`)."""
    return render(
        request,
        "bookings/cancel.html",
        {
            "booking": booking,
            "quote": quote,
            "reason": reason,
            "lowered_from": shown,
            "incomplete": incomplete,
        },
    )


def _money_or_none(value: str | None) -> Decimal | None:
    try:
        amount = Decimal(value or "")
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and amount >= 0 else None


@login_required
@require_http_methods(["GET", "POST"])
def reschedule(request: AuthenticatedHttpRequest, pk: uuid.UUID) -> HttpResponse:
    """ "Change time": the deadline first, then a day and a free time; POST moves it."""
    booking = _own_with_appointment(request, pk)
    moving = reschedule_quote(booking, by_staff=False)
    if not moving.allowed:
        messages.error(request, moving.reason)
        return redirect("booking_detail", pk=booking.pk)
    if request.method == "POST":
        outcome = move_booking(
            booking=booking,
            slot_text=request.POST.get("slot", ""),
            actor=request.user.get_username(),
            by_staff=False,
        )
        if outcome.booking is not None:
            messages.success(request, outcome.message)
            return redirect("booking_detail", pk=booking.pk)
        messages.error(request, outcome.message)
        return redirect("booking_reschedule", pk=booking.pk)
    appointment = appointment_of(booking)
    context = slot_choices(
        request.GET,
        appointment_services(booking),
        picker_url=request.path,
        excluding=appointment.slot_id if appointment else None,
    )
    context.update(booking=booking, appointment=appointment, moving=moving)
    return render(request, "bookings/reschedule.html", context)
