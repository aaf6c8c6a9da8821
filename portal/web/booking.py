"""The patient pages. Thin: validate with a form, call a service, redirect (PRG).

The booking's details travel between steps in the session ("the draft"); each
step validates them again, since prices and services may change in between.
"""

import uuid
from datetime import date
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from bookings.models import Booking, BookingStatus, Gender, MedicalService, PatientProfile
from bookings.services import clinic_today
from payments.models import ONLINE_TOKEN
from payments.online import checkout_script_url, online_payment_available
from portal.authenticated import AuthenticatedHttpRequest
from portal.flows import (
    SlotUnavailable,
    start_booking,
)
from portal.presentation import cancellation_terms, quote
from portal.selectors import (
    slot_choices,
)
from portal.web.forms import (
    BookingDetailsForm,
    PaymentForm,
)
from portal.web.online_payment import allow_checkout, checkout_answer, wants_checkout
from pricing.models import DiscountSettings
from pricing.rules import PRICE_THRESHOLD
from pricing.selectors import cancellation_policy
from quotas.services import quota_for_day
from scheduling.models import Slot
from scheduling.services import check_slot_serves, walk_in_days

DRAFT = "booking_draft"
LAST_BOOKING = "last_booking"  # where Back after paying lands


def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "bookings/home.html",
        {
            "services": MedicalService.objects.filter(active=True),
            "discount_percent": DiscountSettings.current().discount_percent,
            "price_threshold": PRICE_THRESHOLD,
            "quota": quota_for_day(clinic_today()),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def book(request: AuthenticatedHttpRequest) -> HttpResponse:
    if request.method == "POST" and "update_total" in request.POST:
        # "Update total" without JavaScript: the same page with the chosen services' sum,
        # and no errors yet for fields the patient has not reached.
        form = BookingDetailsForm(initial=_form_data(request.POST))
        return _render_book(request, form, chosen=request.POST.getlist("services"))
    if request.method == "POST":
        form = BookingDetailsForm(request.POST)
        if form.is_valid():
            request.session[DRAFT] = _draft_from(form)
            if _needing_slot(request.session[DRAFT]):
                return redirect("book_slot")
            return redirect("book_review")
    elif DRAFT in request.session:
        # Coming back to change details: show them checked again, errors and all.
        form = BookingDetailsForm(request.session[DRAFT])
        form.is_valid()
    else:
        form = BookingDetailsForm(initial=_initial_from_profile(request.user))
    source = form.data if form.is_bound else form.initial
    chosen = source.getlist("services") if hasattr(source, "getlist") else source.get("services")
    return _render_book(request, form, chosen=chosen or [])


def _render_book(request: HttpRequest, form: BookingDetailsForm, *, chosen) -> HttpResponse:
    ids = [int(pk) for pk in chosen if str(pk).isdigit()]
    rows = list(
        MedicalService.objects.filter(pk__in=ids, active=True).values_list(
            "price", "requires_appointment"
        )
    )
    return render(
        request,
        "bookings/book.html",
        {
            "form": form,
            "running_total": sum((price for price, _needs in rows), Decimal("0.00")),
            # Where "Continue" leads (None: nothing chosen yet, so it cannot say).
            "needs_time": any(needs for _price, needs in rows) if rows else None,
            "price_threshold": PRICE_THRESHOLD,
            "discount_percent": DiscountSettings.current().discount_percent,
        },
    )


def _form_data(post) -> dict:
    return {
        "services": post.getlist("services"),
        "patient_name": post.get("patient_name", ""),
        "gender": post.get("gender", ""),
        "date_of_birth": post.get("date_of_birth", ""),
    }


@login_required
@require_http_methods(["GET", "POST"])
def book_review(request: AuthenticatedHttpRequest) -> HttpResponse:
    if request.method == "POST":
        payment = PaymentForm(request.POST)
        # A repeated "Confirm & Pay" (double click, back and resubmit) finds its booking.
        earlier = _booking_for_key(request, request.POST.get("request_key", ""))
        if earlier is not None:
            if wants_checkout(request):
                return checkout_answer(request, earlier)
            return redirect("booking_detail", pk=earlier.pk)
    else:
        payment = PaymentForm(initial={"request_key": uuid.uuid4()})

    details = BookingDetailsForm(request.session.get(DRAFT) or None)
    if not details.is_bound:
        last = request.session.get(LAST_BOOKING)
        if last and Booking.objects.filter(pk=last, user=request.user).exists():
            # Back after paying: the booking just made, not an empty form.
            return redirect("booking_detail", pk=last)
        messages.info(request, _("Choose the services to book first."))
        return redirect("book")
    if not details.is_valid():
        messages.error(request, _("Some details need another look before you pay."))
        return redirect("book")

    needing = _needing_slot(request.session[DRAFT])
    chosen = _chosen_slot(request.session[DRAFT], needing)
    if needing and chosen is None:
        messages.info(request, _("Choose a day and a time for your appointment."))
        return redirect("book_slot")

    today = clinic_today()
    # The online gateway takes no card here: the patient pays in its checkout.
    online = online_payment_available()
    if online:
        del payment.fields["card_number"]
    if needing:
        del payment.fields["visit_date"]  # the slot says when
    else:
        payment.offer_days(walk_in_days())

    if request.method == "POST" and payment.is_valid():
        try:
            booking = start_booking(
                user=request.user,
                patient_name=details.cleaned_data["patient_name"],
                gender=details.cleaned_data["gender"],
                date_of_birth=details.cleaned_data["date_of_birth"],
                service_ids=[s.pk for s in details.cleaned_data["services"]],
                payment_token=ONLINE_TOKEN if online else payment.payment_token,
                request_key=str(payment.cleaned_data["request_key"]),
                slot_id=chosen.pk if chosen else None,
                visit_date=None if needing else payment.cleaned_data["visit_date"] or today,
                # The price this page showed: never charge more than that.
                expected_total=payment.cleaned_data["expected_total"],
            )
        except SlotUnavailable:
            assert chosen is not None  # only a chosen slot can be taken
            messages.error(request, _("That time was just taken. Please choose another."))
            draft = request.session[DRAFT]
            draft.pop("slot_id", None)
            request.session[DRAFT] = draft
            day = timezone.localtime(chosen.start).date().isoformat()
            return redirect(f"{reverse('book_slot')}?day={day}")
        except ValidationError as error:
            _add_service_errors(
                payment, error, default_field=None, fields={"payment_token": "card_number"}
            )
        else:
            booking.refresh_from_db()
            request.session[LAST_BOOKING] = str(booking.pk)
            # Done with the draft once booked (or waiting for its online payment, which
            # holds the time): Back lands on this booking, not a second one.
            if booking.status in (BookingStatus.CONFIRMED, BookingStatus.AWAITING_PAYMENT):
                request.session.pop(DRAFT, None)
            if online and wants_checkout(request):
                return checkout_answer(request, booking)  # the checkout opens over this page
            return redirect("booking_detail", pk=booking.pk)

    data = details.cleaned_data
    quota = quota_for_day(today)
    shown = quote(
        services=data["services"],
        gender=data["gender"],
        date_of_birth=data["date_of_birth"],
        today=today,
        discount_percent=DiscountSettings.current().discount_percent,
        discounts_left=quota.remaining,
    )
    # The form carries the price shown now, also when it comes back with an error.
    payment.show_amount(shown.expected_final)
    response = render(
        request,
        "bookings/review.html",
        {
            "details": data,
            "gender_label": Gender(data["gender"]).label,
            "quote": shown,
            "quota": quota,
            "price_threshold": PRICE_THRESHOLD,
            "form": payment,
            "slot": chosen,
            "needs_time": bool(needing),
            # The terms as they stand now, for this visit's time when it has one (a
            # walk-in's counts to the end of its day, chosen on this page).
            "cancellation_terms": cancellation_terms(
                policy=cancellation_policy(), visit_starts=chosen.start if chosen else None
            ),
            "online": online,
            "checkout_script_url": checkout_script_url() if online else "",
        },
    )
    return allow_checkout(response) if online else response


@login_required
@require_http_methods(["GET", "POST"])
def book_slot(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Pick a day (GET ?day=), then a practitioner's free time (POST slot)."""
    draft = request.session.get(DRAFT)
    if not draft:
        messages.info(request, _("Choose the services to book first."))
        return redirect("book")
    needing = _needing_slot(draft)
    if not needing:
        return redirect("book_review")
    if request.method == "POST":
        # The form posts to the day's own address (?day=): a time of another day (a
        # stale tab, a crafted form) is refused with that day's times shown again.
        shown_day = _iso_day(request.GET.get("day"))
        try:
            slot_id = int(request.POST.get("slot", ""))
            check_slot_serves(slot_id=slot_id, service_ids=needing, day=shown_day)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(_slot_step(shown_day))
        except (ValueError, SlotUnavailable):
            messages.error(request, _("Choose one of the free times shown."))
            return redirect(_slot_step(shown_day))
        request.session[DRAFT] = {**draft, "slot_id": slot_id}
        return redirect("book_review")

    context = slot_choices(request.GET, needing, picker_url=request.path)
    return render(request, "bookings/book_slot.html", context)


def _iso_day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _slot_step(day: date | None) -> str:
    return reverse("book_slot") + (f"?day={day.isoformat()}" if day else "")


def _needing_slot(draft: dict) -> list[int]:
    """The draft's services that need an appointment."""
    return list(
        MedicalService.objects.filter(
            pk__in=draft.get("services", []), active=True, requires_appointment=True
        ).values_list("pk", flat=True)
    )


def _chosen_slot(draft: dict, needing: list[int]) -> Slot | None:
    slot_id = draft.get("slot_id")
    if not needing or slot_id is None:
        return None
    return Slot.objects.select_related("practitioner").filter(pk=slot_id).first()


def _booking_for_key(request: AuthenticatedHttpRequest, key: str) -> Booking | None:
    try:
        key = str(uuid.UUID(key))
    except ValueError:
        return None
    return Booking.objects.filter(user=request.user, request_key=key).first()


def _draft_from(form: BookingDetailsForm) -> dict:
    """The details as form data (JSON-safe), so each step can validate them again."""
    data = form.cleaned_data
    return {
        "services": [str(s.pk) for s in data["services"]],
        "patient_name": data["patient_name"],
        "gender": data["gender"],
        "date_of_birth": data["date_of_birth"].isoformat(),
    }


def _initial_from_profile(user) -> dict:
    try:
        profile = user.patient_profile
    except PatientProfile.DoesNotExist:
        return {"patient_name": user.get_full_name()}
    return {
        "patient_name": profile.full_name,
        "gender": profile.gender,
        "date_of_birth": profile.date_of_birth,
    }


def _add_service_errors(form, error: ValidationError, *, default_field, fields=None) -> None:
    """Put a service's ValidationError next to the form's fields it names."""
    fields = fields or {}
    if not hasattr(error, "error_dict"):
        form.add_error(default_field, error.messages)
        return
    for key, messages_ in error.message_dict.items():
        field = fields.get(key, key)
        form.add_error(field if field in form.fields else None, messages_)
