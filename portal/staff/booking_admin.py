"""The booking as staff see it in the admin: its items, its payment, its story in
words, and (managers) the technical details. Read-only; cancel and change time are
its own two pages (booking_actions)."""

from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from bookings.admin_base import ReadOnlyAdmin, ReadOnlyInline, UUIDSearchMixin, pretty_json
from bookings.admin_display import NOT_YET, clinic_time, inr
from bookings.models import AuditLog, Booking, BookingItem, BookingStatus
from bookings.selectors import saga_events
from payments.models import Payment, Refund, RefundStatus
from portal.flows import (
    cancellation_quote,
    refund_of,
    reschedule_quote,
)
from portal.presentation import discount_in_words, failure_in_words, staff_story
from portal.selectors import appointment_of
from portal.staff import booking_actions


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
        refund = (
            Refund.objects.filter(correlation_id=booking.correlation_id)
            .select_related("payment")
            .first()
        )
        if refund is None:
            owed = refund_of(booking)  # nothing promised, or not recorded yet (recovery)
            if not owed["amount"]:
                return "nothing to refund"
            return f"{inr(owed['amount'])}, not recorded yet (recovery makes it)"
        if refund.waits_at_desk:
            return format_html(
                '{} · waiting for the patient at the desk (<a href="{}">hand it back</a>)',
                inr(refund.amount),
                reverse("front_desk") + "#refunds-to-hand-back",
            )
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

    def cancel_view(self, request: HttpRequest, pk) -> HttpResponse:
        return booking_actions.cancel(self, request, pk)

    def reschedule_view(self, request: HttpRequest, pk) -> HttpResponse:
        return booking_actions.reschedule(self, request, pk)

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
