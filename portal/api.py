"""The mobile-app API (shared/API.md). Thin views: an input serializer validates, a
service acts, an output serializer renders. Every answer is described in the schema."""

import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import DatabaseError, connection
from django.db.models import Prefetch
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import APIException, NotFound, Throttled
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.selectors import with_receipts
from bookings import events
from bookings.models import Booking, BookingItem, BookingStatus, MedicalService, PatientProfile
from bookings.services import NotCancellable, clinic_today, register_patient, update_profile
from bookings.tokens import revoke_tokens
from portal import idempotency
from portal.api_errors import RETRY_AFTER_SECONDS, UNAVAILABLE_DETAIL, Conflict
from portal.api_schema import (
    BOOKING_EXAMPLES,
    HEALTH_RESPONSES,
    IDEMPOTENCY_KEY_HEADER,
    LOCATION_HEADER,
    errors,
    retry_after_header,
)
from portal.appointments import appointment_of, calendar_file, with_appointments
from portal.login_guard import LOCKED_OUT_DETAIL, lockout_seconds
from portal.serializers import (
    CURRENCY,
    BookingInputSerializer,
    BookingOutputSerializer,
    BookingStatusOutputSerializer,
    CancelInputSerializer,
    CancellationPolicyOutputSerializer,
    CancellationQuoteOutputSerializer,
    CancelledBookingOutputSerializer,
    DiscountConfigOutputSerializer,
    LoginInputSerializer,
    MeInputSerializer,
    MeOutputSerializer,
    PractitionerOutputSerializer,
    QuotaLimitInputSerializer,
    QuotaStatusOutputSerializer,
    RegisterInputSerializer,
    RegisterOutputSerializer,
    RescheduleInputSerializer,
    ServiceOutputSerializer,
    SlotOutputSerializer,
    SlotQuerySerializer,
    TokenOutputSerializer,
)
from portal.services import (
    NotReschedulable,
    cancel_booking,
    cancellation_quote,
    refund_of,
    reschedule_booking,
    start_booking,
)
from portal.tasks import worker_is_late
from portal.throttles import (
    BookingThrottle,
    LoginThrottle,
    LoginUsernameThrottle,
    RegisterThrottle,
)
from pricing.models import DiscountSettings
from pricing.rules import PRICE_THRESHOLD
from pricing.selectors import cancellation_policy
from quotas.services import day_resets_at, quota_for_day, set_daily_limit
from scheduling.selectors import active_practitioners, bookable_slots


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


# --- Health ------------------------------------------------------------------


class HealthView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="healthz",
        tags=["health"],
        summary="Is the app up, and can it reach its database?",
        responses=HEALTH_RESPONSES,
    )
    def get(self, request):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except DatabaseError:
            return Response(
                {"status": "error", "database": "unavailable", "detail": UNAVAILABLE_DETAIL},
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
                headers={"Retry-After": RETRY_AFTER_SECONDS, "Cache-Control": "no-store"},
            )
        try:
            late = worker_is_late(late_after_seconds=settings.WORKER_LATE_AFTER_SECONDS)
        except DatabaseError:  # the heartbeat table missing or locked: say late, stay up
            late = True
        return Response({"status": "ok", "database": "ok", "worker": "late" if late else "ok"})


# --- Accounts ----------------------------------------------------------------


class MeView(APIView):
    @extend_schema(
        operation_id="me",
        tags=["accounts"],
        responses={200: MeOutputSerializer, **errors(401, 404)},
    )
    def get(self, request):
        return Response(MeOutputSerializer(self._profile(request)).data)

    @extend_schema(
        operation_id="me_update",
        tags=["accounts"],
        request=MeInputSerializer,
        responses={200: MeOutputSerializer, **errors(400, 401, 404, 415)},
    )
    def patch(self, request):
        profile = self._profile(request)
        given = MeInputSerializer(data=request.data, partial=True)
        given.is_valid(raise_exception=True)
        profile = update_profile(user=request.user, changes=given.validated_data)
        return Response(MeOutputSerializer(profile).data)

    def _profile(self, request) -> PatientProfile:
        profile = PatientProfile.objects.select_related("user").filter(user=request.user).first()
        if profile is None:  # a staff account without a patient profile
            raise NotFound("This account has no patient profile.")
        return profile


