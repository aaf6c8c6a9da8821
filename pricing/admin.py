"""The cancellation policy: the Clinic manager publishes versions; nobody edits one.
Publishing takes two steps: the page first shows what differs from the current version,
then "Publish" (the same form, reviewed) makes the new version."""

import hashlib
from typing import Any

from django import forms
from django.contrib import admin
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

from bookings.admin_display import clinic_time, inr
from pricing.cancellation import Policy, Tier, differences
from pricing.models import CancellationPolicy, CancellationTier
from pricing.selectors import cancellation_policy
from pricing.services import record_policy_published

NO_TIER_LEFT = (
    "A policy needs at least one refund tier: every tier was deleted. Untick “Delete” on "
    "a tier (or add one); nothing was published."
)
# The main form's fields, read by the tiers' formset to show the whole difference.
LIMITS = ("reschedule_until_hours_before", "max_reschedules")


class TierForm(forms.ModelForm):
    class Meta:
        model = CancellationTier
        fields = ("min_hours_before", "refund_percent", "fee")

    def has_changed(self) -> bool:
        # A tier copied from the current version is part of the new one even if left as
        # it was: an "extra" form the formset sees unchanged would be skipped (published
        # version 2 with only the tier the manager edited). Delete it to leave it out.
        return bool(self.initial) or super().has_changed()


class NewVersionTiers(BaseInlineFormSet):
    """The new version's tiers. Valid only once the manager has seen the differences from
    the current version: the first "Save" shows them (`changes`), "Publish" confirms that
    exact content (`reviewed` carries its digest, so an edit after the review asks again)."""

    default_error_messages = {"too_few_forms": NO_TIER_LEFT}
    changes: list[str] | None = None
    digest = ""

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        tiers = [
            Tier(
                f.cleaned_data["min_hours_before"],
                f.cleaned_data["refund_percent"],
                f.cleaned_data["fee"],
            )
            for f in self.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]
        if not tiers:
            return  # "at least one tier" (validate_min) has said so, in NO_TIER_LEFT's words
        hours = [t.min_hours_before for t in tiers]
        if len(set(hours)) != len(hours):
            raise forms.ValidationError("Two tiers have the same hours before the visit: keep one.")
        try:
            limits = [int(self.data.get(name, "")) for name in LIMITS]
        except ValueError:
            return  # the main form says what to fix
        current = cancellation_policy()
        proposed = Policy(
            version=current.version + 1,
            tiers=tuple(sorted(tiers, key=lambda t: -t.min_hours_before)),
            reschedule_until_hours_before=limits[0],
            max_reschedules=limits[1],
        )
        self.changes = differences(current, proposed)
        if not self.changes:
            raise forms.ValidationError(
                f"Nothing differs from the current version {current.version}: change a tier "
                "or a limit to publish a new one."
            )
        self.digest = hashlib.sha256(repr(proposed).encode()).hexdigest()[:16]
        if self.data.get("reviewed") != self.digest:
            raise forms.ValidationError(
                f"Check what changes from version {current.version} (below), then press "
                "“Publish the new version”."
            )


class CancellationTierInline(admin.TabularInline):
    model = CancellationTier
    form = TierForm
    formset = NewVersionTiers
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
    change_form_template = "admin/pricing/cancellationpolicy/change_form.html"

    def render_change_form(self, request: HttpRequest, context: dict, *args: Any, **kwargs: Any):
        # After a first "Save": the differences, and the button that publishes them.
        for inline in context.get("inline_admin_formsets", ()):
            tiers = inline.formset
            if isinstance(tiers, NewVersionTiers) and tiers.changes:
                context["policy_changes"] = tiers.changes
                context["policy_digest"] = tiers.digest
                context["current_version"] = cancellation_policy().version
                context["main_form_valid"] = not context["adminform"].form.errors
        return super().render_change_form(request, context, *args, **kwargs)

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
