"""The front desk (an admin page): a clinic day's slots per practitioner, who is booked,
and the receptionist's actions: check in, mark no-show, cancel (a full refund, with a
reason), a link to change the time, find a patient's bookings by phone or name, book
a walk-in or telephone patient (cash, or online by a payment link shown as a QR code),
and hand back the cash refunds of bookings patients cancelled themselves.
Each action is audited."""

import uuid
from datetime import date, timedelta
from decimal import Decimal
from itertools import groupby

import segno
from django.contrib import admin, messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods

from bookings.models import Booking, BookingStatus, MedicalService, PatientProfile
from bookings.money import format_inr
from bookings.selectors import bookings_by_patient, walk_ins_on
from bookings.services import NotCancellable, clinic_today, record_visit, undo_no_show
from payments.online import ask_gateway_now, desk_payment_link_of, online_payment_available
from payments.selectors import refunds_waiting_at_desk
from payments.services import hand_back_refund
from portal.flows import SlotUnavailable, book_at_front_desk, cancel_booking
from portal.selectors import appointment_of, with_appointments
from portal.staff.forms import DeskBookingForm
from pricing.models import DiscountSettings
from pricing.rules import PRICE_THRESHOLD
from scheduling.selectors import (
    active_practitioners,
    bookable_slots,
    day_sheet,
    walk_in_practitioners,
)
from scheduling.services import assign_walk_in, horizon_days, walk_ins_over_by

PERMISSION = "scheduling.use_front_desk"
SHOWS_PHONE = hasattr(PatientProfile, "phone")  # the phone arrives with the notify branch
ACTIONS = {"check_in": BookingStatus.COMPLETED, "no_show": BookingStatus.NO_SHOW}


@require_http_methods(["GET", "POST"])
@permission_required(PERMISSION, raise_exception=True)
def front_desk(request: HttpRequest) -> HttpResponse:
    day = _day(request.GET.get("day") or request.POST.get("day"), request)
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
        "now": timezone.now(),
        "walk_ins_over_by": walk_ins_over_by(),
        "walk_ins": _with_practitioners(walk_ins_on(day, query=request.GET.get("q", "")[:100])),
        "practitioners": active_practitioners(),
        "waiting_at_desk": refunds_waiting_at_desk(),
        "shows_phone": SHOWS_PHONE,
        **_search(request.GET.get("q", "")),
    }
    return render(request, "admin/clinic/front_desk.html", context)


def _with_practitioners(walk_ins) -> list[Booking]:
    """The walk-ins, each with `seen_by`: the practitioner the desk sent them to, if any."""
    walk_ins = list(walk_ins)
    seen_by = walk_in_practitioners([b.pk for b in walk_ins])
    for booking in walk_ins:
        booking.seen_by = seen_by.get(booking.pk)
    return walk_ins


def _search(query: str) -> dict:
    query = query.strip()[:100]
    if not query:
        return {"q": ""}
    found = with_appointments(bookings_by_patient(query, from_day=clinic_today()))
    return {"q": query, "found": [(b, appointment_of(b)) for b in found]}


# Form fields named as start_booking names them, for its errors.
_FIELDS = {"service_ids": "services", "slot_id": "slot", "payment_token": "payment"}


@require_http_methods(["GET", "POST"])
@permission_required(PERMISSION, raise_exception=True)
def desk_book(request: HttpRequest) -> HttpResponse:
    """Book a walk-in or telephone patient on the chosen day: card or cash at the desk."""
    day = _day(request.GET.get("day"), request)
    slots = list(bookable_slots(day=day)) if day >= clinic_today() else []
    online = online_payment_available()
    if request.method == "POST" and "update_total" in request.POST:
        # "Update total" without JavaScript: the same form with the chosen services' sum,
        # and no errors yet for fields not filled in.
        form = DeskBookingForm(initial=_typed_in(request.POST), slots=slots, online=online)
    else:
        form = DeskBookingForm(request.POST or None, slots=slots, online=online)
    if request.method == "POST" and form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            booking = book_at_front_desk(
                receptionist=request.user.get_username(),
                patient_name=data["patient_name"],
                gender=data["gender"],
                date_of_birth=data["date_of_birth"],
                phone=str(data["phone"]),
                service_ids=[s.pk for s in data["services"]],
                payment_token=data["payment"],
                day=day,
                slot_id=data["slot"],
            )
        except SlotUnavailable:
            form.add_error("slot", "This time was taken meanwhile: choose another.")
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                form.add_error(_FIELDS.get(field) if field in _FIELDS else None, problems)
        else:
            if booking.status == BookingStatus.AWAITING_PAYMENT:  # the link is out
                return redirect("front_desk_payment", booking_id=booking.pk)
            _tell_outcome(request, booking, payment=data["payment"])
            return redirect(f"{reverse('front_desk')}?day={day.isoformat()}")
    chosen = request.POST.getlist("services") if request.method == "POST" else []
    prices = MedicalService.objects.filter(
        pk__in=[int(pk) for pk in chosen if pk.isdigit()], active=True
    ).values_list("price", flat=True)
    context = {
        **admin.site.each_context(request),
        "title": f"Book at the desk: {day:%A %d %B %Y}",
        "day": day,
        "form": form,
        "running_total": sum(prices, Decimal("0.00")),
        "price_threshold": PRICE_THRESHOLD,
        "discount_percent": DiscountSettings.current().discount_percent,
    }
    return render(request, "admin/clinic/desk_book.html", context)


