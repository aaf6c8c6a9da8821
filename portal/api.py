"""The mobile-app API (shared/API.md). Thin views: an input serializer validates, a
service acts, an output serializer renders. Every answer is described in the schema."""

import uuid

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import DatabaseError, connection
from django.db.models import Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import APIException, NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from bookings.models import Booking, BookingItem, MedicalService
from bookings.services import clinic_today, register_patient
from portal import idempotency
from portal.api_schema import (
    BOOKING_EXAMPLES,
    HEALTH_RESPONSES,
    IDEMPOTENCY_KEY_HEADER,
    LOCATION_HEADER,
    errors,
    retry_after_header,
)
from portal.serializers import (
    CURRENCY,
    BookingInputSerializer,
    BookingOutputSerializer,
    BookingStatusOutputSerializer,
    DiscountConfigOutputSerializer,
    LoginInputSerializer,
    QuotaLimitInputSerializer,
    QuotaStatusOutputSerializer,
    RegisterInputSerializer,
    RegisterOutputSerializer,
    ServiceOutputSerializer,
    TokenOutputSerializer,
)
from portal.services import start_booking
from portal.throttles import BookingThrottle, LoginThrottle, RegisterThrottle
from pricing.models import DiscountSettings
from pricing.rules import PRICE_THRESHOLD
from quotas.services import day_resets_at, quota_for_day, set_daily_limit


class IdempotencyConflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "A request with this Idempotency-Key is still being processed; retry."
    default_code = "idempotency_in_flight"


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
                {"status": "error", "database": "unavailable"},
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
            )
        return Response({"status": "ok", "database": "ok"})


# --- Accounts ----------------------------------------------------------------


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
    throttle_classes = [LoginThrottle]

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
        if user is None:
            raise serializers.ValidationError(
                {"non_field_errors": ["Unable to log in with the username and password given."]}
            )
        token, _ = Token.objects.get_or_create(user=user)
        return Response(TokenOutputSerializer({"token": token.key}).data)


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


class AdminQuotaView(APIView):
    permission_classes = [IsAdminUser]

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
    return Booking.objects.prefetch_related(
        Prefetch("items", queryset=BookingItem.objects.order_by("id"))
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
        if key is None:
            answer, _ = self._book(request.data, request_key=None)
        else:
            if not (1 <= len(key) <= 255 and all("!" <= c <= "~" for c in key)):
                raise serializers.ValidationError(
                    {"Idempotency-Key": ["Must be 1–255 visible ASCII characters."]}
                )
            request_key = idempotency.booking_request_key(key)
            try:
                # A replay is answered before the body is validated: the stored answer,
                # whatever has changed since (a service withdrawn, a price edited).
                answer = idempotency.answer_once(
                    user=request.user,
                    key=key,
                    fingerprint=idempotency.fingerprint_of(request.data),
                    produce=lambda: self._book(request.data, request_key=request_key),
                    booking_made=lambda: Booking.objects.filter(
                        user=request.user, request_key=request_key
                    ).first(),
                    answer_for=self._answer_for,
                )
            except idempotency.KeyReusedForAnotherRequest:
                raise IdempotencyMismatch from None
            except idempotency.KeyStillInFlight:
                raise IdempotencyConflict from None
        return Response(
            answer.body,
            status=answer.status,
            headers={"Location": _status_location(answer.body["id"])},
        )

    def _book(self, data, *, request_key: str | None):
        given = BookingInputSerializer(data=data)
        given.is_valid(raise_exception=True)
        booking = start_booking(
            user=self.request.user, request_key=request_key, **given.validated_data
        )
        return self._answer_for(booking), booking

    @staticmethod
    def _answer_for(booking: Booking) -> idempotency.Answer:
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
        if not request.user.is_staff:
            visible = visible.filter(user=request.user)
        booking = visible.filter(pk=pk).first()
        if booking is None:
            raise NotFound("No such booking.")
        return Response(BookingStatusOutputSerializer(booking).data)
