"""The API's catalogue and rules: services, practitioners, slots, the discount, the
quota, the cancellation policy; and the staff's quota limit."""

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from bookings.models import MedicalService
from bookings.services import clinic_today
from portal.api.schema import errors
from portal.api.serializers import (
    CURRENCY,
    POSTGRES_MAX_INT,
    CancellationPolicyOutputSerializer,
    DiscountConfigOutputSerializer,
    PractitionerOutputSerializer,
    QuotaLimitInputSerializer,
    QuotaStatusOutputSerializer,
    ServiceOutputSerializer,
    SlotOutputSerializer,
    SlotQuerySerializer,
)
from portal.selectors import staff_may
from pricing.models import DiscountSettings
from pricing.rules import PRICE_THRESHOLD
from pricing.selectors import cancellation_policy
from quotas.services import day_resets_at, quota_for_day, set_daily_limit
from scheduling.selectors import active_practitioners, bookable_slots

# The catalogue's text follows the request's language (Django's LocaleMiddleware):
# the same fields, their values in Hindi where the clinic wrote them.
IN_HINDI = (
    "{what} in Hindi with `Accept-Language: hi` (English where no Hindi is written); "
    "the field names stay the same."
)


class ServiceListView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="services_list",
        tags=["catalogue"],
        summary="The active medical services, by name.",
        description=IN_HINDI.format(what="`name` and `description`"),
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
        description=IN_HINDI.format(what="`specialty`"),
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
        description=IN_HINDI.format(what="The practitioner's `specialty`"),
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


class CanChangeQuota(BasePermission):
    def has_permission(self, request, view) -> bool:
        return staff_may(request.user, CHANGE_QUOTA_PERMISSION)


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


class CancellationPolicyView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="config_cancellation",
        tags=["catalogue"],
        summary="The clinic's cancellation policy: refund tiers and reschedule limits.",
        description=(
            "The current version, or with `version` the one a booking was sold under "
            "(its `cancellation_policy.url`)."
        ),
        parameters=[
            OpenApiParameter(
                "version",
                int,
                required=False,
                description="A published version (a booking's `cancellation_policy.version`).",
            )
        ],
        responses={200: CancellationPolicyOutputSerializer, **errors(400, 401, 404)},
    )
    def get(self, request):
        asked = request.query_params.get("version")
        if asked is None:
            return Response(CancellationPolicyOutputSerializer(cancellation_policy()).data)
        if not asked.isdigit() or not 0 < int(asked) <= POSTGRES_MAX_INT:
            raise ValidationError({"version": "A version is a whole number from 1 (a booking's)."})
        policy = cancellation_policy(int(asked))
        if policy.version != int(asked):
            raise NotFound("No cancellation policy has this version.")
        return Response(CancellationPolicyOutputSerializer(policy).data)
