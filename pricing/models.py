from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q


class DiscountSettings(models.Model):
    """The clinic's discount percentage (rule R1). One row, edited by staff."""

    SINGLETON_ID = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID, editable=False)
    discount_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("12.00"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text="Percentage taken off the base price of an eligible booking (0–100).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "discount settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0, discount_percent__lte=100),
                name="discount_percent_0_to_100",
            ),
            models.CheckConstraint(condition=Q(id=1), name="discount_settings_singleton"),
        ]

    def __str__(self) -> str:
        return f"{self.discount_percent}% discount"

    @classmethod
    def current(cls) -> "DiscountSettings":
        """The row (a migration makes it); its defaults, unsaved, if it is missing (a
        flushed test database). Reading never writes: a GET page must not."""
        return cls.objects.filter(pk=cls.SINGLETON_ID).first() or cls()


class ClinicSettings(DiscountSettings):
    """The staff's one page for both discount rules: the percentage (R1) and the
    default daily limit (R2, kept in quotas.QuotaSettings). A proxy, so the page
    has its own name and its own permission; the data stays where it lives."""

    class Meta:
        proxy = True
        verbose_name = verbose_name_plural = "discount and quota settings"

    def __str__(self) -> str:
        return "Discount and quota settings"


class CancellationPolicy(models.Model):
    """One version of the clinic's cancellation policy, with its refund tiers.

    Versions are never edited: a change publishes a new version, and each booking
    keeps the number of the version it was sold under (Booking.cancellation_policy_version),
    so a later change never alters an existing booking's refund. The newest is current.
    """

    reschedule_until_hours_before = models.PositiveIntegerField(
        default=4, help_text="A booking may be moved until this many hours before its visit."
    )
    max_reschedules = models.PositiveSmallIntegerField(
        default=2, help_text="How many times one booking may be moved."
    )
    published_at = models.DateTimeField(auto_now_add=True)
    published_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "cancellation policy"
        verbose_name_plural = "cancellation policies"

    def __str__(self) -> str:
        return f"Cancellation policy, version {self.pk}"


class CancellationTier(models.Model):
    """Cancelled at least `min_hours_before` the visit: `refund_percent` of what was paid
    comes back, minus `fee` (never below zero)."""

    policy = models.ForeignKey(CancellationPolicy, on_delete=models.PROTECT, related_name="tiers")
    min_hours_before = models.PositiveIntegerField()
    refund_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    fee = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0"))],
    )

    class Meta:
        ordering = ["-min_hours_before"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "min_hours_before"], name="cancellation_tier_once_per_hours"
            ),
            models.CheckConstraint(
                condition=Q(refund_percent__gte=0, refund_percent__lte=100),
                name="cancellation_tier_percent_0_to_100",
            ),
            models.CheckConstraint(
                condition=Q(fee__gte=0), name="cancellation_tier_fee_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"≥{self.min_hours_before} h before: {self.refund_percent}% back, fee ₹{self.fee}"
