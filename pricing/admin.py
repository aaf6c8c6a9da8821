"""The cancellation policy: the Clinic manager publishes versions; nobody edits one."""

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from bookings.admin_display import clinic_time, inr
from pricing.models import CancellationPolicy, CancellationTier
from pricing.selectors import cancellation_policy
from pricing.services import record_policy_published


class TierForm(forms.ModelForm):
    class Meta:
        model = CancellationTier
        fields = ("min_hours_before", "refund_percent", "fee")

    def has_changed(self) -> bool:
        # A tier copied from the current version is part of the new one even if left as
        # it was: an "extra" form the formset sees unchanged would be skipped (published
        # version 2 with only the tier the manager edited). Delete it to leave it out.
        return bool(self.initial) or super().has_changed()


class CancellationTierInline(admin.TabularInline):
    model = CancellationTier
    form = TierForm
    fields = ("min_hours_before", "refund_percent", "fee")
    min_num = 1
    verbose_name = "refund tier"
    verbose_name_plural = (
        "refund tiers: cancelled at least this many hours before the visit, this share "
        "of what was paid comes back, minus the fee (less notice than every tier: nothing)"
    )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # On a new version, "Delete" leaves a copied tier out (nothing published is
        # deleted); a published version's tiers are history.
        return obj is None and self.has_add_permission(request, obj)

    def get_extra(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> int:
        return 0 if obj is not None else max(len(cancellation_policy().tiers), 1) + 1

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any):
        # A version with every tier deleted is refused ("at least 1"), not published.
        formset = super().get_formset(request, obj, validate_min=True, **kwargs)
        if obj is not None:
            return formset
        current = [
            {
                "min_hours_before": t.min_hours_before,
                "refund_percent": t.refund_percent,
                "fee": t.fee,
            }
            for t in cancellation_policy().tiers
        ]

        # A new version starts as a copy. (mypy takes no class made at run time as a base.)
        class StartingFromTheCurrentTiers(formset):  # type: ignore[misc,valid-type]
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                kwargs.setdefault("initial", current)
                super().__init__(*args, **kwargs)

        return StartingFromTheCurrentTiers


@admin.register(CancellationPolicy)
class CancellationPolicyAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "tiers_in_words",
        "reschedule_until_hours_before",
        "max_reschedules",
        "published_display",
        "published_by",
    )
    fields = ("reschedule_until_hours_before", "max_reschedules")
    inlines = (CancellationTierInline,)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        current = cancellation_policy()
        return {
            "reschedule_until_hours_before": current.reschedule_until_hours_before,
            "max_reschedules": current.max_reschedules,
        }

    # Published versions are history: bookings were sold under them.
    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: CancellationPolicy, form, change: bool) -> None:
        obj.published_by = request.user.get_username()
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        record_policy_published(policy=form.instance, actor=request.user.get_username())

    @admin.display(description="refund tiers")
    def tiers_in_words(self, policy: CancellationPolicy) -> str:
        return "; ".join(
            f"≥{t.min_hours_before} h: {t.refund_percent}% − {inr(t.fee)}"
            for t in policy.tiers.all()
        )

    @admin.display(description="published", ordering="published_at")
    def published_display(self, policy: CancellationPolicy) -> str:
        return clinic_time(policy.published_at)
