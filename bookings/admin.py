"""The clinic staff's admin: bookings (read-only, with their saga), services, logs."""

from typing import TYPE_CHECKING, Any, TypedDict

from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from modeltranslation.admin import TranslationAdmin

from bookings.admin_base import ReadOnlyAdmin, UUIDSearchMixin, pretty_json
from bookings.admin_display import clinic_time, inr
from bookings.models import (
    AuditLog,
    MedicalService,
    PatientProfile,
    SagaEvent,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations  # comes with django-stubs (dev only)

admin.site.site_header = "Clinic administration"
admin.site.site_title = "Clinic admin"
admin.site.index_title = "Today at the clinic"


# --- Medical services ------------------------------------------------------------


def service_snapshot(service: MedicalService) -> dict[str, Any]:
    return {
        "name": service.name_en,
        "name_hi": service.name_hi,
        "description": service.description_en,
        "description_hi": service.description_hi,
        "price": str(service.price),
        "sac_code": service.sac_code,
        "gst_rate": str(service.gst_rate),
        "active": service.active,
    }


class _Counted(TypedDict):
    booking_count: int  # MedicalServiceAdmin.get_queryset's annotation


@admin.register(MedicalService)
class MedicalServiceAdmin(TranslationAdmin):
    """Name and description in English (required) and Hindi (shown on Hindi pages, in
    the API with `Accept-Language: hi` and in a Hindi patient's messages)."""

    list_display = ("name", "price_display", "active", "times_booked", "updated_display")
    list_filter = ("active",)
    search_fields = ("name", "description")
    fields = (
        "name",
        "description",
        "price",
        "sac_code",
        "gst_rate",
        "requires_appointment",
        "duration_minutes",
        "active",
        "deletion_note",
        "updated_display",
    )
    readonly_fields = ("deletion_note", "updated_display")
    actions = ("deactivate", "activate")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(booking_count=Count("booking_items"))

    def get_form(self, request, obj=None, change=False, **kwargs):
        # modeltranslation's get_form takes `change` as a keyword only.
        form = super().get_form(request, obj, change=change, **kwargs)
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
    def times_booked(self, service: "WithAnnotations[MedicalService, _Counted]") -> int:
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
