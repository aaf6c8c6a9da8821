"""The patient pages. Thin: validate with a form, call a service, redirect (PRG).

The booking's details travel between steps in the session ("the draft"); each
step validates them again, since prices and services may change in between.
"""

import uuid
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from bookings.models import Booking, BookingStatus, Gender, MedicalService, PatientProfile
from bookings.money import format_inr as inr
from bookings.services import NotCancellable, clinic_today, register_patient
from portal.appointments import appointment_of, calendar_file, with_appointments
from portal.forms import (
    BookingDetailsForm,
    PaymentForm,
    PrivatePasswordResetForm,
    SignUpForm,
    SlotDayForm,
)
from portal.login_guard import client_address, seconds_until_allowed
from portal.presentation import (
    PRICE_CHANGED,
    discount_in_words,
    failure_in_words,
    quote,
    timeline,
)
from portal.receipts import receipt_links
from portal.services import (
    NotReschedulable,
    RefundLowered,
    SlotUnavailable,
    cancel_booking,
    cancellation_quote,
    refund_of,
    reschedule_booking,
    reschedule_quote,
    start_booking,
)
from portal.throttles import LoginThrottle, LoginUsernameThrottle
from pricing.models import DiscountSettings
from pricing.rules import PRICE_THRESHOLD
from quotas.services import quota_for_day
from scheduling.models import Practitioner, Slot
from scheduling.selectors import bookable_slots, days_with_free_slots, practitioners_providing
from scheduling.services import check_slot_serves, horizon_days

