"""Where patients and staff find receipts: the PDFs, and the booking's `receipts` list.

GET /api/booking/<id>/receipt: the payment's receipt (bill of supply, tax invoice);
GET /receipts/<number>.pdf: any document by number (the `url` of the list). The owner's
and staff's only; 404 for anyone else, and when nothing was paid. `?layout=80mm` gives
the front desk's thermal-printer layout, `?lang=en|hi` another language than the
patient's.
"""

import uuid

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.views import APIView

from billing.models import Document, Series
from billing.pdf import LABELS, LAYOUTS, render
from billing.selectors import receipts_of
from bookings.models import Booking
from portal.api_schema import errors

VIEW_ANY_DOCUMENT_PERMISSION = "bookings.view_booking"  # staff who may read any booking


KIND_WORDS = {
    "receipt": _("receipt"),
    "bill_of_supply": _("bill of supply"),
    "tax_invoice": _("tax invoice"),
    "refund_note": _("refund note"),
}


def receipt_links(booking: Booking) -> list[dict]:
    """The booking page's download links: what each document is, in the page's language."""
    return [{**row, "label": KIND_WORDS[row["kind"]]} for row in receipts_of(booking)]


def desk_print_link(booking: Booking) -> str:
    """The front desk's message after a booking: its receipt in the thermal layout."""
    return format_html(
        '<a href="{}?layout=80mm" target="_blank" rel="noopener">Print the receipt (80 mm)</a>',
        f"/api/booking/{booking.pk}/receipt",
    )


class PdfQuerySerializer(serializers.Serializer):
    layout = serializers.ChoiceField(choices=LAYOUTS, default="a4")
    lang = serializers.ChoiceField(choices=tuple(LABELS), required=False)


def _visible(user) -> QuerySet[Document]:
    documents = Document.objects.select_related("refunds").prefetch_related("lines")
    staff = user.is_active and user.is_staff and user.has_perm(VIEW_ANY_DOCUMENT_PERMISSION)
    return documents if staff else documents.filter(booking__user=user)


def _pdf(request, document: Document) -> HttpResponse:
    query = PdfQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    layout, language = query.validated_data["layout"], query.validated_data.get("lang")
    response = HttpResponse(
        render(document, layout=layout, language=language), content_type="application/pdf"
    )
    name = document.number.replace("/", "-")
    response["Content-Disposition"] = f'inline; filename="{name}.pdf"'
    response["Cache-Control"] = "private, no-store"  # a patient's document
    return response


PDF_PARAMETERS = [
    OpenApiParameter("layout", OpenApiTypes.STR, enum=list(LAYOUTS)),
    OpenApiParameter("lang", OpenApiTypes.STR, enum=list(LABELS)),
]
PDF_RESPONSES = {
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
