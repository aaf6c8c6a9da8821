"""Staff: practitioners, their weekly hours and leave (Clinic manager edits, Reception
views); slots and who holds them, read-only. Every change writes an AuditLog row."""

from datetime import datetime
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.forms.models import model_to_dict
from django.http import HttpRequest
from django.utils import timezone
from modeltranslation.admin import TranslationAdmin

from bookings.admin_base import ReadOnlyAdmin, ReadOnlyInline
from bookings.models import AuditLog
from scheduling.models import (
    ExceptionKind,
    OpeningHours,
    Practitioner,
    ScheduleException,
    Slot,
    SlotBooking,
    WeeklySchedule,
)
from scheduling.services import SlotsStillBooked, clinic_zone, close_slots, schedules_changed


def _snapshot(obj) -> dict[str, Any]:
    data = model_to_dict(obj, exclude=["services", "id"])
    return {k: (v if isinstance(v, int | bool | None) else str(v)) for k, v in data.items()}


class AuditedAdmin(admin.ModelAdmin):
    """Writes who changed what, before and after."""

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        before = _snapshot(type(obj).objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)
        AuditLog.record(
            actor=request.user.get_username(),
            action=f"{obj._meta.model_name}.{'changed' if change else 'added'}",
            obj=obj,
            before=before,
            after=_snapshot(obj),
        )

    def delete_model(self, request: HttpRequest, obj) -> None:
        AuditLog.record(
            actor=request.user.get_username(),
            action=f"{obj._meta.model_name}.deleted",
            obj=obj,
            before=_snapshot(obj),
        )
        super().delete_model(request, obj)


class WeeklyScheduleInline(admin.TabularInline):
    model = WeeklySchedule
    extra = 0
    fields = ("weekday", "start", "end", "slot_minutes", "capacity", "valid_from", "valid_to")


@admin.register(Practitioner)
class PractitionerAdmin(AuditedAdmin, TranslationAdmin):
    # The specialty in English (required) and Hindi (modeltranslation's two fields).
    list_display = ("name", "specialty", "registration_number", "active")
    list_filter = ("active", "specialty")
    search_fields = ("name", "registration_number", "specialty")
    filter_horizontal = ("services",)
    raw_id_fields = ("user",)  # the staff account it signs in with (accounts are many)
    inlines = (WeeklyScheduleInline,)

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        if any(f.has_changed() for f in formsets):
            _slots_follow(request)  # the coming days' slots follow the new hours
            AuditLog.record(
                actor=request.user.get_username(),
                action="schedule.changed",
                obj=form.instance,
                after={
                    "schedules": [
                        _snapshot(s) for s in form.instance.schedules.order_by("weekday", "start")
                    ]
                },
            )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # deactivate instead: bookings keep pointing at their slots


@admin.register(WeeklySchedule)
class WeeklyScheduleAdmin(AuditedAdmin):
    list_display = ("practitioner", "weekday", "start", "end", "slot_minutes", "capacity")
    list_filter = ("weekday", "practitioner")

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        _slots_follow(request)

    def delete_model(self, request, obj) -> None:
        super().delete_model(request, obj)
        _slots_follow(request)

    def delete_queryset(self, request, queryset) -> None:
        super().delete_queryset(request, queryset)
        _slots_follow(request)


def _slots_follow(request: HttpRequest, *spans: tuple[datetime, datetime]) -> None:
    """Bring the coming days' slots in line (all of them, or the days of `spans`), and
    tell staff which booked slots no schedule wants any more: they stay, to be moved."""
    days = [timezone.localtime(moment, clinic_zone()).date() for span in spans for moment in span]
    stranded = schedules_changed(min(days), max(days)) if days else schedules_changed()
    if stranded:
        listed = "; ".join(
            f"{s.practitioner.name} {timezone.localtime(s.start, clinic_zone()):%d %b %H:%M} "
            f"({s.booked} booked)"
            for s in stranded
        )
        messages.warning(
            request,
            f"{len(stranded)} booked slot(s) are outside the new hours and were kept; "
            f"move or cancel those appointments: {listed}",
        )


HOLIDAY_PERMISSION = "scheduling.record_clinic_holiday"


class ScheduleExceptionForm(forms.ModelForm):
    # False for the desk: it records a practitioner's leave, never closes the clinic.
    may_close_clinic = True

    class Meta:
        model = ScheduleException
        fields = ("practitioner", "kind", "start", "end", "note")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if not self.may_close_clinic and (
            data.get("kind") != ExceptionKind.LEAVE or data.get("practitioner") is None
        ):
            raise forms.ValidationError(
                "Choose the practitioner and “Leave”: closing the whole clinic for a "
                "holiday is the clinic manager's to record."
            )
        start, end = data.get("start"), data.get("end")
        if start and end and end <= start:
            raise forms.ValidationError("The end must be after the start.")
        if start and end and not self.errors:
            practitioner = data.get("practitioner")
            try:
                # Closes the covered free slots in the admin's transaction, committed
                # with the leave; refused (and undone) when patients hold some of them.
                close_slots(
                    practitioner_id=practitioner.pk if practitioner else None,
                    start=start,
                    end=end,
                )
            except SlotsStillBooked as refused:
                raise forms.ValidationError(refused.messages) from None
        return data


@admin.register(ScheduleException)
class ScheduleExceptionAdmin(AuditedAdmin):
    form = ScheduleExceptionForm
    list_display = ("__str__", "kind", "start", "end", "note")
    list_filter = ("kind", "practitioner")

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.may_close_clinic = request.user.has_perm(HOLIDAY_PERMISSION)  # type: ignore[attr-defined]
        return form

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A clinic holiday is the manager's; the desk sees it and changes only leave.
        if obj is not None and obj.kind != ExceptionKind.LEAVE:
            return super().has_change_permission(request, obj) and request.user.has_perm(
                HOLIDAY_PERMISSION
            )
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change) -> None:
        before = ScheduleException.objects.get(pk=obj.pk) if change else obj
        super().save_model(request, obj, form, change)
        # Leave shortened or moved: the time it no longer covers opens again.
        _slots_follow(request, (before.start, before.end), (obj.start, obj.end))

    def delete_model(self, request, obj) -> None:
        span = (obj.start, obj.end)
        super().delete_model(request, obj)
        _slots_follow(request, span)

    def delete_queryset(self, request, queryset) -> None:
        super().delete_queryset(request, queryset)
        _slots_follow(request)


@admin.register(OpeningHours)
class OpeningHoursAdmin(AuditedAdmin):
    """One row per weekday, seeded: the manager changes the hours or closes a day (a
    holiday is a clinic-wide leave under "Schedule exceptions"), never adds or deletes."""

    list_display = ("weekday", "closed", "opens", "closes")
    list_editable = ("closed", "opens", "closes")
    list_display_links = ("weekday",)
    fields = ("weekday", "closed", "opens", "closes")
    readonly_fields = ("weekday",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SlotBookingInline(ReadOnlyInline, admin.TabularInline):
    model = SlotBooking
    fields = ("booking", "correlation_id", "created_at", "released_at")
    readonly_fields = fields
    extra = 0


@admin.register(Slot)
class SlotAdmin(ReadOnlyAdmin):
    list_display = ("practitioner", "start", "end", "capacity", "booked")
    list_filter = ("practitioner",)
    date_hierarchy = "start"
    inlines = (SlotBookingInline,)
