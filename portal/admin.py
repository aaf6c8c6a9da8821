"""The staff's pages that join several participants: a booking with its payment,
and the one settings page for both discount rules (R1's percentage, R2's default limit).

A participant's own admin.py registers only its own models; what spans apps lives here.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from bookings.admin_base import ReadOnlyAdmin, ReadOnlyInline, UUIDSearchMixin, pretty_json
from bookings.admin_display import NOT_YET, clinic_time, inr
from bookings.models import AuditLog, Booking, BookingItem, BookingStatus
from bookings.selectors import saga_events
from bookings.services import NotCancellable
from bookings.tokens import password_rules_help_html
from payments.models import Payment, Refund, RefundStatus
from portal.appointments import appointment_of, with_appointments
from portal.presentation import discount_in_words, failure_in_words, staff_story
from portal.services import cancel_booking, cancellation_quote, refund_of, reschedule_quote
from portal.views import appointment_services, move_booking, slot_choices
from pricing.models import ClinicSettings
from pricing.services import set_discount_percent
from quotas.models import QuotaSettings
from quotas.services import set_default_daily_limit

# --- Bookings --------------------------------------------------------------------


class StaffCancellationForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Told to the patient and kept in the audit log.",
    )


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


TECHNICAL = "bookings.view_sagaevent"  # the manager-level permission: ids, events, payloads


def sees_technical_details(request: HttpRequest) -> bool:
    return request.user.has_perm(TECHNICAL)


class PaymentInline(ReadOnlyInline, admin.StackedInline):
    model = Payment
    verbose_name_plural = "payment"
    fields = (
        "status",
        "amount_display",
        "decline_in_words",
        "refunded_display",
        "created_display",
    )
    technical_fields = ("gateway_reference", "decline_reason", "refund_reference")
    readonly_fields = fields + technical_fields
    extra = 0

    def get_fields(self, request: HttpRequest, obj: Any = None):
        if sees_technical_details(request):
            return self.fields + self.technical_fields
        return self.fields

    @admin.display(description="why it did not go through")
    def decline_in_words(self, payment: Payment) -> str:
        return failure_in_words(payment.decline_reason) or "-"

    @admin.display(description="amount")
    def amount_display(self, payment: Payment) -> str:
        return inr(payment.amount)

    @admin.display(description="refunded at")
    def refunded_display(self, payment: Payment) -> str:
        return clinic_time(payment.refunded_at)

    @admin.display(description="created at")
    def created_display(self, payment: Payment) -> str:
        return clinic_time(payment.created_at)


class DiscountAppliedFilter(admin.SimpleListFilter):
    """The discounts actually given: a failed attempt gave its discount back, so it is
    not counted (as the front page's "Discounts granted" does not count it)."""

    title = "discount applied"
    parameter_name = "discount_applied__exact"  # the field filter's name, kept for links

    def lookups(self, request, model_admin):
        return (("1", "Yes"), ("0", "No"))

    def queryset(self, request, queryset):
        given = Q(discount_applied=True) & ~Q(status=BookingStatus.FAILED)
        if self.value() == "1":
            return queryset.filter(given)
        if self.value() == "0":
            return queryset.exclude(given)
        return queryset


@admin.register(Booking)
class BookingAdmin(UUIDSearchMixin, ReadOnlyAdmin):
    # Narrow enough for 1280 px with the sidebar open: price and discount share a column,
    # the time of booking is short (the full one is on the booking's page).
    list_display = (
        "patient_name",
        "services",
        "status",
        "price_and_discount",
        "code",
        "booked_at_short",
    )
    list_filter = (
        "status",
        DiscountAppliedFilter,
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
                    "status",
                    "failure_in_words",
                    "refund_display",
                    "confirmation_code",
                    "appointment_display",
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
                    "discount_in_words",
                    "discount_amount_display",
                    "final_price_display",
                    "expected_total_display",
                )
            },
        ),
    )  # then the items and the payment (inlines), then (managers) the technical details
    technical_fieldset = (
        "Technical details",
        {
            "classes": ("collapse",),
            "fields": (
                "id",
                "correlation_id",
                "compensating",
                "failure_reason",
                "discount_eligible",
                "eligibility_reason",
                "discount_percent_display",
                "discount_applied",
                "quota_exhausted",
            ),
        },
    )
    readonly_fields = (
        "failure_in_words",
        "refund_display",
        "appointment_display",
        "discount_in_words",
        "clinic_day_display",
        "date_of_birth_display",
        "created_display",
        "updated_display",
        "base_price_display",
        "discount_percent_display",
        "discount_amount_display",
        "final_price_display",
        "expected_total_display",
        "event_timeline",
        "audit_trail",
    )

    @admin.display(description="refund")
    def refund_display(self, booking: Booking) -> str:
        """A cancellation's refund: its amount and where it stands (a failed one is the
        clinic's to settle: linked to the Refunds list's "Ask the gateway again")."""
        if booking.status != BookingStatus.CANCELLED:
            return "-"
        refund = Refund.objects.filter(correlation_id=booking.correlation_id).first()
        if refund is None:
            owed = refund_of(booking)  # nothing promised, or not recorded yet (recovery)
            if not owed["amount"]:
                return "nothing to refund"
            return f"{inr(owed['amount'])}, not recorded yet (recovery makes it)"
        why = f": {refund.failure_reason}" if refund.status == RefundStatus.FAILED else ""
        return format_html(
            '{} · <a href="{}">{}</a>{} (attempts: {})',
            inr(refund.amount),
            reverse("admin:payments_refund_change", args=[refund.pk]),
            refund.get_status_display(),
            why,
            refund.attempts,
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # One query for the services of the whole page, none per row.
        return super().get_queryset(request).prefetch_related("items")

    def get_fieldsets(self, request: HttpRequest, obj: Any = None):
        if sees_technical_details(request):
            return (*self.fieldsets, self.technical_fieldset)
        return self.fieldsets

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # Shown below the items and payment by admin/bookings/booking/change_form.html:
        # the booking's story in plain words for everyone (told about the patient, every
        # step, what was held and given back), the events and audit rows for managers only.
        if obj is not None:
            context["story"] = staff_story(obj)
            if sees_technical_details(request):
                context["saga_timeline"] = self.event_timeline(obj)
                context["audit_trail"] = self.audit_trail(obj)
            context["can_cancel"] = request.user.has_perm("bookings.cancel_booking") and (
                cancellation_quote(obj, by_staff=True).allowed
            )
            context["can_reschedule"] = request.user.has_perm("bookings.reschedule_booking") and (
                reschedule_quote(obj, by_staff=True).allowed
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        cancel = path(
            "<uuid:pk>/cancel/",
            self.admin_site.admin_view(self.cancel_view),
            name="bookings_booking_cancel",
        )
        reschedule = path(
            "<uuid:pk>/change-time/",
            self.admin_site.admin_view(self.reschedule_view),
            name="bookings_booking_reschedule",
        )
        return [cancel, reschedule, *super().get_urls()]

    def reschedule_view(self, request: HttpRequest, pk) -> HttpResponse:
        """Move an appointment for the clinic: any free time of a practitioner who provides
        its services (the policy's deadline and count bind patients only). Audited."""
        if not request.user.has_perm("bookings.reschedule_booking"):
            raise PermissionDenied
        booking = get_object_or_404(with_appointments(Booking.objects), pk=pk)
        moving = reschedule_quote(booking, by_staff=True)
        if request.method == "POST" and moving.allowed:
            if move_booking(request, booking, by_staff=True):
                return HttpResponseRedirect(reverse("admin:bookings_booking_change", args=[pk]))
            return HttpResponseRedirect(request.get_full_path())
        appointment = appointment_of(booking)
        context = {
            **self.admin_site.each_context(request),
            **slot_choices(
                request,
                appointment_services(booking),
                excluding=appointment and appointment.slot_id,
            ),
            "title": f"Change the time of {booking.patient_name}'s appointment",
            "booking": booking,
            "appointment": appointment,
            "moving": moving,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/bookings/booking/reschedule.html", context)

    def cancel_view(self, request: HttpRequest, pk) -> HttpResponse:
        """Cancel for the clinic: everything paid comes back; a reason is required."""
        if not request.user.has_perm("bookings.cancel_booking"):
            raise PermissionDenied
        booking = get_object_or_404(Booking, pk=pk)
        quote = cancellation_quote(booking, by_staff=True)
        form = StaffCancellationForm(request.POST or None)
        if request.method == "POST" and form.is_valid() and quote.allowed:
            try:
                cancel_booking(
                    booking=booking,
                    actor=request.user.get_username(),
                    by_staff=True,
                    reason=form.cleaned_data["reason"],
                )
            except NotCancellable as refused:
                self.message_user(request, str(refused), messages.ERROR)
            else:
                self.message_user(
                    request, f"Cancelled; {inr(quote.refund_amount)} goes back to the patient."
                )
            return HttpResponseRedirect(reverse("admin:bookings_booking_change", args=[pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Cancel the booking of {booking.patient_name}",
            "booking": booking,
            "quote": quote,
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/bookings/booking/cancel.html", context)

    @admin.display(description="why it did not go through")
    def failure_in_words(self, booking: Booking) -> str:
        return failure_in_words(booking.failure_reason) or "-"

    @admin.display(description="discount")
    def discount_in_words(self, booking: Booking) -> str:
        return discount_in_words(booking)

    @admin.display(description="appointment")
    def appointment_display(self, booking: Booking) -> str:
        appointment = appointment_of(booking)
        if appointment is None:
            return "Walk-in (no appointment)"
        start = timezone.localtime(appointment.start)
        return f"{start:%a %d %b %Y, %H:%M} IST with {appointment.practitioner}"

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

    @admin.display(description="amount shown to the patient")
    def expected_total_display(self, booking: Booking) -> str:
        return inr(booking.expected_total) if booking.expected_total is not None else "not sent"

    @admin.display(description="base price")
    def base_price_display(self, booking: Booking) -> str:
        return inr(booking.base_price)

    @admin.display(description="discount amount")
    def discount_amount_display(self, booking: Booking) -> str:
        return inr(booking.discount_amount)

    @admin.display(description="discount percentage in force")
    def discount_percent_display(self, booking: Booking) -> str:
        return NOT_YET if booking.discount_percent is None else f"{booking.discount_percent}%"

    @admin.display(description="paid · discount", ordering="final_price")
    def price_and_discount(self, booking: Booking) -> str:
        return format_html(
            '<span class="nowrap">{}</span><br><small>{}</small>',
            inr(booking.final_price),
            self.discount_display(booking),
        )

    @admin.display(description="code", ordering="confirmation_code")
    def code(self, booking: Booking) -> str:
        return booking.confirmation_code or "-"

    @admin.display(description="booked (IST)", ordering="created_at")
    def booked_at_short(self, booking: Booking) -> str:
        return format_html(
            '<span class="nowrap">{}</span>',
            f"{timezone.localtime(booking.created_at):%d %b, %H:%M}",
        )

    @admin.display(description="discount", ordering="discount_amount")
    def discount_display(self, booking: Booking) -> str:
        if booking.status == BookingStatus.FAILED:
            return "none: not charged"
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
        events = saga_events(booking.correlation_id)
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


# --- Discount and quota settings -------------------------------------------------


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


admin.site.unregister(User)


@admin.register(User)
class AccountAdmin(UserAdmin):
    add_form = NewAccountForm
