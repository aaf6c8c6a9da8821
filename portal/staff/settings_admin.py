"""The one settings page for both discount rules (R1's percentage, R2's default limit),
and the admin's accounts page (a first password with the rules shown)."""

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse

from bookings.admin_display import clinic_time
from bookings.services import email_taken, email_taken_message
from bookings.tokens import password_rules_help_html
from pricing.models import ClinicSettings
from pricing.services import set_discount_percent
from quotas.models import QuotaSettings
from quotas.services import set_default_daily_limit


class ClinicSettingsForm(forms.ModelForm):
    default_daily_limit = forms.IntegerField(
        min_value=0,
        label="Default daily discount limit",
        help_text=(
            "Discounts a new clinic day may grant (from the next new day on). "
            "Today's limit is changed on the discount quota page."
        ),
    )

    class Meta:
        model = ClinicSettings
        fields = ("discount_percent", "default_daily_limit")
        labels = {"discount_percent": "Discount percentage (%)"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["default_daily_limit"].initial = QuotaSettings.current().default_daily_limit


@admin.register(ClinicSettings)
class ClinicSettingsAdmin(admin.ModelAdmin):
    form = ClinicSettingsForm

    def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if self.has_change_permission(request, obj):
            return ("discount_percent", "default_daily_limit", "updated_display")
        return ("discount_percent_display", "default_daily_limit_display", "updated_display")

    readonly_fields = ("discount_percent_display", "default_daily_limit_display", "updated_display")

    def changelist_view(self, request: HttpRequest, extra_context=None):
        # A single row: the list is just the way in to its page.
        settings = ClinicSettings.objects.get_or_create(pk=ClinicSettings.SINGLETON_ID)[0]
        return HttpResponseRedirect(
            reverse("admin:pricing_clinicsettings_change", args=[settings.pk])
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="discount percentage")
    def discount_percent_display(self, obj: ClinicSettings) -> str:
        return f"{obj.discount_percent}%"

    @admin.display(description="default daily discount limit")
    def default_daily_limit_display(self, obj: ClinicSettings) -> int:
        return QuotaSettings.current().default_daily_limit

    @admin.display(description="percentage last changed")
    def updated_display(self, obj: ClinicSettings) -> str:
        return clinic_time(obj.updated_at)

    def save_model(self, request: HttpRequest, obj: ClinicSettings, form, change: bool) -> None:
        actor = request.user.get_username()
        # Both or neither; each service validates and writes its own audit row.
        with transaction.atomic():
            set_discount_percent(percent=form.cleaned_data["discount_percent"], actor=actor)
            set_default_daily_limit(limit=form.cleaned_data["default_daily_limit"], actor=actor)
        obj.refresh_from_db()

    def response_change(self, request: HttpRequest, obj: ClinicSettings):
        self.message_user(request, "The discount and quota settings were saved.")
        return HttpResponseRedirect(request.path)


class NewAccountForm(AdminUserCreationForm):
    """The admin's "Add user": a first password, so the rules without "signs the mobile
    app out" (a new account has no token; the change and reset forms keep that line)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["password1"].help_text = password_rules_help_html()


class AccountChangeForm(UserChangeForm):
    """The admin's account page: one account per e-mail address, said on the form (the
    unique index would otherwise make a taken address a 500)."""

    def clean_email(self) -> str:
        email = self.cleaned_data.get("email", "")
        if email_taken(email, except_user_id=self.instance.pk):
            raise ValidationError(email_taken_message())
        return email


admin.site.unregister(User)


@admin.register(User)
class AccountAdmin(UserAdmin):
    add_form = NewAccountForm
    form = AccountChangeForm  # one account per e-mail address (issue 22)
