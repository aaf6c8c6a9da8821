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
        return cls.objects.get_or_create(pk=cls.SINGLETON_ID)[0]


class ClinicSettings(DiscountSettings):
    """The staff's one page for both discount rules: the percentage (R1) and the
    default daily limit (R2, kept in quotas.QuotaSettings). A proxy, so the page
    has its own name and its own permission; the data stays where it lives."""

    class Meta:
        proxy = True
        verbose_name = verbose_name_plural = "discount and quota settings"

    def __str__(self) -> str:
        return "Discount and quota settings"
