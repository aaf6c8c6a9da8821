"""The API's bookings: book, list, read, .ics, cancel, reschedule (shared/API.md).

Thin views: an input serializer validates, a flow acts, an output serializer renders.
Every answer is described in the schema."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from bookings import events
from bookings.models import Booking, BookingStatus
from bookings.services import NotCancellable
from portal.api import idempotency
from portal.api.errors import Conflict
from portal.api.schema import (
    BOOKING_EXAMPLES,
    IDEMPOTENCY_KEY_HEADER,
    LOCATION_HEADER,
    errors,
    retry_after_header,
)
from portal.api.serializers import (
    BookingInputSerializer,
    BookingOutputSerializer,
    BookingStatusOutputSerializer,
    CancelInputSerializer,
    CancellationQuoteOutputSerializer,
    CancelledBookingOutputSerializer,
    RescheduleInputSerializer,
)
from portal.flows import (
    NotReschedulable,
    cancel_booking,
    cancellation_quote,
    refund_of,
    reschedule_booking,
    start_booking,
)
from portal.selectors import (
    VIEW_ANY_BOOKING,
    appointment_of,
    calendar_download,
    staff_may,
    visible_booking,
    visible_bookings,
    with_items_and_appointments,
)
from portal.throttles import BookingThrottle


class IdempotencyConflict(Conflict):
    """shared/API.md: the 409 of an Idempotency-Key still in flight says so in its code."""

    def __init__(self) -> None:
        super().__init__(
            "A request with this Idempotency-Key is still being processed; retry.",
            code="request_in_flight",
        )


class IdempotencyMismatch(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was already used with a different request body."
    default_code = "idempotency_key_reused"


# --- Bookings ----------------------------------------------------------------


def _status_location(booking_id: str) -> str:
    return f"/api/booking/{booking_id}/status"


class BookingPagination(PageNumberPagination):
    page_size = 20

    def get_page_number(self, request, paginator) -> str:
        # Only plain page numbers (not DRF's "last", not " 2" or "1_0"): anything else is 404.
        number = request.query_params.get(self.page_query_param, "1")
        if not (number.isascii() and number.isdigit()):
            raise NotFound("Invalid page.")
        return number


class BookingListCreateView(GenericAPIView):
    pagination_class = BookingPagination

    def get_throttles(self):
        # Only creating bookings is throttled; reading one's own list is not.
        return [BookingThrottle()] if self.request.method == "POST" else []

    @extend_schema(
        operation_id="bookings_list",
        tags=["bookings"],
        summary="The user's own bookings, newest first, paginated.",
        responses={
            200: BookingOutputSerializer(many=True),
            **errors(401, 404),
        },
    )
    def get(self, request):
        bookings = visible_bookings(request.user, among=with_items_and_appointments())
        bookings = bookings.order_by("-created_at", "-pk")
        page = self.paginate_queryset(bookings)
        return self.get_paginated_response(BookingOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="bookings_create",
        tags=["bookings"],
        summary="Book services: runs the saga and answers with the booking as it ended.",
        description=(
            "A failed booking (declined card) is still a 201: the request was valid and "
            "the saga ran; `failure_reason` says why."
        ),
        request=BookingInputSerializer,
        parameters=[IDEMPOTENCY_KEY_HEADER, LOCATION_HEADER, retry_after_header()],
        examples=BOOKING_EXAMPLES,
        responses={
            201: OpenApiResponse(
                BookingOutputSerializer,
                description="The booking; Location: /api/booking/<id>/status.",
            ),
            **errors(400, 401, 403, 409, 415, 422, 429, 503),
        },
    )
    def post(self, request):
        key = request.headers.get("Idempotency-Key")
        request_key = None if key is None else idempotency.booking_request_key(key)
        answer = _once_per_key(
            request,
            # The body as sent: a replay is answered before the body is validated, so it
            # gets the stored answer whatever has changed since (a service withdrawn,
            # a birth date now too long ago).
            fingerprint=request.data,
            produce=lambda: self._book(request.data, request_key=request_key),
            # The booking made under this key (its request may have died after making
            # it: a retry gets its answer once its saga has ended).
            booking_made=lambda: Booking.objects.filter(
                user=request.user, request_key=request_key
            ).first(),
            answer_for=self._answer_for,
        )
        return Response(
            answer.body,
            status=answer.status,
            headers={"Location": _status_location(answer.body["id"])},
        )

    def _book(self, data, *, request_key: str | None):
        given = BookingInputSerializer(data=data)
        given.is_valid(raise_exception=True)
        user = self.request.user
        assert user.is_authenticated  # IsAuthenticated let the request in
        with events.collect_delivered() as delivered:
            booking = start_booking(user=user, request_key=request_key, **given.validated_data)
        # A walk-in whose saga ended in this request is answered from its events, with no
        # re-read; otherwise (an appointment, a saga another process ends) from the rows.
        ended = events.apply_delivered(booking, delivered.get(booking.correlation_id, {}))
        walk_in = given.validated_data.get("slot_id") is None
        return self._answer_for(booking, as_is=ended and walk_in), booking

    @staticmethod
    def _answer_for(booking: Booking, *, as_is: bool = False) -> idempotency.Answer:
        if not as_is:
            booking = with_items_and_appointments().get(pk=booking.pk)  # as the saga left it
        body = BookingOutputSerializer(booking).data
        return idempotency.Answer(status=status.HTTP_201_CREATED, body=body)


class BookingStatusView(APIView):
    @extend_schema(
        operation_id="booking_status",
        tags=["bookings"],
        summary="One booking and its saga's events in order. The owner's and staff's only.",
        parameters=[
            OpenApiParameter("booking_id", OpenApiTypes.UUID, OpenApiParameter.PATH),
        ],
        responses={200: BookingStatusOutputSerializer, **errors(401, 404)},
    )
    def get(self, request, booking_id: str):
        booking = visible_booking(
            request.user,
            booking_id,
            staff_permission=VIEW_ANY_BOOKING,
            among=with_items_and_appointments(),
        )
        if booking is None:
            raise NotFound("No such booking.")
        return Response(BookingStatusOutputSerializer(booking).data)


class BookingCalendarView(APIView):
    @extend_schema(
        operation_id="booking_calendar",
        tags=["bookings"],
        summary="The appointment as an iCalendar event. The owner's only.",
        parameters=[
            OpenApiParameter("booking_id", OpenApiTypes.UUID, OpenApiParameter.PATH),
        ],
        responses={
            (200, "text/calendar"): OpenApiResponse(OpenApiTypes.BINARY),
            **errors(401, 404),
        },
    )
    def get(self, request, booking_id: str):
        booking = visible_booking(request.user, booking_id, among=with_items_and_appointments())
        appointment = None if booking is None else appointment_of(booking)
        if booking is None or appointment is None:
            raise NotFound("No such booking with an appointment.")
        return calendar_download(booking, appointment)


def _booking_acted_on(request, booking_id: str, *, for_the_clinic: str) -> tuple[Booking, bool]:
    """The booking, and whether the caller acts for the clinic (holds the permission
    `for_the_clinic`); 404 unless the booking is theirs or they may act on any."""
    booking = visible_booking(
        request.user,
        booking_id,
        staff_permission=for_the_clinic,
        among=with_items_and_appointments(),
    )
    if booking is None:
        raise NotFound("No such booking.")
    return booking, staff_may(request.user, for_the_clinic)


BOOKING_ID = OpenApiParameter("booking_id", OpenApiTypes.UUID, OpenApiParameter.PATH)


class CancellationQuoteView(APIView):
    @extend_schema(
        operation_id="booking_cancellation_quote",
        tags=["bookings"],
        summary="What cancelling this booking now would give back.",
        parameters=[BOOKING_ID],
        responses={200: CancellationQuoteOutputSerializer, **errors(401, 404)},
    )
    def get(self, request, booking_id: str):
        booking, for_the_clinic = _booking_acted_on(
            request, booking_id, for_the_clinic="bookings.cancel_booking"
        )
        quote = cancellation_quote(booking, by_staff=for_the_clinic)
        return Response(CancellationQuoteOutputSerializer(quote).data)


class CancelView(APIView):
    @extend_schema(
        operation_id="booking_cancel",
        tags=["bookings"],
        summary="Cancel a confirmed booking under the policy (staff: everything back).",
        request=CancelInputSerializer,
        parameters=[BOOKING_ID, IDEMPOTENCY_KEY_HEADER],
        responses={
            200: CancelledBookingOutputSerializer,
            **errors(400, 401, 404, 409, 415, 422, 503),
        },
    )
    def post(self, request, booking_id: str):
        booking, for_the_clinic = _booking_acted_on(
            request, booking_id, for_the_clinic="bookings.cancel_booking"
        )
        given = CancelInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key")
        request_key = "" if key is None else idempotency.cancellation_request_key(request.user, key)

        def cancel() -> tuple[idempotency.Answer, Booking]:
            try:
                cancelled = cancel_booking(
                    booking=booking,
                    actor=request.user.get_username(),
                    by_staff=for_the_clinic,
                    reason=given.validated_data["reason"],
                    request_key=request_key,
                )
            except NotCancellable as refused:
                raise Conflict(str(refused), code="not_cancellable") from None
            return self._answer_for(cancelled, as_is=cancelled is booking), cancelled

        answer = _once_per_key(
            request,
            fingerprint={"cancel": booking_id, **given.validated_data},
            produce=cancel,
            # The cancellation this key made (its request may have died after making it: a
            # retry gets its answer once the booking is cancelled, 409 in flight until then).
            booking_made=lambda: Booking.objects.filter(
                pk=booking.pk, cancellation_request_key=request_key
            ).first(),
            answer_for=self._answer_for,
            still_running=lambda made: made.status == BookingStatus.CONFIRMED,
        )
        return Response(answer.body, status=answer.status)

    @staticmethod
    def _answer_for(cancelled: Booking, *, as_is: bool = False) -> idempotency.Answer:
        if not as_is:  # not ended in this request: read with its items
            cancelled = with_items_and_appointments().get(pk=cancelled.pk)
        refund = refund_of(cancelled)
        body = CancelledBookingOutputSerializer(cancelled, context={"refund": refund}).data
        return idempotency.Answer(status=status.HTTP_200_OK, body=body)


class RescheduleView(APIView):
    @extend_schema(
        operation_id="booking_reschedule",
        tags=["bookings"],
        summary="Move a confirmed appointment to another slot (same price), within the policy.",
        request=RescheduleInputSerializer,
        parameters=[BOOKING_ID, IDEMPOTENCY_KEY_HEADER],
        responses={200: BookingOutputSerializer, **errors(400, 401, 404, 409, 415, 422, 503)},
    )
    def post(self, request, booking_id: str):
        booking, for_the_clinic = _booking_acted_on(
            request, booking_id, for_the_clinic="bookings.reschedule_booking"
        )
        given = RescheduleInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)

        def move() -> tuple[idempotency.Answer, Booking]:
            try:
                reschedule_booking(
                    booking=booking,
                    slot_id=given.validated_data["slot_id"],
                    actor=request.user.get_username(),
                    by_staff=for_the_clinic,
                )
            except NotReschedulable as refused:
                raise Conflict(str(refused), code="not_reschedulable") from None
            moved = with_items_and_appointments().get(pk=booking.pk)
            body = BookingOutputSerializer(moved).data
            return idempotency.Answer(status=status.HTTP_200_OK, body=body), moved

        answer = _once_per_key(
            request, fingerprint={"reschedule": booking_id, **given.validated_data}, produce=move
        )
        return Response(answer.body, status=answer.status)


def _once_per_key(
    request, *, fingerprint: Any, produce, booking_made=None, answer_for=None, **waiting
) -> idempotency.Answer:
    """Run `produce` under the request's Idempotency-Key, if it sent one.

    `booking_made` and `answer_for` (see idempotency.answer_once) let a retry of a key
    whose request died get the answer of the booking that request made.
    """
    key = request.headers.get("Idempotency-Key")
    if key is None:
        answer, _ = produce()
        return answer
    if not (1 <= len(key) <= 255 and all("!" <= c <= "~" for c in key)):
        raise serializers.ValidationError(
            {"Idempotency-Key": ["Must be 1–255 visible ASCII characters."]}
        )
    try:
        return idempotency.answer_once(
            user=request.user,
            key=key,
            fingerprint=idempotency.fingerprint_of(fingerprint),
            produce=produce,
            booking_made=booking_made,
            answer_for=answer_for,
            **waiting,
        )
    except idempotency.KeyReusedForAnotherRequest:
        raise IdempotencyMismatch from None
    except idempotency.KeyStillInFlight:
        raise IdempotencyConflict() from None
