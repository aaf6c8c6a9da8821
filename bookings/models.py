"""The booking (the saga's summary), its items, the event log and the audit log."""

import uuid
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, Literal, overload

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.expressions import Combinable
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from bookings.validators import validate_indian_mobile

MONEY = {"max_digits": 12, "decimal_places": 2}  # what money_field makes; code not yet on it

# What a money column accepts (Django's DecimalField setter types), and a validator.
_MoneyIn = str | float | Decimal | Combinable
Validator = Callable[[Any], None]


@overload
def money_field(
    *, null: Literal[False] = False, blank: bool = False, validators: Sequence[Validator] = ()
) -> "models.DecimalField[_MoneyIn, Decimal]": ...
@overload
def money_field(
    *, null: Literal[True], blank: bool = False, validators: Sequence[Validator] = ()
) -> "models.DecimalField[_MoneyIn | None, Decimal | None]": ...
def money_field(
    *, null: bool = False, blank: bool = False, validators: Sequence[Validator] = ()
) -> "models.DecimalField[Any, Any]":
    """A column of INR, two places: a function, not a dict splat, so mypy sees the field's
    type (nullable or not) and its arguments."""
    return models.DecimalField(
        max_digits=12, decimal_places=2, null=null, blank=blank, validators=validators
    )


SAC_HEALTH = "9993"  # Human health and social care services
SAC = RegexValidator(r"^99[0-9]{2}([0-9]{2})?$", "A SAC code: 4 or 6 digits starting 99.")


def gst_rate_field() -> "models.DecimalField[_MoneyIn, Decimal]":
    """A GST rate in percent: 0 (exempt, the default) up to 40, the highest slab."""
    return models.DecimalField(
        "GST rate (%)",
        max_digits=4,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("40"))],
    )