class RegisterView(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [RegisterThrottle]

    @extend_schema(
        operation_id="auth_register",
        tags=["accounts"],
        summary="Create a patient account; answers with its API token.",
        request=RegisterInputSerializer,
        parameters=[retry_after_header()],
        responses={201: RegisterOutputSerializer, **errors(400, 401, 403, 415, 429)},
    )
    def post(self, request):
        given = RegisterInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        user = register_patient(**given.validated_data)
        token = Token.objects.create(user=user)
        body = RegisterOutputSerializer(
            {"id": user.pk, "username": user.get_username(), "token": token.key}
        ).data
        return Response(body, status=status.HTTP_201_CREATED)


class TokenView(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [LoginThrottle, LoginUsernameThrottle]

    @extend_schema(
        operation_id="auth_token",
        tags=["accounts"],
        summary="Exchange a username and password for the account's API token.",
        request=LoginInputSerializer,
        parameters=[retry_after_header()],
        responses={200: TokenOutputSerializer, **errors(400, 401, 403, 415, 429)},
    )
    def post(self, request):
        given = LoginInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        user = authenticate(request, **given.validated_data)
        if user is None and getattr(request, "axes_locked_out", False):
            # django-axes refused it (too many failures for this username or address, at
            # any login door): API.md's 429 with Retry-After, not "wrong password".
            raise Throttled(wait=lockout_seconds(), detail=LOCKED_OUT_DETAIL)
        if user is None:
            raise serializers.ValidationError(
                {"non_field_errors": ["Unable to log in with the username and password given."]}
            )
        token, _ = Token.objects.get_or_create(user=user)
        return Response(TokenOutputSerializer({"token": token.key}).data)


class LogoutView(APIView):
    @extend_schema(
        operation_id="auth_logout",
        tags=["accounts"],
        summary="Revoke the token this request was sent with (401 with it afterwards).",
        request=None,
        responses={204: None, **errors(401, 403)},
    )
    def post(self, request):
        revoke_tokens(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Catalogue and rules -----------------------------------------------------


class ServiceListView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="services_list",
        tags=["catalogue"],
        summary="The active medical services, by name.",
        responses={200: ServiceOutputSerializer(many=True), **errors(401)},
    )
    def get(self, request):
        services = MedicalService.objects.filter(active=True).order_by("name")
        return Response(ServiceOutputSerializer(services, many=True).data)


class PractitionerListView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="practitioners_list",
        tags=["catalogue"],
        summary="The active practitioners and the services each provides.",
        responses={200: PractitionerOutputSerializer(many=True), **errors(401)},
    )
    def get(self, request):
        return Response(PractitionerOutputSerializer(active_practitioners(), many=True).data)


class SlotListView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="slots_list",
        tags=["catalogue"],
        summary="A clinic day's bookable slots (future, with a free place), by start.",
        parameters=[
            OpenApiParameter("date", OpenApiTypes.DATE, required=True),
            OpenApiParameter("practitioner_id", OpenApiTypes.INT),
            OpenApiParameter(
                "service_ids",
                OpenApiTypes.STR,
                description="Comma-separated: only practitioners providing all of them.",
            ),
        ],
        responses={200: SlotOutputSerializer(many=True), **errors(400, 401)},
    )
    def get(self, request):
        given = SlotQuerySerializer(data=request.query_params)
        given.is_valid(raise_exception=True)
        query = given.validated_data
        slots = bookable_slots(
            day=query["date"],
            practitioner_id=query.get("practitioner_id"),
            service_ids=query.get("service_ids", ()),
        )
        return Response(SlotOutputSerializer(slots, many=True).data)


class DiscountConfigView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="config_discount",
        tags=["catalogue"],
        summary="Rule R1's numbers: the discount percentage and the price threshold.",
        responses={200: DiscountConfigOutputSerializer, **errors(401)},
    )
    def get(self, request):
        body = {
            "discount_percent": DiscountSettings.current().discount_percent,
            "price_threshold": PRICE_THRESHOLD,
            "currency": CURRENCY,
        }
        return Response(DiscountConfigOutputSerializer(body).data)


def _quota_status_body() -> dict:
    today = clinic_today()
    quota = quota_for_day(today)
    return QuotaStatusOutputSerializer(
        {
            "date": today,
            "time_zone": settings.TIME_ZONE,
            "limit": quota.limit,
            "used": quota.used,
            "remaining": quota.remaining,
            "resets_at": day_resets_at(today),
        }
    ).data


class QuotaStatusView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="quota_status",
        tags=["catalogue"],
        summary="Rule R2 today: the day's discount limit, how many are used, when it resets.",
        responses={200: QuotaStatusOutputSerializer, **errors(401)},
    )
    def get(self, request):
        return Response(_quota_status_body())