@require_http_methods(["GET", "POST"])
@permission_required(PERMISSION, raise_exception=True)
def desk_payment(request: HttpRequest, booking_id: uuid.UUID) -> HttpResponse:
    """A desk booking paid by payment link: the link as a QR code for the patient's phone,
    until when the time is held, and what became of it. Refreshes itself (no JavaScript);
    "Check now" asks the gateway (a webhook may be late, or not configured)."""
    booking = Booking.objects.filter(pk=booking_id).first()
    link = desk_payment_link_of(booking_id=booking_id) if booking else None
    if booking is None or link is None:
        raise Http404("No booking paid by payment link with this id.")
    if request.method == "POST":
        ask_gateway_now(booking_id=booking_id)
        return redirect("front_desk_payment", booking_id=booking_id)
    day = booking.visit_date or clinic_today()
    context = {
        **admin.site.each_context(request),
        "title": f"Payment link for {booking.patient_name}",
        "booking": booking,
        "link": link,
        "qr_svg": mark_safe(  # noqa: S308 (segno's own SVG of the link's URL, no input of ours)
            segno.make(link["url"], error="m").svg_inline(scale=5, title="Payment link QR code")
        ),
        "waiting": booking.status == BookingStatus.AWAITING_PAYMENT,
        "confirmed": booking.status == BookingStatus.CONFIRMED,
        "receipt_link": _print_link(booking) if booking.status == BookingStatus.CONFIRMED else "",
        "desk_url": f"{reverse('front_desk')}?day={day.isoformat()}",
    }
    return render(request, "admin/clinic/desk_payment_link.html", context)


def _typed_in(post) -> dict:
    return {
        "services": post.getlist("services"),
        **{k: post.get(k, "") for k in ("patient_name", "gender", "date_of_birth", "phone")},
        **{k: post[k] for k in ("slot", "payment") if post.get(k)},
    }


COLLECT = {"cash": "Collect {} in cash.", "counter_card": "Take {} on the card machine."}


