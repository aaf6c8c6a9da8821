"""Billing in the admin: the clinic's billing settings (the manager), and the documents,
read-only for everyone, by financial year and kind, found by number."""

import csv
from typing import Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.urls import path, reverse

from billing.models import BillingSettings, Document, DocumentKind, DocumentLine
from billing.numbering import fy_label
from billing.pdf import paid_by
from bookings.admin_base import ReadOnlyAdmin, ReadOnlyInline, booking_words_link
from bookings.admin_display import clinic_time, inr
from bookings.models import AuditLog


@admin.register(BillingSettings)
class BillingSettingsAdmin(admin.ModelAdmin):
    fields = ("legal_name", "address", "state", "gstin", "receipt_prefix", "updated_display")
    readonly_fields = ("updated_display",)

    def changelist_view(self, request: HttpRequest, extra_context=None):
        # A single row, made by the migration: the list is just the way in to its page.
        return HttpResponseRedirect(
            reverse("admin:billing_billingsettings_change", args=[BillingSettings.SINGLETON_ID])
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="last changed")
    def updated_display(self, obj: BillingSettings) -> str:
        return clinic_time(obj.updated_at)

    def save_model(self, request: HttpRequest, obj: BillingSettings, form, change: bool) -> None:
        before = {name: form.initial.get(name) for name in form.changed_data}
        super().save_model(request, obj, form, change)
        if form.changed_data:
            AuditLog.record(
                actor=request.user.get_username(),
                action="billing_settings.changed",
                obj=obj,
                before=before,
                after={name: form.cleaned_data.get(name) for name in form.changed_data},
            )


class DocumentLineInline(ReadOnlyInline, admin.TabularInline):
    model = DocumentLine
    fields = ("description", "sac", "price", "discount", "taxable_value", "gst_rate", "cgst")
    fields = (*fields, "sgst", "total")
    readonly_fields = fields
    extra = 0


class FinancialYearFilter(admin.SimpleListFilter):
    title = "financial year"
    parameter_name = "financial_year"

    def lookups(self, request: HttpRequest, model_admin: Any):
        years = Document.objects.order_by("-financial_year").values_list(
            "financial_year", flat=True
        )
        return [(year, fy_label(year)) for year in dict.fromkeys(years)]

    def queryset(self, request: HttpRequest, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(financial_year=int(value))
        return queryset


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    list_display = ("number", "kind", "issued_display", "patient_name", "total_display")
    list_display = (*list_display, "paid_by_display")
    list_filter = (FinancialYearFilter, "kind", ("issued_on", admin.DateFieldListFilter))
    list_filter = (*list_filter, "payment_method")
    search_fields = ("number",)
    date_hierarchy = "issued_on"
    actions = ("export_csv",)
    inlines = (DocumentLineInline,)
    fields = (
        "number",
        "kind",
        "issued_display",
        "booking_link",
        "refunds",
        "patient_name",
        "language",
        "paid_by_display",
        "supplier_name",
        "supplier_address",
        "supplier_state",
        "supplier_gstin",
        "gross",
        "discount",
        "taxable_value",
        "cgst",
        "sgst",
        "total",
    )
    readonly_fields = (*fields,)

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("booking", "refunds")

    @admin.display(description="issued (IST)", ordering="issued_at")
    def issued_display(self, document: Document) -> str:
        return clinic_time(document.issued_at)

    @admin.display(description="total", ordering="total")
    def total_display(self, document: Document) -> str:
        return inr(document.total)

    @admin.display(description="paid by", ordering="payment_method")
    def paid_by_display(self, document: Document) -> str:
        return paid_by(document)

    @admin.display(description="booking")
    def booking_link(self, document: Document) -> str:
        return booking_words_link(document.booking)

    def get_urls(self):
        # The accountant's export of what the list shows (a date range: `issued_on__gte`,
        # `issued_on__lte`, or the date and year filters), as CSV.
        own = [
            path(
                "export.csv",
                self.admin_site.admin_view(self.export_view),
                name="billing_document_export",
            )
        ]
        return own + super().get_urls()

    def export_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            documents = self.get_changelist_instance(request).get_queryset(request)
        except IncorrectLookupParameters:
            return HttpResponseBadRequest("Unknown filter in the address.")
        return csv_of(documents.order_by("series", "financial_year", "serial"))

    @admin.action(description="Export the selected documents as CSV (for the accountant)")
    def export_csv(self, request: HttpRequest, queryset) -> HttpResponse:
        return csv_of(queryset.order_by("series", "financial_year", "serial"))

    def lookup_allowed(self, lookup: str, value: str, request=None) -> bool:
        if lookup in ("issued_on__gte", "issued_on__lte"):
            return True  # the export's date range
        return super().lookup_allowed(lookup, value, request)


CSV_COLUMNS = (
    "number",
    "date",
    "kind",
    "patient",
    "taxable value",
    "CGST",
    "SGST",
    "total",
    "payment method",
    "refunds",
)


def csv_of(documents) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="documents.csv"'
    response.write("\ufeff")  # a BOM: spreadsheet programs then read the UTF-8 (Hindi names)
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for d in documents.select_related("refunds"):
        refund = d.kind == DocumentKind.REFUND_NOTE  # money given back: negative

        def sign(value, refund=refund):
            return -value if refund and value else value  # never "-0.00"

        writer.writerow(
            [
                d.number,
                d.issued_on.isoformat(),
                d.get_kind_display(),
                _safe_cell(d.patient_name),
                sign(d.taxable_value),
                sign(d.cgst),
                sign(d.sgst),
                sign(d.total),
                d.payment_method,
                d.refunds.number if d.refunds_id else "",
            ]
        )
    return response


def _safe_cell(text: str) -> str:
    """A name a spreadsheet would run as a formula (=, +, -, @) is written as text."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
