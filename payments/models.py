from django.db import models
from django.db.models import Q

from bookings.models import money_field


class PaymentStatus(models.TextChoices):
    PENDING = "pending", "Pending (outcome not yet known)"
    CAPTURED = "captured", "Captured"
    DECLINED = "declined", "Declined"
    REFUNDED = "refunded", "Refunded"


class PaymentMethod(models.TextChoices):
    CARD = "card", "Card (through the gateway)"
    CASH = "cash", "Cash received at the desk"
    ONLINE = "online", "Online (UPI, card, netbanking at the gateway)"
    COUNTER_CARD = "pos", "Card at the counter (the clinic's card machine)"


# The payment token the front desk sends for cash: never sent to the card gateway.
CASH_TOKEN = "cash"
# The front desk's card machine approved the payment: recorded like cash (who took it).
COUNTER_CARD_TOKEN = "counter_card"
# Taken at the front desk by a receptionist, outside any gateway (given back there too):
# the desk's token and the method its payment is recorded with.
DESK_METHOD_OF = {CASH_TOKEN: PaymentMethod.CASH, COUNTER_CARD_TOKEN: PaymentMethod.COUNTER_CARD}
DESK_TOKENS = tuple(DESK_METHOD_OF)
DESK_METHODS = tuple(DESK_METHOD_OF.values())
# The booking's payment token for `payment_method: "online"`: the saga waits for the
# gateway's order to be paid instead of charging in its step.
ONLINE_TOKEN = "online"
# The front desk's online payment: a Razorpay Payment Link for the patient's phone (shown
# as a QR code at the desk); the saga waits for it as for an order. The desk's alone.
PAYMENT_LINK_TOKEN = "payment_link"


class Payment(models.Model):
    """The one charge of one booking, and its refund if the saga was compensated."""

    booking = models.OneToOneField(
        "bookings.Booking", on_delete=models.PROTECT, related_name="payment"
    )
    correlation_id = models.UUIDField(unique=True)  # also the gateway's idempotency key
    amount = money_field()
    currency = models.CharField(max_length=3, default="INR")
    method = models.CharField(
        max_length=6, choices=PaymentMethod.choices, default=PaymentMethod.CARD
    )
    status = models.CharField(
        max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.PENDING
    )
    gateway_reference = models.CharField(max_length=64, blank=True)
    # Online: how the kept capture was paid at the gateway (upi, card, netbanking, …).
    instrument = models.CharField(max_length=12, blank=True)
    decline_reason = models.CharField(max_length=64, blank=True)
    refund_reference = models.CharField(max_length=64, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    # Online only: the gateway's order (its receipt is the booking id) and until when the
    # booking waits for it; the kept capture's id goes to gateway_reference.
    order_id = models.CharField(max_length=40, null=True, blank=True, unique=True)  # noqa: DJ001
    # The front desk's payment link instead of an order (a walk-in pays on their phone).
    payment_link_id = models.CharField(  # noqa: DJ001
        max_length=40, null=True, blank=True, unique=True
    )
    payment_link_url = models.URLField(max_length=200, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # Reconciliation's scan: online payments still waiting, by expiry.
            models.Index(
                fields=["expires_at"],
                condition=Q(status="pending", method="online"),
                name="payment_online_waiting",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="payment_amount_non_negative"),
            models.CheckConstraint(
                condition=Q(status__in=PaymentStatus.values), name="payment_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(method__in=PaymentMethod.values), name="payment_method_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status=PaymentStatus.REFUNDED) | Q(refunded_at__isnull=False),
                name="payment_refund_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"₹{self.amount} {self.status} ({self.gateway_reference or 'no reference'})"


class RefundStatus(models.TextChoices):
    PENDING = "pending", "Pending (the gateway has not confirmed it yet)"
    REFUNDED = "refunded", "Refunded"
    FAILED = "failed", "Failed (the gateway refused it: staff must act)"


ONE_REFUND_PER_SAGA = "refund_once_per_saga"


class Refund(models.Model):
    """Money given back on a cancellation: all or part of a captured payment.

    One per booking's saga (its correlation id is also the gateway's idempotency key),
    so a cancellation delivered twice never refunds twice. A refund the gateway has not
    confirmed stays pending and is retried until it settles.
    """

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    correlation_id = models.UUIDField()
    amount = money_field()
    status = models.CharField(
        max_length=10, choices=RefundStatus.choices, default=RefundStatus.PENDING
    )
    gateway_reference = models.CharField(max_length=64, blank=True)
    failure_reason = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # A desk payment's refund (cash, counter card): the staff member who handed it back
    # (their drawer's day close): who cancelled at the desk, or, when the patient
    # cancelled themselves, who handed it over when they came (pending until then).
    # Empty for card and online refunds.
    handed_back_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    refunded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["correlation_id"], name=ONE_REFUND_PER_SAGA),
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(
                condition=Q(status__in=RefundStatus.values), name="refund_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status=RefundStatus.REFUNDED) | Q(refunded_at__isnull=False),
                name="refund_refunded_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"refund ₹{self.amount} {self.status}"

    @property
    def idempotency_key(self) -> str:
        return f"cancel-{self.correlation_id}"

    @property
    def waits_at_desk(self) -> bool:
        """A desk payment's refund that nobody has handed back yet: the patient cancelled
        themselves and has not come for it (payments.services.hand_back_refund)."""
        return (
            self.status == RefundStatus.PENDING
            and not self.handed_back_by
            and self.payment.method in DESK_METHODS
        )


class CashReceipt(models.Model):
    """Cash taken at the front desk for one booking: who took it. Written with the
    booking request (the receptionist is the actor); the saga's payment step finds it
    and records the payment as captured without asking the card gateway."""

    correlation_id = models.UUIDField(unique=True)
    received_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        permissions = [
            ("view_own_day_close", "Can see their own cash day close"),
            ("view_any_day_close", "Can see every receptionist's cash day close"),
        ]

    def __str__(self) -> str:
        return f"cash received by {self.received_by}"


class SimulatedGatewayCharge(models.Model):
    """The simulated gateway's own ledger: what a real provider keeps on its side.

    Written outside the saga's transactions, so it survives a crash of ours, which
    is what lets recovery ask "did this charge happen?" instead of charging again.
    """

    idempotency_key = models.CharField(max_length=64, unique=True)
    token = models.CharField(max_length=64)
    amount = money_field()
    captured = models.BooleanField()
    reference = models.CharField(max_length=64, unique=True)
    decline_reason = models.CharField(max_length=64, blank=True)
    refund_reference = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.reference} ₹{self.amount} {'captured' if self.captured else 'declined'}"


class SimulatedGatewayRefund(models.Model):
    """The simulated gateway's ledger of refunds (whole or partial), one per key."""

    idempotency_key = models.CharField(max_length=80, unique=True)
    charge_reference = models.CharField(max_length=64, db_index=True)
    amount = money_field()
    reference = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.reference} ₹{self.amount} of {self.charge_reference}"


