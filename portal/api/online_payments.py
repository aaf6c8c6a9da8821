"""Paying online at the edge (shared/API.md, "Paying online"): the checkout's proof
(POST /api/booking/<id>/payment) and Razorpay's webhook (POST /webhooks/razorpay).

Thin: validate, call payments' one service, answer. The proof and the webhook end in
the same `payments.online.record_capture`, so whichever arrives first confirms.
"""

import json
import uuid

from django.conf import settings
from django.db.models import Prefetch
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from bookings.models import Booking, BookingItem
from payments import webhooks
from payments.online import accept_checkout_proof
from payments.razorpay_gateway import webhook_signature_holds
from portal.api.schema import errors
from portal.api.serializers import BookingOutputSerializer
from portal.selectors import with_appointments

BAD_SIGNATURE = "bad_signature"


class PaymentProofInputSerializer(serializers.Serializer):
    razorpay_order_id = serializers.CharField(max_length=64)
    razorpay_payment_id = serializers.CharField(max_length=64)
    razorpay_signature = serializers.CharField(max_length=128)


class PaymentProofView(APIView):
    @extend_schema(
        operation_id="booking_payment_proof",
        tags=["bookings"],
        summary="The online checkout's proof of payment for this booking.",
        description=(
            "200 the booking (`confirmed` once the capture is verified at the gateway); "
            'the same proof again gets the same answer. 400 `"code": "bad_signature"` when '
            "the signature does not verify against the order this booking stored."
        ),
        parameters=[OpenApiParameter("booking_id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
        request=PaymentProofInputSerializer,
        responses={
            200: BookingOutputSerializer,
            **errors(400, 401, 404, 415),
        },
    )
    def post(self, request, booking_id: str):
        booking = _own_booking(request, booking_id)
        given = PaymentProofInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        outcome = accept_checkout_proof(
            booking_id=booking.pk,
            order_id=given.validated_data["razorpay_order_id"],
            payment_id=given.validated_data["razorpay_payment_id"],
            signature=given.validated_data["razorpay_signature"],
        )
        if outcome == BAD_SIGNATURE:
            return Response(
                {
                    "detail": "The payment's signature does not verify for this booking's order.",
                    "code": BAD_SIGNATURE,
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        booking = _with_items().get(pk=booking.pk)  # as the capture left it
        return Response(BookingOutputSerializer(booking).data)


def _with_items():
    return with_appointments(
        Booking.objects.prefetch_related(
            Prefetch("items", queryset=BookingItem.objects.order_by("id"))
        )
    )


def _own_booking(request, booking_id: str) -> Booking:
    try:
        pk = uuid.UUID(booking_id)
    except ValueError:
        raise NotFound("No such booking.") from None
    booking = Booking.objects.filter(pk=pk, user=request.user).only("pk").first()
    if booking is None:
        raise NotFound("No such booking.")
    return booking


def _refused(detail: str, code: str) -> JsonResponse:
    return JsonResponse({"detail": detail, "code": code}, status=400)


@extend_schema(exclude=True)
@csrf_exempt
@require_POST
def razorpay_webhook(request):
    """For Razorpay alone: accepted only with `X-Razorpay-Signature` over the raw body
    under RAZORPAY_WEBHOOK_SECRET (an empty secret accepts nothing); stored once by
    `X-Razorpay-Event-Id`; answered at once (the work follows from the stored row)."""
    body = request.body
    if not webhook_signature_holds(
        body=body,
        signature=request.headers.get("X-Razorpay-Signature", ""),
        secret=settings.RAZORPAY_WEBHOOK_SECRET,
    ):
        return _refused("The signature does not verify.", BAD_SIGNATURE)
    try:
        envelope = json.loads(body)
    except ValueError:  # UnicodeDecodeError included
        return _refused("The body is not JSON.", "not_json")
    event_id = request.headers.get("X-Razorpay-Event-Id", "").strip()
    if not event_id or len(event_id) > webhooks.MAX_EVENT_ID or not event_id.isascii():
        return _refused("X-Razorpay-Event-Id is missing or malformed.", "bad_envelope")
    try:
        event = webhooks.read_envelope(envelope)
    except webhooks.UnreadableEnvelope as error:
        return _refused(f"The event cannot be read: {error}.", "bad_envelope")
    if event not in webhooks.HANDLED:
        return JsonResponse({"status": "ignored"})
    stored = webhooks.store(event_id=event_id, event_type=event, envelope=envelope)
    return JsonResponse({"status": "accepted" if stored else "duplicate"})
