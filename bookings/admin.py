"""The clinic staff's admin: bookings (read-only, with their saga), services, logs."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from bookings.admin_base import ReadOnlyAdmin, ReadOnlyInline, UUIDSearchMixin, pretty_json
from bookings.admin_display import NOT_YET, clinic_time, inr
from bookings.models import (
    AuditLog,
    Booking,
    BookingItem,
    MedicalService,
    PatientProfile,
    SagaEvent,
)
from payments.models import Payment

admin.site.site_header = "Clinic administration"
admin.site.site_title = "Clinic admin"
admin.site.index_title = "Today at the clinic"


# --- Medical services ------------------------------------------------------------


def service_snapshot(service: MedicalService) -> dict[str, Any]:
    return {
        "name": service.name,
        "description": service.description,
        "price": str(service.price),
        "active": service.active,
    }


@admin.register(MedicalService)
class MedicalServiceAdmin(admin.ModelAdmin):
    list_display = ("name", "price_display", "active", "times_booked", "updated_display")
    list_filter = ("active",)
    search_fields = ("name", "description")
    fields = ("name", "description", "price", "active", "deletion_note", "updated_display")
    readonly_fields = ("deletion_note", "updated_display")
    actions = ("deactivate", "activate")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(booking_count=Count("booking_items"))

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if "price" in form.base_fields:
            form.base_fields["price"].label = "Price (₹)"
            form.base_fields[
                "price"
            ].help_text = (
                "New bookings pay this; existing bookings keep the price they were booked at."
            )
        return form

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        # Services are deactivated, not deleted: bookings keep referring to them.
        actions.pop("delete_selected", None)
        return actions

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.booking_items.exists():
            return False  # protected by its bookings; deactivate it instead
        return super().has_delete_permission(request, obj)

    @admin.display(description="price", ordering="price")
    def price_display(self, service: MedicalService) -> str:
        return inr(service.price)

    @admin.display(description="times booked", ordering="booking_count")
    def times_booked(self, service: MedicalService) -> int:
        return service.booking_count

    @admin.display(description="deleting")
    def deletion_note(self, service: MedicalService) -> str:
        count = service.booking_items.count() if service.pk else 0
        if count:
            return (
                f"Booked {count} time(s): it cannot be deleted. "
                "Untick “active” to stop new bookings; old bookings keep their own copy."
            )
        return "Never booked: it may be deleted."

    @admin.display(description="last changed", ordering="updated_at")
    def updated_display(self, service: MedicalService) -> str:
        return clinic_time(service.updated_at)

    def save_model(self, request: HttpRequest, obj: MedicalService, form, change: bool) -> None:
        before = None
        if change:
            before = service_snapshot(MedicalService.objects.get(pk=obj.pk))
        super().save_model(request, obj, form, change)
        after = service_snapshot(obj)
        if before != after:
            AuditLog.record(
                actor=request.user.get_username(),
                action="service.changed" if change else "service.created",
                obj=obj,
                before=before,
                after=after,
            )

    def _set_active(self, request: HttpRequest, queryset: QuerySet, active: bool) -> int:
        changed = 0
        for service in queryset.filter(active=not active):
            before = service_snapshot(service)
            service.active = active
            service.save(update_fields=["active", "updated_at"])
            AuditLog.record(
                actor=request.user.get_username(),
                action="service.activated" if active else "service.deactivated",
                obj=service,
                before=before,
                after=service_snapshot(service),
            )
            changed += 1
        return changed

    @admin.action(description="Deactivate the selected services", permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = self._set_active(request, queryset, active=False)
        self.message_user(
            request, f"{count} service(s) deactivated; patients can no longer book them."
        )

    @admin.action(description="Activate the selected services", permissions=["change"])
    def activate(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = self._set_active(request, queryset, active=True)
        self.message_user(request, f"{count} service(s) activated.", messages.SUCCESS)


# --- Bookings --------------------------------------------------------------------


class BookingItemInline(ReadOnlyInline, admin.TabularInline):
    model = BookingItem
    fields = ("name", "price_display", "service")
    readonly_fields = ("name", "price_display", "service")
    verbose_name = "service as booked"
    verbose_name_plural = "services as booked (name and price copied at booking time)"
    extra = 0

    @admin.display(description="price")
    def price_display(self, item: BookingItem) -> str:
        return inr(item.price)


class PaymentInline(ReadOnlyInline, admin.StackedInline):
    model = Payment
    verbose_name_plural = "payment"
    fields = (
        "status",
        "amount_display",
        "gateway_reference",
        "decline_reason",
        "refund_reference",
        "refunded_display",
        "created_display",
    )
    readonly_fields = fields
    extra = 0

    @admin.display(description="amount")
    def amount_display(self, payment: Payment) -> str:
        return inr(payment.amount)

    @admin.display(description="refunded at")
    def refunded_display(self, payment: Payment) -> str:
        return clinic_time(payment.refunded_at)

    @admin.display(description="created at")
    def created_display(self, payment: Payment) -> str:
        return clinic_time(payment.created_at)


@admin.register(Booking)
class BookingAdmin(UUIDSearchMixin, ReadOnlyAdmin):
    list_display = (
        "patient_name",
        "services",
        "status",
        "final_price_display",
        "discount_display",
        "confirmation_code",
        "created_display",
    )
    list_filter = (
        "status",
        "discount_applied",
        "quota_exhausted",
        ("clinic_day", admin.DateFieldListFilter),
    )
    date_hierarchy = "clinic_day"
    search_fields = ("patient_name", "=confirmation_code")
    search_help_text = "Patient name, confirmation code, or a booking id or correlation id."
    uuid_search_fields = ("id", "correlation_id")
    list_per_page = 50
    inlines = (BookingItemInline, PaymentInline)
    fieldsets = (
        (
            "Booking",
            {
                "fields": (
                    "id",
                    "correlation_id",
                    "status",
                    "failure_reason",
                    "confirmation_code",
                    "clinic_day_display",
                    "created_display",
                    "updated_display",
                )
            },
        ),
        ("Patient", {"fields": ("patient_name", "gender", "date_of_birth_display", "user")}),
        (
            "Price",
            {
                "fields": (
                    "base_price_display",
                    "discount_eligible",
                    "eligibility_reason",
                    "discount_percent_display",
                    "discount_applied",
                    "quota_exhausted",
                    "discount_amount_display",
                    "final_price_display",
                )
            },
        ),
    )  # then the items and the payment (inlines), then the saga's events and audit trail
    readonly_fields = (
        "clinic_day_display",
        "date_of_birth_display",
        "created_display",
        "updated_display",
        "base_price_display",
        "discount_percent_display",
        "discount_amount_display",
        "final_price_display",
        "event_timeline",
        "audit_trail",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # One query for the services of the whole page, none per row.
        return super().get_queryset(request).prefetch_related("items")

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # Shown below the items and payment by admin/bookings/booking/change_form.html.
        if obj is not None:
            context["saga_timeline"] = self.event_timeline(obj)
            context["audit_trail"] = self.audit_trail(obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.display(description="clinic day")
    def clinic_day_display(self, booking: Booking) -> str:
        return booking.clinic_day.strftime("%d %b %Y")

    @admin.display(description="date of birth")
    def date_of_birth_display(self, booking: Booking) -> str:
        return booking.date_of_birth.strftime("%d %b %Y")

    @admin.display(description="services")
    def services(self, booking: Booking) -> str:
        return ", ".join(item.name for item in booking.items.all())

    @admin.display(description="final price", ordering="final_price")
    def final_price_display(self, booking: Booking) -> str:
        return inr(booking.final_price)

    @admin.display(description="base price")
    def base_price_display(self, booking: Booking) -> str:
        return inr(booking.base_price)

    @admin.display(description="discount amount")
    def discount_amount_display(self, booking: Booking) -> str:
        return inr(booking.discount_amount)

    @admin.display(description="discount percentage in force")
    def discount_percent_display(self, booking: Booking) -> str:
        return NOT_YET if booking.discount_percent is None else f"{booking.discount_percent}%"

    @admin.display(description="discount", ordering="discount_amount")
    def discount_display(self, booking: Booking) -> str:
        if booking.discount_applied:
            return f"{inr(booking.discount_amount)} ({booking.discount_percent}%)"
        if booking.quota_exhausted:
            return "none: quota exhausted"
        if booking.discount_eligible is False:
            return "none: not eligible"
        return NOT_YET

    @admin.display(description="booked at (IST)", ordering="created_at")
    def created_display(self, booking: Booking) -> str:
        return clinic_time(booking.created_at)

    @admin.display(description="last updated")
    def updated_display(self, booking: Booking) -> str:
        return clinic_time(booking.updated_at)

    @admin.display(description="events")
    def event_timeline(self, booking: Booking) -> str:
        events = SagaEvent.objects.filter(correlation_id=booking.correlation_id).order_by(
            "sequence"
        )
        if not events:
            return "No events recorded."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td><strong>{}</strong></td><td>{}</td><td>{}</td></tr>",
            (
                (e.sequence, e.event_type, clinic_time(e.created_at), pretty_json(e.payload))
                for e in events
            ),
        )
        return format_html(
            '<table class="saga-timeline"><thead><tr><th>#</th><th>event</th>'
            "<th>at</th><th>payload</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    @admin.display(description="audit rows")
    def audit_trail(self, booking: Booking) -> str:
        url = reverse("admin:bookings_auditlog_changelist")
        count = AuditLog.objects.filter(correlation_id=booking.correlation_id).count()
        return format_html(
            '<a href="{}?{}">{} audit row(s) for this booking</a>',
            url,
            urlencode({"q": str(booking.correlation_id)}),
            count,
        )


@admin.register(SagaEvent)
class SagaEventAdmin(UUIDSearchMixin, ReadOnlyAdmin):
    list_display = ("correlation_id", "sequence", "event_type", "created_display")
    list_filter = ("event_type",)
    search_fields = ("event_type",)
    search_help_text = "A correlation id, or an event type."
    uuid_search_fields = ("correlation_id",)
    fields = ("correlation_id", "sequence", "event_type", "created_display", "payload_display")
    readonly_fields = ("created_display", "payload_display")

    @admin.display(description="at (IST)", ordering="created_at")
    def created_display(self, event: SagaEvent) -> str:
        return clinic_time(event.created_at)

    @admin.display(description="payload")
    def payload_display(self, event: SagaEvent) -> str:
        return pretty_json(event.payload)


@admin.register(AuditLog)
class AuditLogAdmin(UUIDSearchMixin, ReadOnlyAdmin):
    list_display = (
        "at_display",
        "actor",
        "action",
        "object_type",
        "object_id",
        "correlation_id",
    )
    list_filter = ("action", "object_type")
    search_fields = ("actor", "action", "=object_id")
    search_help_text = "An actor (username), an action, an object id, or a correlation id."
    uuid_search_fields = ("correlation_id", "object_id")
    fields = (
        "at_display",
        "actor",
        "action",
        "object_type",
        "object_id",
        "correlation_id",
        "before_display",
        "after_display",
    )
    readonly_fields = ("at_display", "before_display", "after_display")

    @admin.display(description="at (IST)", ordering="at")
    def at_display(self, entry: AuditLog) -> str:
        return clinic_time(entry.at)

    @admin.display(description="before")
    def before_display(self, entry: AuditLog) -> str:
        return pretty_json(entry.before)

    @admin.display(description="after")
    def after_display(self, entry: AuditLog) -> str:
        return pretty_json(entry.after)


@admin.register(PatientProfile)
class PatientProfileAdmin(ReadOnlyAdmin):
    list_display = ("full_name", "user", "gender", "date_of_birth")
    list_select_related = ("user",)
    search_fields = ("full_name", "user__username", "user__email")