# Staff endpoints check the model permission the admin's groups grant (migration 0005),
# as the admin does: is_staff alone (a user put in no group) may do nothing.
CHANGE_QUOTA_PERMISSION = "quotas.change_discountquota"
VIEW_ANY_BOOKING_PERMISSION = "bookings.view_booking"


def _staff_may(user, permission: str) -> bool:
    return bool(user and user.is_active and user.is_staff and user.has_perm(permission))


class CanChangeQuota(BasePermission):
    def has_permission(self, request, view) -> bool:
        return _staff_may(request.user, CHANGE_QUOTA_PERMISSION)


class AdminQuotaView(APIView):
    permission_classes = [CanChangeQuota]

    @extend_schema(
        operation_id="admin_quota_update",
        tags=["staff"],
        summary="Staff: set today's discount limit (never below the discounts already used).",
        request=QuotaLimitInputSerializer,
        responses={200: QuotaStatusOutputSerializer, **errors(400, 401, 403, 415)},
    )
    def put(self, request):
        given = QuotaLimitInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        set_daily_limit(
            day=clinic_today(),
            limit=given.validated_data["limit"],
            actor=request.user.get_username(),
        )
        return Response(_quota_status_body())


# --- Bookings ----------------------------------------------------------------


def _bookings_with_items():
    return with_receipts(
        with_appointments(
            Booking.objects.prefetch_related(
                Prefetch("items", queryset=BookingItem.objects.order_by("id"))
            )
        )
    )


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
        bookings = _bookings_with_items().filter(user=request.user).order_by("-created_at", "-pk")
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
        with events.collect_delivered() as delivered:
            booking = start_booking(
                user=self.request.user, request_key=request_key, **given.validated_data
            )
        # A walk-in whose saga ended in this request is answered from its events, with no
        # re-read; otherwise (an appointment, a saga another process ends) from the rows.
        ended = events.apply_delivered(booking, delivered.get(booking.correlation_id, {}))
        walk_in = given.validated_data.get("slot_id") is None
        return self._answer_for(booking, as_is=ended and walk_in), booking

    @staticmethod
    def _answer_for(booking: Booking, *, as_is: bool = False) -> idempotency.Answer:
        if not as_is:
            booking = _bookings_with_items().get(pk=booking.pk)  # as the saga left it
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
        try:
            pk = uuid.UUID(booking_id)
        except ValueError:
            raise NotFound("No such booking.") from None
        visible = _bookings_with_items()
        if not _staff_may(request.user, VIEW_ANY_BOOKING_PERMISSION):
            visible = visible.filter(user=request.user)
        booking = visible.filter(pk=pk).first()
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
        try:
            pk = uuid.UUID(booking_id)
        except ValueError:
            raise NotFound("No such booking.") from None
        booking = _bookings_with_items().filter(pk=pk, user=request.user).first()
        appointment = None if booking is None else appointment_of(booking)
        if appointment is None:
            raise NotFound("No such booking with an appointment.")
        response = HttpResponse(
            calendar_file(booking, appointment), content_type="text/calendar; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="appointment-{booking.pk}.ics"'
        return response


# --- Cancelling ----------------------------------------------------------------


class CancellationPolicyView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="config_cancellation",
        tags=["catalogue"],
        summary="The clinic's cancellation policy: refund tiers and reschedule limits.",
        responses={200: CancellationPolicyOutputSerializer, **errors(401)},
    )
    def get(self, request):
        return Response(CancellationPolicyOutputSerializer(cancellation_policy()).data)


def _booking_acted_on(request, booking_id: str, *, for_the_clinic: str) -> tuple[Booking, bool]:
    """The booking, and whether the caller acts for the clinic (holds the permission
    `for_the_clinic`); 404 unless the booking is theirs or they may act on any."""
    try:
        pk = uuid.UUID(booking_id)
    except ValueError:
        raise NotFound("No such booking.") from None
    by_staff = _staff_may(request.user, for_the_clinic)
    visible = _bookings_with_items()
    if not by_staff:
        visible = visible.filter(user=request.user)
    booking = visible.filter(pk=pk).first()
    if booking is None:
        raise NotFound("No such booking.")
    return booking, by_staff


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
            cancelled = _bookings_with_items().get(pk=cancelled.pk)
        cancelled.refund = refund_of(cancelled)
        body = CancelledBookingOutputSerializer(cancelled).data
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
            moved = _bookings_with_items().get(pk=booking.pk)
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