DRAFT = "booking_draft"
LAST_BOOKING = "last_booking"  # where Back after paying lands
BOOKINGS_PER_PAGE = 10
DAYS_SHOWN = 14  # the slot step lists the next fortnight's days that have free times


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


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    if request.method == "POST":
        refused = _too_many(
            request, scope="signup", rate=settings.SIGNUP_RATE, what=_("signing up")
        )
        if refused is not None:
            return refused
    form = SignUpForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = register_patient(
                username=data["username"],
                password=data["password"],
                email=data["email"],
                full_name=data["full_name"],
                gender=data["gender"],
                date_of_birth=data["date_of_birth"],
                phone=data["phone"] or "",
                language=data["language"] or "en",
            )
        except ValidationError as error:
            _add_service_errors(form, error, default_field="password")
        else:
            # Named: with axes' backend listed first, Django cannot guess which one applies.
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Welcome! Your account is ready."))
            return redirect("book")
    return render(request, "registration/signup.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def book(request: HttpRequest) -> HttpResponse:
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
    prices = MedicalService.objects.filter(pk__in=ids, active=True).values_list("price", flat=True)
    return render(
        request,
        "bookings/book.html",
        {
            "form": form,
            "running_total": sum(prices, Decimal("0.00")),
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
def book_review(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        payment = PaymentForm(request.POST)
        # A repeated "Confirm & Pay" (double click, back and resubmit) finds its booking.
        earlier = _booking_for_key(request, request.POST.get("request_key", ""))
        if earlier is not None:
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

    if request.method == "POST" and payment.is_valid():
        try:
            booking = start_booking(
                user=request.user,
                patient_name=details.cleaned_data["patient_name"],
                gender=details.cleaned_data["gender"],
                date_of_birth=details.cleaned_data["date_of_birth"],
                service_ids=[s.pk for s in details.cleaned_data["services"]],
                payment_token=payment.payment_token,
                request_key=str(payment.cleaned_data["request_key"]),
                slot_id=chosen.pk if chosen else None,
                # The price this page showed: never charge more than that.
                expected_total=payment.cleaned_data["expected_total"],
            )
        except SlotUnavailable:
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
            if booking.status == BookingStatus.CONFIRMED:
                request.session.pop(DRAFT, None)
            return redirect("booking_detail", pk=booking.pk)

    data = details.cleaned_data
    today = clinic_today()
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
    return render(
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
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def book_slot(request: HttpRequest) -> HttpResponse:
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

    context = slot_choices(request, needing)
    return render(request, "bookings/book_slot.html", context)


def slot_choices(request: HttpRequest, needing: list[int], *, excluding: int | None = None) -> dict:
    """The slot step's context (also the "Change time" pages'): the next days with
    free times, or, with ?day=, each practitioner's free times that day."""
    if not Practitioner.objects.filter(
        active=True, pk__in=practitioners_providing(needing)
    ).exists():
        # One slot per booking, and nobody provides all of these (a consultation and a
        # scan): say so instead of showing no free times.
        names = MedicalService.objects.filter(pk__in=needing).order_by("name")
        return {"nobody_provides": [s.name for s in names], "picker_url": request.path}
    first, last = horizon_days()
    day_form = SlotDayForm(request.GET or None, first=first, last=last)
    day = day_form.cleaned_data["day"] if day_form.is_valid() else None
    context = {"day_form": day_form, "day": day, "picker_url": request.path}
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


@login_required
def my_bookings(request: HttpRequest) -> HttpResponse:
    bookings = with_appointments(
        Booking.objects.filter(user=request.user)
        .prefetch_related("items")
        .order_by("-created_at", "-pk")
    )
    page = Paginator(bookings, BOOKINGS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request, "bookings/my_bookings.html", {"page": page, "rows": _with_retries(list(page))}
    )


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
def booking_detail(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    # Another patient's booking does not exist, as far as this patient can tell.
    booking = get_object_or_404(with_appointments(Booking.objects), pk=pk, user=request.user)
    return render(
        request,
        "bookings/booking_detail.html",
        {
            "booking": booking,
            "appointment": appointment_of(booking),
            "items": booking.items.all(),
            "discount_words": discount_in_words(booking),
            "failure_words": failure_in_words(booking.failure_reason),
            "timeline": timeline(booking),
            "can_retry": booking.status == BookingStatus.FAILED,
            "price_changed": booking.failure_reason == PRICE_CHANGED,
            "cancellation": cancellation_quote(booking, by_staff=False),
            "moving": reschedule_quote(booking, by_staff=False),
            "refund": refund_of(booking) if booking.status == BookingStatus.CANCELLED else None,
            "receipts": receipt_links(booking),  # issue 24
        },
    )


@login_required
@require_http_methods(["POST"])
def booking_retry(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """ "Try again with another card": a new draft of this failed booking's own services and
    patient (never the session's newest draft), then its review, or its time if it needs one."""
    booking = get_object_or_404(Booking, pk=pk, user=request.user, status=BookingStatus.FAILED)
    request.session[DRAFT] = {
        "services": [str(pk) for pk in booking.items.values_list("service_id", flat=True)],
        "patient_name": booking.patient_name,
        "gender": booking.gender,
        "date_of_birth": booking.date_of_birth.isoformat(),
    }
    if _needing_slot(request.session[DRAFT]):
        return redirect("book_slot")
    return redirect("book_review")


@login_required
def booking_calendar(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """ "Add to calendar": the appointment's .ics, for its owner."""
    booking = get_object_or_404(with_appointments(Booking.objects), pk=pk, user=request.user)
    appointment = appointment_of(booking)
    if appointment is None:
        raise Http404("This booking has no appointment.")
    response = HttpResponse(
        calendar_file(booking, appointment), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="appointment-{booking.pk}.ics"'
    return response


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


@login_required
@require_http_methods(["GET", "POST"])
def cancel(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """Show exactly what comes back before the patient confirms; then cancel."""
    booking = get_object_or_404(Booking, pk=pk, user=request.user)
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
            refund = refund_of(cancelled)
            if not refund["amount"]:
                said = _("Your booking is cancelled. Nothing was refunded.")
            elif refund["status"] == "refunded":
                said = _("Your booking is cancelled. %(amount)s is back on your card.")
            else:
                said = _("Your booking is cancelled. %(amount)s is on its way.")
            messages.success(request, said % {"amount": inr(refund["amount"])})
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
def reschedule(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """ "Change time": the deadline first, then a day and a free time; POST moves it."""
    booking = get_object_or_404(with_appointments(Booking.objects), pk=pk, user=request.user)
    moving = reschedule_quote(booking, by_staff=False)
    if not moving.allowed:
        messages.error(request, moving.reason)
        return redirect("booking_detail", pk=booking.pk)
    if request.method == "POST":
        if move_booking(request, booking, by_staff=False):
            return redirect("booking_detail", pk=booking.pk)
        return redirect("booking_reschedule", pk=booking.pk)
    appointment = appointment_of(booking)
    context = slot_choices(
        request, appointment_services(booking), excluding=appointment and appointment.slot_id
    )
    context.update(booking=booking, appointment=appointment, moving=moving)
    return render(request, "bookings/reschedule.html", context)


def appointment_services(booking: Booking) -> list[int]:
    return list(
        booking.items.filter(service__requires_appointment=True).values_list(
            "service_id", flat=True
        )
    )


def move_booking(request: HttpRequest, booking: Booking, *, by_staff: bool) -> bool:
    """POST slot: move the booking there, saying how it went (the patient's and the
    staff's pages share it). True when it moved."""
    try:
        slot_id = int(request.POST.get("slot", ""))
        moved = reschedule_booking(
            booking=booking, slot_id=slot_id, actor=request.user.get_username(), by_staff=by_staff
        )
    except (ValueError, ValidationError, SlotUnavailable):
        messages.error(
            request, _("That time is no longer free; choose another of the times shown.")
        )
        return False
    except NotReschedulable as refused:
        messages.error(request, str(refused))
        return False
    when = date_format(timezone.localtime(moved.appointment_start), "l j F Y, H:i")
    messages.success(request, _("Moved: the appointment is now %(when)s IST.") % {"when": when})
    return True


def _booking_for_key(request: HttpRequest, key: str) -> Booking | None:
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


class ThrottledLoginView(auth_views.LoginView):
    """Django's login page, sharing the API login's rate limits (THROTTLE_LOGIN_RATE, per
    address and per username): password guessing through the web form is slowed exactly
    as through the API. The lockout (django-axes) covers this door as well."""

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        for throttle in (LoginThrottle(), LoginUsernameThrottle()):
            if not throttle.allow_request(request, self):
                response = render(request, "429.html", {"paused": _("logging in")}, status=429)
                response["Retry-After"] = str(int(throttle.wait() or 1))
                return response
        return super().post(request, *args, **kwargs)


class ThrottledPasswordResetView(auth_views.PasswordResetView):
    """Django's password reset, limited per address and per e-mail address
    (PASSWORD_RESET_RATE): nobody can flood an inbox or the mail server with reset mails."""

    form_class = PrivatePasswordResetForm

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        refused = _too_many(
            request,
            scope="password-reset",
            rate=settings.PASSWORD_RESET_RATE,
            what=_("sending password reset e-mails"),
        )
        if refused is not None:
            return refused
        return super().post(request, *args, **kwargs)


def _too_many(request: HttpRequest, *, scope: str, rate: str, what: str) -> HttpResponse | None:
    """A 429 page when this address or the e-mail address in the form is over `rate`."""
    idents = [f"address:{client_address(request)}"]
    email = request.POST.get("email", "").strip().casefold()
    if email:
        idents.append(f"email:{email}")
    wait = seconds_until_allowed(scope=scope, idents=idents, rate=rate)
    if not wait:
        return None
    response = render(request, "429.html", {"paused": what}, status=429)
    response["Retry-After"] = str(wait)
    return response
