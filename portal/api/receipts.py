"""Receipts as PDFs, for the API and the download links of the pages and the desk.

GET /api/booking/<id>/receipt: the payment's receipt (bill of supply, tax invoice);
GET /receipts/<number>.pdf: any document by number (the `url` of the list). The owner's
and staff's only; 404 for anyone else, and when nothing was paid. `?layout=80mm` gives
the front desk's thermal-printer layout, `?lang=en|hi` another language than the
patient's.
"""

import uuid
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.views import APIView

from billing.models import Document, Series
from billing.pdf import LABELS, LAYOUTS
from portal.api.schema import errors
from portal.selectors import VIEW_ANY_BOOKING, document_download, staff_may


class PdfQuerySerializer(serializers.Serializer):
    layout = serializers.ChoiceField(choices=LAYOUTS, default="a4")
    lang = serializers.ChoiceField(choices=tuple(LABELS), required=False)


def _visible(user) -> QuerySet[Document]:
    documents = Document.objects.select_related("refunds").prefetch_related("lines")
    return documents if staff_may(user, VIEW_ANY_BOOKING) else documents.filter(booking__user=user)


def _pdf(request, document: Document) -> HttpResponse:
    query = PdfQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return document_download(
        document,
        layout=query.validated_data["layout"],
        language=query.validated_data.get("lang"),
    )


PDF_PARAMETERS = [
    OpenApiParameter("layout", OpenApiTypes.STR, enum=list(LAYOUTS)),
    OpenApiParameter("lang", OpenApiTypes.STR, enum=list(LABELS)),
]
PDF_RESPONSES: dict[Any, Any] = {
    (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY),
    **errors(400, 401, 404),
}


class BookingReceiptView(APIView):
    @extend_schema(
        operation_id="booking_receipt",
        tags=["bookings"],
        summary="The payment's receipt as a PDF. The owner's and staff's only.",
        parameters=[
            OpenApiParameter("booking_id", OpenApiTypes.UUID, OpenApiParameter.PATH),
            *PDF_PARAMETERS,
        ],
        responses=PDF_RESPONSES,
    )
    def get(self, request, booking_id: str):
        try:
            pk = uuid.UUID(booking_id)
        except ValueError:
            raise NotFound("No such booking.") from None
        document = (
            _visible(request.user)
            .filter(booking_id=pk, series=Series.DOCUMENTS)
            .order_by("-issued_at")
            .first()
        )
        if document is None:
            raise NotFound("No receipt: no such booking, or nothing was paid.")
        return _pdf(request, document)


class DocumentPdfView(APIView):
    """Outside /api/ (the address is a download link, API.md's `url`): not in the JSON
    API's schema, whose every answer is JSON; the site's own error pages answer there."""

    @extend_schema(exclude=True)
    def get(self, request, number: str):
        document = _visible(request.user).filter(number=number).first()
        if document is None:
            raise NotFound("No such receipt.")
        return _pdf(request, document)