class EnglishInOriginalColumns(models.Model):
    """A model whose text has Hindi versions (modeltranslation, `translation.py`): saved
    with English active, so each translated field's own column (`name`, beside `name_en`
    and `name_hi`) holds the English text, whatever language the saving request was in.
    That column is what its unique constraint, migrations' historical models and reads
    through other models' managers (billing's `items__name`) see."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        with translation.override(settings.MODELTRANSLATION_DEFAULT_LANGUAGE):
            super().save(*args, **kwargs)


class Gender(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Other")


class MedicalService(EnglishInOriginalColumns):
    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    # Added by modeltranslation (bookings/translation.py); named here for the type checker.
    name_en: str
    name_hi: str | None
    description_en: str | None
    description_hi: str | None
    price = money_field(validators=[MinValueValidator(Decimal("0.01"))])
    active = models.BooleanField(default=True)
    # Consultations and imaging need a practitioner's slot; lab tests are walk-in.
    requires_appointment = models.BooleanField(default=False)
    duration_minutes = models.PositiveSmallIntegerField(default=15)
    # What its receipts say: the SAC code (9993, human health services; the seed is more
    # precise) and the GST rate, 0 for an exempt health-care service (the default).
    sac_code = models.CharField("SAC code", max_length=8, default=SAC_HEALTH, validators=[SAC])
    gst_rate = gst_rate_field()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=0), name="service_price_positive"),
            models.CheckConstraint(
                condition=Q(duration_minutes__gt=0), name="service_duration_positive"
            ),
            models.CheckConstraint(
                condition=Q(gst_rate__gte=0, gst_rate__lte=40), name="service_gst_rate_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (₹{self.price})"


class Language(models.TextChoices):
    ENGLISH = "en", "English"
    HINDI = "hi", "हिन्दी (Hindi)"


class PatientProfile(models.Model):
    """The account holder's own details; bookings may be for someone else (a child, a parent)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="patient_profile"
    )
    full_name = models.CharField(max_length=120)
    gender = models.CharField(max_length=10, choices=Gender.choices)
    date_of_birth = models.DateField()
    # E.164 ("+919812345678"): where SMS reminders go. Blank: e-mail only.
    phone = PhoneNumberField(blank=True, validators=[validate_indian_mobile])
    # The language of the patient's e-mails and SMS.
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.ENGLISH)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(gender__in=Gender.values), name="profile_gender_valid"
            ),
            models.CheckConstraint(
                condition=Q(language__in=Language.values), name="profile_language_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.full_name


class BookingStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    # Online payment: the gateway's order exists; the slot and discount are held until
    # it is paid (back to pending, then confirmed) or expires (compensated, failed).
    AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
    CONFIRMED = "confirmed", _("Confirmed")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    # Set by the front desk on a confirmed booking's visit.
    COMPLETED = "completed", _("Completed (checked in)")
    NO_SHOW = "no_show", _("No-show")


ONE_BOOKING_PER_REQUEST_KEY = "booking_once_per_user_request_key"


class Booking(models.Model):
    """One patient's request, and the summary of its saga kept current step by step.

    Each participant writes only its own columns: pricing the base price and
    eligibility, quotas the discount and final price, confirmations the code and
    `confirmed`; bookings alone marks it `failed`.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    correlation_id = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    # No index of its own: booking_user_recent (user, -created_at) serves every lookup by user.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bookings", db_index=False
    )
    patient_name = models.CharField(max_length=120)
    gender = models.CharField(max_length=10, choices=Gender.choices)
    date_of_birth = models.DateField()
    payment_token = models.CharField(max_length=64)
    # Set by a client that may send the same request twice (a double-clicked form):
    # one booking per user and key, guarded by the database.
    request_key = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    status = models.CharField(
        max_length=20, choices=BookingStatus.choices, default=BookingStatus.PENDING
    )
    # The clinic date (Asia/Kolkata) of the request: "today" for R1, the quota day for R2.
    clinic_day = models.DateField()
    # When the patient comes: a copy of the appointment's times taken with the request
    # (scheduling owns the slot itself), or no times for a walk-in on `visit_date`.
    visit_date = models.DateField()
    appointment_start = models.DateTimeField(null=True, blank=True)
    appointment_end = models.DateTimeField(null=True, blank=True)
    currency = models.CharField(max_length=3, default="INR")
    # The amount the patient was shown before paying (optional for API clients): payments
    # charges nothing when the final price turns out higher ("price_changed").
    expected_total = money_field(null=True, blank=True)
    # pricing
    base_price = money_field(null=True, blank=True)
    discount_eligible = models.BooleanField(null=True)
    eligibility_reason = models.CharField(max_length=40, blank=True)
    discount_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    # quotas
    discount_applied = models.BooleanField(null=True)
    quota_exhausted = models.BooleanField(null=True)
    discount_amount = money_field(null=True, blank=True)
    final_price = money_field(null=True, blank=True)
    # pricing: the version of the cancellation policy the booking was sold under
    cancellation_policy_version = models.PositiveIntegerField(null=True, blank=True)
    # scheduling: how many times the appointment was moved (a conditional UPDATE
    # `reschedules < max_reschedules` counts each move; it also numbers its event)
    reschedules = models.PositiveSmallIntegerField(default=0)
    # bookings: set once, by the one cancellation that wins (a conditional UPDATE)
    cancellation_requested_at = models.DateTimeField(null=True, blank=True)
    # The API request (its Idempotency-Key, hashed with the caller) whose cancellation won:
    # a retry of that request after it died finds its cancellation and gets its answer.
    cancellation_request_key = models.CharField(max_length=64, blank=True, default="")
    # confirmations / bookings
    # NULL until set: unique among confirmed bookings, and `null` in the API until then.
    confirmation_code = models.CharField(max_length=16, null=True, blank=True, unique=True)  # noqa: DJ001
    failure_reason = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    # Set, by one conditional UPDATE while the booking is pending, in the same transaction
    # that logs CompensationTriggered; never unset. Confirmation is a conditional UPDATE on
    # `pending and not compensating`: whichever of the two commits second changes no row,
    # so a booking is never both confirmed and undone (DESIGN.md, terminal states).
    compensating = models.BooleanField("compensation started", default=False)
    # Set once, by the practitioner who saw the patient (their day's "Mark completed");
    # `completed` alone means checked in at the desk (arrived).
    visit_finished_at = models.DateTimeField(null=True, blank=True)
    visit_finished_by = models.CharField(max_length=150, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("cancel_booking", "Can cancel any booking, refunding everything"),
            ("reschedule_booking", "Can move any booking to another time"),
        ]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="booking_user_recent"),
            models.Index(fields=["status", "created_at"], name="booking_status_age"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "request_key"], name=ONE_BOOKING_PER_REQUEST_KEY
            ),
            models.CheckConstraint(
                condition=Q(status__in=BookingStatus.values), name="booking_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(base_price__isnull=True) | Q(base_price__gte=0),
                name="booking_base_price_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(final_price__isnull=True)
                | Q(final_price__gte=0, final_price__lte=F("base_price")),
                name="booking_final_price_within_base",
            ),
            models.CheckConstraint(
                condition=Q(appointment_start__isnull=True, appointment_end__isnull=True)
                | Q(appointment_end__gt=F("appointment_start")),
                name="booking_appointment_times_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status=BookingStatus.CONFIRMED)
                | Q(confirmation_code__isnull=False, final_price__isnull=False),
                name="booking_confirmed_has_code_and_price",
            ),
            # Terminal states are exclusive: a confirmed booking was never being undone,
            # and a failed one always was.
            models.CheckConstraint(
                condition=~Q(status=BookingStatus.CONFIRMED) | Q(compensating=False),
                name="booking_confirmed_never_compensated",
            ),
            models.CheckConstraint(
                condition=~Q(status=BookingStatus.FAILED) | Q(compensating=True),
                name="booking_failed_only_by_compensation",
            ),
            models.CheckConstraint(
                condition=Q(expected_total__isnull=True) | Q(expected_total__gte=0),
                name="booking_expected_total_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient_name} · {self.status} · {self.id}"


class BookingItem(EnglishInOriginalColumns):
    """A service as it was booked: name (in English and Hindi) and price copied so later
    edits never rewrite history."""

    # Indexed by booking_item_unique (booking, service): no index of its own to write.
    booking = models.ForeignKey(
        Booking, on_delete=models.CASCADE, related_name="items", db_index=False
    )
    service = models.ForeignKey(
        MedicalService, on_delete=models.PROTECT, related_name="booking_items"
    )
    name = models.CharField(max_length=120)
    name_en: str  # modeltranslation's (bookings/translation.py)
    name_hi: str | None
    price = money_field()
    sac_code = models.CharField("SAC code", max_length=8, default=SAC_HEALTH)
    gst_rate = gst_rate_field()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["booking", "service"], name="booking_item_unique"),
            models.CheckConstraint(condition=Q(price__gt=0), name="booking_item_price_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (₹{self.price})"


class SagaEvent(models.Model):
    """The saga's durable log: written in the same transaction as the step it reports."""

    # Looked up by saga through the two unique indexes that start with it.
    correlation_id = models.UUIDField()
    event_type = models.CharField(max_length=40)
    sequence = models.PositiveIntegerField()
    # 1 for an event that happens once in a saga; the n-th time for one that may rightly
    # happen again (the n-th BookingRescheduled), so each is still logged exactly once.
    occurrence = models.PositiveSmallIntegerField(default=1)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["correlation_id", "sequence"]
        constraints = [
            # A second emission of the same step is a no-op: this is what makes
            # receivers idempotent when an event is delivered twice.
            models.UniqueConstraint(
                fields=["correlation_id", "event_type", "occurrence"],
                name="saga_event_once_per_saga",
            ),
            models.UniqueConstraint(
                fields=["correlation_id", "sequence"], name="saga_event_sequence_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.correlation_id} #{self.sequence} {self.event_type}"


class AuditLog(models.Model):
    """Who changed what, when, from what to what. Append-only."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.CharField(max_length=150)  # a username, or "system:<app>" for saga steps
    action = models.CharField(max_length=60)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=64)
    correlation_id = models.UUIDField(null=True, blank=True, db_index=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        # The clinic's clock (IST), as everywhere staff read times; never UTC's.
        at = f"{timezone.localtime(self.at):%Y-%m-%d %H:%M %Z}" if self.at else "(unsaved)"
        return f"{at} {self.actor} {self.action} {self.object_type}"

    @classmethod
    def record(
        cls,
        *,
        actor: str,
        action: str,
        obj: models.Model,
        correlation_id=None,
        before: dict | None = None,
        after: dict | None = None,
    ) -> "AuditLog":
        return cls.objects.create(
            actor=actor,
            action=action,
            object_type=obj._meta.label,
            object_id=str(obj.pk),
            correlation_id=correlation_id,
            before=before,
            after=after,
        )
