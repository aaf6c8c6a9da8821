"""The patient pages. Thin: validate with a form, call a service, redirect (PRG).

The booking's details travel between steps in the session ("the draft"); each
step validates them again, since prices and services may change in between.
"""

import uuid

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from bookings.models import Booking, BookingStatus, MedicalService, PatientProfile
from bookings.services import clinic_today, register_patient
from portal.forms import BookingDetailsForm, PaymentForm, SignUpForm
from portal.presentation import (
    PRICE_CHANGED,
    discount_in_words,
    failure_in_words,
    quote,
    timeline,
)
from portal.services import start_booking
from portal.throttles import LoginThrottle
from pricing.models import DiscountSettings
from pricing.rules import PRICE_THRESHOLD
from quotas.services import quota_for_day

DRAFT = "booking_draft"
BOOKINGS_PER_PAGE = 10


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
            )
        except ValidationError as error:
            _add_service_errors(form, error, default_field="password")
        else:
            login(request, user)
            messages.success(request, "Welcome! Your account is ready.")
            return redirect("book")
    return render(request, "registration/signup.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def book(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = BookingDetailsForm(request.POST)
        if form.is_valid():
            request.session[DRAFT] = _draft_from(form)
            return redirect("book_review")
    elif DRAFT in request.session:
        # Coming back to change details: show them checked again, errors and all.
        form = BookingDetailsForm(request.session[DRAFT])
        form.is_valid()
    else:
        form = BookingDetailsForm(initial=_initial_from_profile(request.user))
    return render(request, "bookings/book.html", {"form": form})


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
        messages.info(request, "Choose the services to book first.")
        return redirect("book")
    if not details.is_valid():
        messages.error(request, "Some details need another look before you pay.")
        return redirect("book")

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
                # The price this page showed: never charge more than that.
                expected_total=payment.cleaned_data["expected_total"],
            )
        except ValidationError as error:
            _add_service_errors(
                payment, error, default_field=None, fields={"payment_token": "card_number"}
            )
        else:
            booking.refresh_from_db()
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
            "quote": shown,
            "quota": quota,
            "price_threshold": PRICE_THRESHOLD,
            "form": payment,
        },
    )


@login_required
def my_bookings(request: HttpRequest) -> HttpResponse:
    bookings = (
        Booking.objects.filter(user=request.user)
        .prefetch_related("items")
        .order_by("-created_at", "-pk")
    )
    page = Paginator(bookings, BOOKINGS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "bookings/my_bookings.html", {"page": page})


@login_required
def booking_detail(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    # Another patient's booking does not exist, as far as this patient can tell.
    booking = get_object_or_404(Booking, pk=pk, user=request.user)
    return render(
        request,
        "bookings/booking_detail.html",
        {
            "booking": booking,
            "items": booking.items.all(),
            "discount_words": discount_in_words(booking),
            "failure_words": failure_in_words(booking.failure_reason),
            "timeline": timeline(booking),
            "can_retry": booking.status == BookingStatus.FAILED and DRAFT in request.session,
            "price_changed": booking.failure_reason == PRICE_CHANGED,
        },
    )


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
    """Django's login page, sharing the API login's rate limit (THROTTLE_LOGIN_RATE):
    password guessing through the web form is slowed exactly as through the API."""

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        throttle = LoginThrottle()
        if not throttle.allow_request(request, self):
            response = render(request, "429.html", status=429)
            response["Retry-After"] = str(int(throttle.wait() or 1))
            return response
        return super().post(request, *args, **kwargs)