class ReversalReason(models.TextChoices):
    NOT_WAITING = "not_waiting", "The booking was no longer waiting (expired, failed, cancelled)"
    SECOND_CAPTURE = "second_capture", "A second capture of the same order"
    WRONG_AMOUNT = "wrong_amount", "Captured an amount other than the order's"
    COMPENSATED = "compensated", "The booking was undone after it was paid (it failed)"


ONE_REVERSAL_PER_CAPTURE = "reversed_capture_once_per_gateway_payment"


class ReversedCapture(models.Model):
    """Money captured on an online order that its booking does not keep: refunded in
    full at once. One row per gateway payment id (recorded before the gateway is asked,
    so a retry finds it and first lists the payment's refunds: Razorpay takes no
    idempotency key for refunds)."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="reversals")
    correlation_id = models.UUIDField()
    gateway_payment_id = models.CharField(max_length=40)
    amount = money_field()
    reason = models.CharField(max_length=20, choices=ReversalReason.choices)
    # The n-th reversal of this saga: PaymentReversed's occurrence in the event log.
    occurrence = models.PositiveSmallIntegerField()
    status = models.CharField(
        max_length=10, choices=RefundStatus.choices, default=RefundStatus.PENDING
    )
    refund_reference = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    refunded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["gateway_payment_id"], name=ONE_REVERSAL_PER_CAPTURE),
            models.UniqueConstraint(
                fields=["correlation_id", "occurrence"], name="reversed_capture_occurrence"
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="reversed_capture_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.gateway_payment_id} ₹{self.amount} reversed ({self.reason}, {self.status})"


class WebhookEvent(models.Model):
    """The gateway's webhook inbox: each event stored once by its id (X-Razorpay-Event-Id)
    in the request, acted on from this row after commit, or by the worker if that failed."""

    event_id = models.CharField(max_length=64, unique=True)
    event_type = models.CharField(max_length=40)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["received_at"]
        indexes = [
            models.Index(
                fields=["received_at"],
                condition=Q(processed_at__isnull=True),
                name="webhook_event_unprocessed",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"
