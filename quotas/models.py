from django.db import models
from django.db.models import F, Q


class QuotaSettings(models.Model):
    """The daily discount limit a new clinic day starts with (rule R2). One row."""

    SINGLETON_ID = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID, editable=False)
    default_daily_limit = models.PositiveIntegerField(
        default=100, help_text="Discounts a new clinic day may grant, unless changed for that day."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "quota settings"
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="quota_settings_singleton"),
        ]

    def __str__(self) -> str:
        return f"{self.default_daily_limit} discounts a day"

    @classmethod
    def current(cls) -> "QuotaSettings":
        """The row (a migration makes it); its defaults, unsaved, if it is missing (a
        flushed test database). Reading never writes: a GET page must not."""
        return cls.objects.filter(pk=cls.SINGLETON_ID).first() or cls()


class DiscountQuota(models.Model):
    """One clinic day's discounts (the day turns at midnight IST): the hot row."""

    day = models.DateField(primary_key=True)
    limit = models.PositiveIntegerField()
    used = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-day"]
        verbose_name = "day's discounts"
        verbose_name_plural = "discounts by day"
        constraints = [
            models.CheckConstraint(condition=Q(used__gte=0), name="quota_used_non_negative"),
            models.CheckConstraint(
                condition=Q(used__lte=F("limit")), name="quota_used_within_limit"
            ),
        ]

    def __str__(self) -> str:
        # Staff read this as the day page's title: words, not "2026-11-26: 8/8".
        day = f"{self.day:%A} {self.day.day} {self.day:%B %Y}"
        return f"{day}: {self.used} of {self.limit} discounts given"

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)


ONE_RESERVATION_PER_SAGA = "quota_reservation_once_per_saga"


class QuotaReservation(models.Model):
    """One discount unit held by one saga; released exactly once on compensation."""

    correlation_id = models.UUIDField()
    quota = models.ForeignKey(DiscountQuota, on_delete=models.PROTECT, related_name="reservations")
    booking = models.ForeignKey(
        "bookings.Booking", on_delete=models.PROTECT, related_name="quota_reservations"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "discount given"
        verbose_name_plural = "discounts given"
        constraints = [
            models.UniqueConstraint(fields=["correlation_id"], name=ONE_RESERVATION_PER_SAGA),
        ]
        indexes = [
            models.Index(
                fields=["quota"], condition=Q(released_at__isnull=True), name="reservation_live"
            )
        ]

    def __str__(self) -> str:
        # Shown above each row of a day's page: words, no ids (quota_id is the day).
        state = "given back" if self.released_at else "kept"
        return f"Discount of {self.quota_id:%d %b %Y} ({state})"
