"""Today's discount quota at a glance; staff change a day's limit, never below its used."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponseRedirect
from django.utils.html import format_html

from bookings.admin_base import (
    ReadOnlyAdmin,
    ReadOnlyInline,
    UUIDSearchMixin,
    booking_link,
    booking_words_link,
)
from bookings.admin_display import NOT_YET, clinic_time, inr
from bookings.services import clinic_today
from quotas.models import DiscountQuota, QuotaReservation
from quotas.services import ensure_day, set_daily_limit


class DiscountQuotaForm(forms.ModelForm):
    class Meta:
        model = DiscountQuota
        fields = ("limit",)
        help_texts = {"limit": "Discounts this clinic day may grant; not below those granted."}

    def clean_limit(self) -> int:
        limit = self.cleaned_data["limit"]
        # The service checks again under a row lock; this gives the usual form error.
        used = DiscountQuota.objects.filter(pk=self.instance.pk).values_list("used", flat=True)
        if used and limit < used[0]:
            granted = used[0]
            raise ValidationError(
                f"{granted} discount{'s are' if granted != 1 else ' is'} already granted on "
                f"{self.instance.day:%d %b %Y}; the limit cannot be lower than that."
            )
        return limit


class QuotaReservationInline(ReadOnlyInline, admin.TabularInline):
    model = QuotaReservation
    fields = ("patient", "booking_link", "amount", "created_display", "released_display")
    readonly_fields = fields
    extra = 0
    verbose_name = "discount given"
    verbose_name_plural = "discounts given (one each; given back when a booking did not go through)"

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("booking")

    @admin.display(description="patient")
    def patient(self, reservation: QuotaReservation) -> str:
        return reservation.booking.patient_name

    @admin.display(description="booking")
    def booking_link(self, reservation: QuotaReservation) -> str:
        return booking_words_link(reservation.booking)

    @admin.display(description="discount")
    def amount(self, reservation: QuotaReservation) -> str:
        return inr(reservation.booking.discount_amount)

    @admin.display(description="given at (IST)")
    def created_display(self, reservation: QuotaReservation) -> str:
        return clinic_time(reservation.created_at)

    @admin.display(description="given back at (IST)")
    def released_display(self, reservation: QuotaReservation) -> str:
        return clinic_time(reservation.released_at) if reservation.released_at else "kept"


# Set on the request when save_model refuses a limit: the change is then neither logged
# nor answered as saved.
LIMIT_REFUSED = "_quota_limit_refused"


@admin.register(DiscountQuota)
class DiscountQuotaAdmin(admin.ModelAdmin):
    form = DiscountQuotaForm
    list_display = ("day_display", "used", "limit", "remaining_display", "updated_display")
    date_hierarchy = "day"
    fields = ("day", "used", "limit", "remaining_display", "updated_display")
    readonly_fields = ("day", "used", "remaining_display", "updated_display")
    inlines = (QuotaReservationInline,)

    def change_view(self, request: HttpRequest, object_id, form_url="", extra_context=None):
        quota = self.get_object(request, object_id)
        if quota is not None:
            extra_context = {**(extra_context or {}), "title": str(quota)}
        return super().change_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request: HttpRequest, extra_context=None):
        ensure_day(clinic_today())  # today's row is always there to see and change
        return super().changelist_view(request, extra_context)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # days are created as they come, with the default limit

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.day < clinic_today():
            return False  # past days are kept for reference
        return super().has_change_permission(request, obj)

    @admin.display(description="clinic day", ordering="day")
    def day_display(self, quota: DiscountQuota) -> str:
        if quota.day == clinic_today():
            return format_html("<strong>{} (today)</strong>", quota.day.strftime("%d %b %Y"))
        return quota.day.strftime("%d %b %Y")

    @admin.display(description="remaining")
    def remaining_display(self, quota: DiscountQuota) -> int | str:
        return quota.remaining if quota.pk else NOT_YET

    @admin.display(description="last changed (IST)")
    def updated_display(self, quota: DiscountQuota) -> str:
        return clinic_time(quota.updated_at)

    def save_model(self, request: HttpRequest, obj: DiscountQuota, form, change: bool) -> None:
        if "limit" not in form.changed_data:
            return
        try:
            set_daily_limit(
                day=obj.day, limit=form.cleaned_data["limit"], actor=request.user.get_username()
            )
        except ValidationError as error:
            # Discounts granted between the form's check and this save: refuse, say why.
            setattr(request, LIMIT_REFUSED, True)
            self.message_user(request, " ".join(error.messages), messages.ERROR)

    def log_change(self, request: HttpRequest, obj: Any, message: Any):
        if getattr(request, LIMIT_REFUSED, False):
            return None
        return super().log_change(request, obj, message)

    def response_change(self, request: HttpRequest, obj: DiscountQuota):
        if getattr(request, LIMIT_REFUSED, False):
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)


@admin.register(QuotaReservation)
class QuotaReservationAdmin(UUIDSearchMixin, ReadOnlyAdmin):
    list_display = ("quota_id", "booking_link", "correlation_id", "created_display", "state")
    list_filter = (
        ("released_at", admin.EmptyFieldListFilter),
        ("quota__day", admin.DateFieldListFilter),
    )
    search_fields = ("booking__patient_name",)
    search_help_text = "A patient name, a correlation id or a booking id."
    uuid_search_fields = ("correlation_id", "booking_id")
    fields = ("quota", "booking_link", "correlation_id", "created_display", "released_display")
    readonly_fields = ("booking_link", "created_display", "released_display")

    @admin.display(description="booking")
    def booking_link(self, reservation: QuotaReservation) -> str:
        return booking_link(reservation.booking_id)

    @admin.display(description="reserved at (IST)", ordering="created_at")
    def created_display(self, reservation: QuotaReservation) -> str:
        return clinic_time(reservation.created_at)

    @admin.display(description="released at (IST)")
    def released_display(self, reservation: QuotaReservation) -> str:
        return clinic_time(reservation.released_at)

    @admin.display(description="state")
    def state(self, reservation: QuotaReservation) -> str:
        return "released" if reservation.released_at else "live"
