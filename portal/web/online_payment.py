"""Paying online on the patient pages (shared/API.md, "Paying online").

With JavaScript the review page opens the gateway's checkout over itself (Razorpay's
checkout.js contract) and posts the proof it hands back to `payment_return`; without
it, the booking's page sends the patient to the gateway's hosted page, which posts the
proof to the same view. Either way the proof goes through `accept_checkout_proof`, the
same service as the API's proof, so the webhook and reconciliation may race it safely.
"""

import uuid

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from bookings.models import Booking, BookingStatus
from payments.online import (
    accept_checkout_proof,
    checkout_origins,
    checkout_script_url,
    hosted_checkout_url,
    online_order_of,
)

BAD_SIGNATURE = "bad_signature"
KEPT = ("captured", "already")


class CheckoutProofForm(forms.Form):
    """What the checkout (hosted page or checkout.js's handler) posts on success."""

    razorpay_order_id = forms.CharField(max_length=64)
    razorpay_payment_id = forms.CharField(max_length=64)
    razorpay_signature = forms.CharField(max_length=128)


def allow_checkout(response: HttpResponse) -> HttpResponse:
    """Let this page load the gateway's checkout: its origins, from settings, only here."""
    response._csp_update = checkout_origins()  # type: ignore[attr-defined]  # django-csp's
    return response


def checkout_of(request: HttpRequest, booking: Booking) -> dict | None:
    """What a page needs to open the checkout of a booking awaiting payment (or None):
    checkout.js's options, the hosted page's form fields and where they go."""
    if booking.status != BookingStatus.AWAITING_PAYMENT:
        return None
    order = online_order_of(booking_id=booking.pk)
    if order is None:
        return None
    callback = request.build_absolute_uri(reverse("booking_payment_return", args=[booking.pk]))
    page = request.build_absolute_uri(reverse("booking_detail", args=[booking.pk]))
    user = booking.user
    profile = getattr(user, "patient_profile", None)
    prefill = {"name": booking.patient_name, "email": user.email}
    if profile is not None and profile.phone:
        prefill["contact"] = str(profile.phone)
    return {
        "order": order,
        "script_url": checkout_script_url(),
        "hosted_url": hosted_checkout_url(),
        "callback_url": callback,
        "booking_url": page,
        "options": {
            "key": order["key_id"],
            "order_id": order["order_id"],
            "amount": order["amount_paise"],
            "currency": order["currency"],
            "name": _("City Clinic"),
            "description": _("Booking %(code)s") % {"code": booking.confirmation_code},
            "prefill": prefill,
        },
    }


def checkout_answer(request: HttpRequest, booking: Booking) -> JsonResponse:
    """The review page's script asked for the checkout of the booking it just made: the
    options to open it with, or where to go when there is nothing to pay (failed)."""
    checkout = checkout_of(request, booking)
    if checkout is None:
        return JsonResponse({"redirect": reverse("booking_detail", args=[booking.pk])}, status=200)
    return JsonResponse(
        {
            "options": checkout["options"],
            "callback_url": reverse("booking_payment_return", args=[booking.pk]),
            "booking_url": reverse("booking_detail", args=[booking.pk]),
        }
    )


def wants_checkout(request: HttpRequest) -> bool:
    """The review page's script (it asks for JSON); a plain form post wants a page."""
    return request.headers.get("Accept", "").startswith("application/json")


@csrf_exempt  # posted by the gateway's page, cross-site: the signature is the proof
@require_http_methods(["GET", "POST"])
def payment_return(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """Where the checkout sends the patient back: the signed proof on success (checked by
    the same service as the API's), Razorpay's `error[…]` fields on failure, nothing on
    a GET (the hosted page's cancel link). No session is needed (a cross-site POST
    carries no SameSite cookie): the proof alone decides, and the page it leads to is
    the booking's own, for its owner only."""
    booking = get_object_or_404(Booking.objects.only("pk", "status"), pk=pk)
    if request.method == "GET":
        return redirect("booking_detail", pk=booking.pk)
    if any(key.startswith("error[") for key in request.POST):
        messages.error(request, _payment_failed_words(booking))
        return redirect("booking_detail", pk=booking.pk)
    proof = CheckoutProofForm(request.POST)
    if not proof.is_valid():
        return _refused(request, booking)
    outcome = accept_checkout_proof(
        booking_id=booking.pk,
        order_id=proof.cleaned_data["razorpay_order_id"],
        payment_id=proof.cleaned_data["razorpay_payment_id"],
        signature=proof.cleaned_data["razorpay_signature"],
    )
    if outcome == BAD_SIGNATURE:
        return _refused(request, booking)
    if outcome not in KEPT and outcome != "reversed":
        # Not captured yet, or the gateway did not answer: the webhook or the worker's
        # reconciliation settles it; the waiting page refreshes until then.
        messages.info(request, _("Your payment is being confirmed by the bank. Please wait."))
    return redirect("booking_detail", pk=booking.pk)


def _payment_failed_words(booking: Booking) -> str:
    order = online_order_of(booking_id=booking.pk)
    if order is None or booking.status != BookingStatus.AWAITING_PAYMENT:
        return _("The payment did not go through. Nothing was charged.")
    until = time_format(timezone.localtime(order["expires_at"]), "H:i")
    return _(
        "The payment did not go through. Nothing was charged. You can try again "
        "until %(until)s IST: your time is held until then."
    ) % {"until": until}


def _refused(request: HttpRequest, booking: Booking) -> HttpResponse:
    return render(
        request,
        "bookings/payment_refused.html",
        {"booking": booking},
        status=400,
    )
