"""The benchmark's baseline: the least an authenticated DRF POST that writes can cost."""

from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from bookings.models import AuditLog


class BaselineInsert(APIView):
    """Authenticate, parse JSON, insert one row, answer 201: the framework's floor."""

    permission_classes = [IsAuthenticated]
    throttle_classes: list = []

    def post(self, request):
        row = AuditLog.objects.create(
            actor=request.user.get_username(),
            action="bench.baseline",
            object_type="bench",
            object_id="0",
            after={"n": request.data.get("n") if isinstance(request.data, dict) else None},
        )
        return Response({"id": row.pk}, status=status.HTTP_201_CREATED)
