"""GET /healthz: is the app up, can it reach its database, is the worker heard from."""

from django.conf import settings
from django.db import DatabaseError, connection
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.api.errors import RETRY_AFTER_SECONDS, UNAVAILABLE_DETAIL
from portal.api.schema import HEALTH_RESPONSES
from portal.ops.tasks import worker_is_late


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
