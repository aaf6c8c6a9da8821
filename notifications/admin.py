"""The outbox in the admin: what was sent, what failed and why, and "resend"."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from bookings.admin_base import ReadOnlyAdmin, booking_link
from bookings.admin_display import clinic_time
from notifications import sender
from notifications.models import Notification


class DeliveryUnknownFilter(admin.SimpleListFilter):
    """The rows the front page counts: a send interrupted that no provider could settle."""

    title = "delivery"
    parameter_name = "delivery"

    def lookups(self, request, model_admin):
        return [("unknown", "Unknown: interrupted while sending")]

    def queryset(self, request, queryset):
        if self.value() == "unknown":
            return queryset.filter(pk__in=sender.delivery_unknown().values("pk"))
        return queryset


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "channel", "status", "due_display", "attempts", "sent_display")
    list_filter = (DeliveryUnknownFilter, "status", "kind", "channel")
    search_fields = ("booking__confirmation_code", "provider_message_id")
    readonly_fields = ("booking_display", "last_error", "provider_message_id")
    fields = (
        "booking_display",
        "kind",
        "channel",
        "status",
        "due_at",
        "attempts",
        "last_error",
        "provider_message_id",
        "claimed_at",
        "sent_at",
    )
    actions = ["resend"]

    @admin.display(description="booking")
    def booking_display(self, obj: Notification) -> str:
        return booking_link(obj.booking_id)

    @admin.display(description="due", ordering="due_at")
    def due_display(self, obj: Notification) -> str:
        return clinic_time(obj.due_at)

    @admin.display(description="sent", ordering="sent_at")
    def sent_display(self, obj: Notification) -> str:
        return clinic_time(obj.sent_at)

    @admin.action(description="Resend the selected failed notifications", permissions=["resend"])
    def resend(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        count = sender.resend(ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} failed notification(s) queued again.", messages.INFO)

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("notifications.resend_notification")