def _tell_outcome(request: HttpRequest, booking, *, payment: str) -> None:
    if booking.status == BookingStatus.CONFIRMED:
        collect = " " + COLLECT[payment].format(format_inr(booking.final_price))
        messages.success(
            request,
            f"Booked {booking.patient_name}: confirmation {booking.confirmation_code}, "
            f"{format_inr(booking.final_price)}.{collect}",
        )
        messages.info(request, _print_link(booking))  # the 80 mm receipt, for the patient
    else:
        messages.error(
            request,
            f"The booking for {booking.patient_name} failed ({booking.failure_reason}); "
            "nothing is owed.",
        )


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
    if action == "hand_back" and booking_id is not None:
        _hand_back(request, booking_id)
        return redirect(f"{reverse('front_desk')}?day={day.isoformat()}")
    if action == "assign" and booking_id is not None:
        _assign(request, booking_id)
        return redirect(f"{reverse('front_desk')}?day={day.isoformat()}")
    if action == "undo_no_show" and booking_id is not None:
        if undo_no_show(
            booking_id=booking_id, actor=request.user.get_username(), today=clinic_today()
        ):
            messages.success(request, f"{_named(booking_id)}: the no-show is taken back.")
        else:
            messages.error(request, "Nothing changed: only a no-show marked today can be undone.")
        return redirect(f"{reverse('front_desk')}?day={day.isoformat()}")
    if outcome is None or booking_id is None:
        raise PermissionDenied("Unknown front desk action.")
    if outcome == BookingStatus.NO_SHOW and request.POST.get("confirm") != "yes":
        # A no-show tells the patient they missed their visit: asked once more, by name.
        booking = Booking.objects.filter(pk=booking_id, status=BookingStatus.CONFIRMED).first()
    else:
        booking = None
    if booking is not None:  # asked before marking (anything else is refused below)
        context = {
            **admin.site.each_context(request),
            "title": f"Mark {booking.patient_name} as a no-show?",
            "booking": booking,
            "appointment": appointment_of(booking),
            "day": day,
        }
        return render(request, "admin/clinic/front_desk_no_show.html", context)
    done = record_visit(
        booking_id=booking_id,
        outcome=outcome,
        actor=request.user.get_username(),
        today=clinic_today(),
        now=timezone.now(),
        walk_ins_over_by=walk_ins_over_by(),
    )
    if done:
        messages.success(request, f"{_named(booking_id)} marked {outcome.label}.")
    else:
        messages.error(
            request,
            "Nothing changed: the booking is not confirmed, or its visit has not begun "
            "(a walk-in is a no-show only once the clinic has closed that day).",
        )
    return redirect(f"{reverse('front_desk')}?day={day.isoformat()}")


def _assign(request: HttpRequest, booking_id: uuid.UUID) -> None:
    """Send a walk-in to a practitioner: it shows on their own day."""
    chosen = request.POST.get("practitioner", "")
    practitioner = assign_walk_in(
        booking_id=booking_id,
        practitioner_id=int(chosen) if chosen.isdigit() else 0,
        actor=request.user.get_username(),
    )
    if practitioner is None:
        messages.error(request, "Nothing changed: choose a practitioner for a walk-in still due.")
        return
    messages.success(request, f"{_named(booking_id)} goes to {practitioner.name}.")


HANDED_BACK = {"cash": "in cash", "pos": "on the card machine"}


def _hand_back(request: HttpRequest, booking_id: uuid.UUID) -> None:
    """The patient came for the refund of a desk payment: paid out of this drawer."""
    booking = Booking.objects.filter(pk=booking_id).select_related("payment").first()
    if booking is None or not hand_back_refund(
        correlation_id=booking.correlation_id, actor=request.user.get_username()
    ):
        messages.error(request, "Nothing changed: this refund was handed back already.")
        return
    refund = booking.payment.refunds.get()
    messages.success(
        request,
        f"{_named(booking_id)}: {format_inr(refund.amount)} handed back "
        f"{HANDED_BACK.get(booking.payment.method, '')} (your day close counts it).",
    )


def _named(booking_id: uuid.UUID) -> str:
    """A booking as staff know it: the patient and the confirmation code."""
    booking = Booking.objects.only("patient_name", "confirmation_code").get(pk=booking_id)
    return f"{booking.patient_name} ({booking.confirmation_code or 'no code'})"


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


# The days the front desk shows: a past year (who came) up to the booking horizon's last
# day (the policy: the desk books no further ahead than patients may).
PAST_DAYS_SHOWN = 366


def _day(text: str | None, request: HttpRequest | None = None) -> date:
    """The chosen day, or today with a message when it is malformed or out of range (a day
    far out would generate slots nobody may book, and 9999-12-31 has no next day)."""
    today = clinic_today()
    if not text:
        return today
    try:
        day = date.fromisoformat(text)
    except ValueError:
        problem = f"“{text[:20]}” is not a date (YYYY-MM-DD)"
    else:
        first, last = today - timedelta(days=PAST_DAYS_SHOWN), horizon_days()[1]
        if first <= day <= last:
            return day
        problem = (
            f"{day.isoformat()} is outside the days the front desk shows "
            f"({first.isoformat()} to {last.isoformat()}, the booking horizon)"
        )
    if request is not None:
        messages.error(request, f"{problem}; showing today instead.")
    return today


def _print_link(booking) -> str:
    """After a booking at the desk: its receipt in the thermal printer's layout."""
    url = reverse("api-booking-receipt", args=[booking.pk])
    return format_html(
        '<a href="{}?layout=80mm" target="_blank" rel="noopener">Print the receipt (80 mm)</a>',
        url,
    )
