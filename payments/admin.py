"""Payments and the simulated gateway's ledger: for reference, never edited by hand."""

from django.contrib import admin

from bookings.admin_base import ReadOnlyAdmin, UUIDSearchMixin, booking_link, booking_named_link
from bookings.admin_display import clinic_time, inr
from payments.models import (
    Payment,
    Refund,
    RefundStatus,
    ReversedCapture,
    SimulatedGatewayCharge,
)
from payments.online import retry_reversal
from payments.services import retry_refund


class SettledFilter(admin.SimpleListFilter):
    """Money owed back that has not reached the patient: failed (staff act) or pending
    (the gateway has not processed it yet), in one click."""

    title = "settled"
    parameter_name = "settled"

    def lookups(self, request, model_admin):
        return (("no", "Not yet (pending or failed)"), ("yes", "Refunded"))

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(status__in=(RefundStatus.PENDING, RefundStatus.FAILED))
        if self.value() == "yes":
            return queryset.filter(status=RefundStatus.REFUNDED)
        return queryset


def asked_again(outcomes: list[str]) -> str:
    """What became of refunds staff asked the gateway for again."""
    return (
        f"{outcomes.count(RefundStatus.REFUNDED)} refunded, "
        f"{outcomes.count(RefundStatus.PENDING)} still waiting for the gateway, "
        f"{outcomes.count(RefundStatus.FAILED)} refused again."
    )


@admin.register(Payment)
class PaymentAdmin(UUIDSearchMixin, ReadOnlyAdmin):
    list_display = (
        "created_display",
        "booking_link",
        "patient",
        "amount_display",
        "status",
        "gateway_reference",
        "decline_reason",
    )
    list_filter = ("status", "method", ("created_at", admin.DateFieldListFilter))
    list_select_related = ("booking",)
    search_fields = ("=gateway_reference", "=refund_reference", "booking__patient_name")
    search_help_text = "A gateway reference, a patient name, a booking id or a correlation id."
    uuid_search_fields = ("correlation_id", "booking_id")
    fields = (
        "booking_link",
        "correlation_id",
        "amount_display",
        "currency",
        "method",
        "status",
        "gateway_reference",
        "decline_reason",
        "refund_reference",
        "refunded_display",
        "created_display",
    )
    readonly_fields = ("booking_link", "amount_display", "refunded_display", "created_display")

    @admin.display(description="booking")
    def booking_link(self, payment: Payment) -> str:
        return booking_link(payment.booking_id)

    @admin.display(description="patient", ordering="booking__patient_name")
    def patient(self, payment: Payment) -> str:
        return payment.booking.patient_name

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, payment: Payment) -> str:
        return inr(payment.amount)

    @admin.display(description="at (IST)", ordering="created_at")
    def created_display(self, payment: Payment) -> str:
        return clinic_time(payment.created_at)

    @admin.display(description="refunded at (IST)")
    def refunded_display(self, payment: Payment) -> str:
        return clinic_time(payment.refunded_at)


@admin.register(SimulatedGatewayCharge)
class SimulatedGatewayChargeAdmin(ReadOnlyAdmin):
    """What the (simulated) provider recorded on its side: compare with our payments."""

    list_display = (
        "created_display",
        "reference",
        "amount_display",
        "captured",
        "decline_reason",
        "refund_reference",
    )
    list_filter = ("captured",)
    search_fields = ("=reference", "=idempotency_key", "=refund_reference")
    fields = (
        "reference",
        "idempotency_key",
        "token",
        "amount_display",
        "captured",
        "decline_reason",
        "refund_reference",
        "created_display",
    )
    readonly_fields = ("amount_display", "created_display")

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, charge: SimulatedGatewayCharge) -> str:
        return inr(charge.amount)

    @admin.display(description="at (IST)", ordering="created_at")
    def created_display(self, charge: SimulatedGatewayCharge) -> str:
        return clinic_time(charge.created_at)


@admin.register(Refund)
class RefundAdmin(UUIDSearchMixin, ReadOnlyAdmin):
    """Cancellation refunds: pending until the gateway reports them processed (its
    webhook, or the worker asking); a failed one is the clinic's to settle (try again,
    or by hand)."""

    list_display = (
        "created_display",
        "booking",
        "amount_display",
        "status",
        "attempts",
        "gateway_reference",
        "failure_reason",
    )
    list_filter = (SettledFilter, "status")
    list_select_related = ("payment__booking",)
    search_fields = ("payment__booking__patient_name", "=gateway_reference")
    search_help_text = "A patient name, a gateway reference, or a correlation id."
    uuid_search_fields = ("correlation_id",)
    actions = ("try_again",)

    @admin.display(description="booking")
    def booking(self, refund: Refund) -> str:
        return booking_named_link(refund.payment.booking)

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, refund: Refund) -> str:
        return inr(refund.amount)

    @admin.display(description="asked for at (IST)", ordering="created_at")
    def created_display(self, refund: Refund) -> str:
        return clinic_time(refund.created_at)

    @admin.action(
        description="Ask the gateway again for the selected refunds", permissions=["view"]
    )
    def try_again(self, request, queryset) -> None:
        outcomes = [
            retry_refund(correlation_id=cid, actor=request.user.get_username())
            for cid in queryset.exclude(status=RefundStatus.REFUNDED).values_list(
                "correlation_id", flat=True
            )
        ]
        self.message_user(request, asked_again(outcomes))


@admin.register(ReversedCapture)
class ReversedCaptureAdmin(UUIDSearchMixin, ReadOnlyAdmin):
    """Online captures a booking did not keep (or undone after it was paid), refunded in
    full at once: pending while the gateway has not answered (retried every minute) or
    not processed it yet; failed for staff to try again or settle by hand."""

    list_display = (
        "created_display",
        "booking",
        "amount_display",
        "reason",
        "status",
        "gateway_payment_id",
        "refund_reference",
    )
    list_filter = (SettledFilter, "status", "reason")
    list_select_related = ("payment",)
    search_fields = ("=gateway_payment_id", "=refund_reference", "payment__booking__patient_name")
    search_help_text = "A gateway payment or refund id, a patient name, or a correlation id."
    uuid_search_fields = ("correlation_id",)
    actions = ("try_again",)

    @admin.display(description="booking")
    def booking(self, reversal: ReversedCapture) -> str:
        return booking_link(reversal.payment.booking_id)

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, reversal: ReversedCapture) -> str:
        return inr(reversal.amount)

    @admin.display(description="captured at (IST)", ordering="created_at")
    def created_display(self, reversal: ReversedCapture) -> str:
        return clinic_time(reversal.created_at)

    @admin.action(
        description="Ask the gateway again to refund the selected captures", permissions=["view"]
    )
    def try_again(self, request, queryset) -> None:
        outcomes = [
            retry_reversal(gateway_payment_id=pay_id, actor=request.user.get_username())
            for pay_id in queryset.exclude(status=RefundStatus.REFUNDED).values_list(
                "gateway_payment_id", flat=True
            )
        ]
        self.message_user(request, asked_again(outcomes))
