"""The API's input serializers (validate a request) and output serializers (render an answer).

Input serializers only check shapes and simple rules; the services decide the rest
and their django ValidationErrors become 400s in the views. Output serializers render
money as strings with two decimals and times in the clinic's zone (+05:30).
"""

import datetime
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from phonenumber_field.serializerfields import PhoneNumberField
from rest_framework import serializers

from billing.selectors import receipts_of
from bookings.models import Booking, BookingStatus, Gender, Language
from bookings.selectors import saga_events
from bookings.services import MAX_SERVICES_PER_BOOKING, clinic_today
from bookings.validators import validate_date_of_birth, validate_indian_mobile, validate_username
from payments.models import ONLINE_TOKEN
from payments.online import online_order_of, online_payment_available
from portal.selectors import appointment_of
from scheduling.services import horizon_days

CURRENCY = "INR"
# POST /api/booking's payment_method: the simulated gateway's card tokens, or online.
CARD_TOKEN_METHOD = "card_token"
ONLINE_METHOD = "online"
POSTGRES_MAX_INT = 2**31 - 1


def _validate_birth_date(value: date) -> date:
    try:
        validate_date_of_birth(value, today=clinic_today())
    except DjangoValidationError as error:
        raise serializers.ValidationError(error.messages) from None
    return value


class ClinicDateTimeField(serializers.DateTimeField):
    """ISO 8601 in the clinic's zone with its offset, to the second: 2026-11-24T10:15:00+05:30."""

    def to_representation(self, value):
        return timezone.localtime(value).isoformat(timespec="seconds")


def money_field(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=2, **kwargs)


def gender_field() -> serializers.ChoiceField:
    # DRF's own message echoes the value sent: a lone surrogate ("\ud800", valid JSON)
    # then cannot be encoded into the answer, a 500. This one names the choices instead.
    return serializers.ChoiceField(
        choices=Gender.choices,
        error_messages={"invalid_choice": f"Must be one of: {', '.join(Gender.values)}."},
    )


# --- Errors (for the OpenAPI description) -----------------------------------


class ErrorDetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


# --- Accounts ----------------------------------------------------------------


class IndianMobileField(PhoneNumberField):
    """E.164 in and out ("+919812345678"); national forms ("98123 45678") accepted."""

    def to_internal_value(self, data):
        number = super().to_internal_value(data)
        try:
            validate_indian_mobile(number)
        except DjangoValidationError as error:
            raise serializers.ValidationError(list(error.messages)) from None
        return number

    def to_representation(self, value):
        return str(value) if value else ""


class RegisterInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, validators=[validate_username])
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)
    email = serializers.EmailField(max_length=254)
    full_name = serializers.CharField(max_length=120)
    gender = gender_field()
    date_of_birth = serializers.DateField()
    phone = IndianMobileField(required=False, allow_blank=True)
    language = serializers.ChoiceField(choices=Language.choices, required=False)

    def validate_date_of_birth(self, value: date) -> date:
        return _validate_birth_date(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # Django's password validators, told the username and e-mail (similarity check).
        candidate = get_user_model()(username=attrs["username"], email=attrs["email"])
        try:
            password_validation.validate_password(attrs["password"], user=candidate)
        except DjangoValidationError as error:
            raise serializers.ValidationError({"password": list(error.messages)}) from None
        return attrs


class MeInputSerializer(serializers.Serializer):
    full_name = serializers.CharField(max_length=120, required=False)
    email = serializers.EmailField(max_length=254, required=False)
    phone = IndianMobileField(required=False, allow_blank=True)
    language = serializers.ChoiceField(choices=Language.choices, required=False)


class MeOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="user.pk")
    username = serializers.CharField(source="user.username")
    full_name = serializers.CharField()
    email = serializers.EmailField(source="user.email")
    phone = serializers.SerializerMethodField()
    gender = serializers.CharField()
    date_of_birth = serializers.DateField()
    language = serializers.CharField()

    def get_phone(self, profile) -> str | None:
        return str(profile.phone) if profile.phone else None


class RegisterOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    token = serializers.CharField()


class LoginInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)


class TokenOutputSerializer(serializers.Serializer):
    token = serializers.CharField()


# --- Catalogue and rules -----------------------------------------------------


class ServiceOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    price = money_field()
    currency = serializers.SerializerMethodField()
    requires_appointment = serializers.BooleanField()
    duration_minutes = serializers.IntegerField(min_value=1)

    def get_currency(self, service) -> str:
        return CURRENCY


class PractitionerOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    specialty = serializers.CharField()
    service_ids = serializers.SerializerMethodField()

    def get_service_ids(self, practitioner) -> list[int]:
        return sorted(s.pk for s in practitioner.services.all())  # prefetched


class PractitionerBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    specialty = serializers.CharField()


class SlotQuerySerializer(serializers.Serializer):
    date = serializers.DateField(input_formats=["%Y-%m-%d"])
    practitioner_id = serializers.IntegerField(
        min_value=1, max_value=POSTGRES_MAX_INT, required=False
    )
    service_ids = serializers.RegexField(
        r"^[0-9]{1,10}(,[0-9]{1,10}){0,9}$",
        required=False,
        error_messages={"invalid": "Give service ids separated by commas, e.g. 1,2."},
    )

    def validate_date(self, value: datetime.date) -> datetime.date:  # `date` is the field here
        first, last = horizon_days()
        if not first <= value <= last:
            raise serializers.ValidationError(
                f"Choose a clinic day from {first.isoformat()} to {last.isoformat()}."
            )
        return value

    def validate_service_ids(self, value: str) -> list[int]:
        ids = [int(i) for i in value.split(",")]
        if any(not 1 <= i <= POSTGRES_MAX_INT for i in ids):
            raise serializers.ValidationError("Unknown service id.")
        return ids


class SlotOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    practitioner = PractitionerBriefSerializer()
    start = ClinicDateTimeField()
    end = ClinicDateTimeField()
    capacity = serializers.IntegerField(min_value=0)
    available = serializers.IntegerField(min_value=0)


class AppointmentOutputSerializer(serializers.Serializer):
    slot_id = serializers.IntegerField()
    practitioner = PractitionerBriefSerializer()
    start = ClinicDateTimeField()
    end = ClinicDateTimeField()


class DiscountConfigOutputSerializer(serializers.Serializer):
    discount_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    price_threshold = money_field()
    currency = serializers.CharField()


class QuotaStatusOutputSerializer(serializers.Serializer):
    date = serializers.DateField()
    time_zone = serializers.CharField()
    limit = serializers.IntegerField(min_value=0)
    used = serializers.IntegerField(min_value=0)
    remaining = serializers.IntegerField(min_value=0)
    resets_at = ClinicDateTimeField()


class QuotaLimitInputSerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=0, max_value=1_000_000)


# --- Bookings ----------------------------------------------------------------


class BookingInputSerializer(serializers.Serializer):
    patient_name = serializers.CharField(max_length=120)
    gender = gender_field()
    date_of_birth = serializers.DateField()
    service_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=POSTGRES_MAX_INT),
        min_length=1,
        max_length=MAX_SERVICES_PER_BOOKING,
    )
    payment_token = serializers.CharField(max_length=64, default="tok_visa")
    slot_id = serializers.IntegerField(min_value=1, max_value=POSTGRES_MAX_INT, required=False)
    # Optional: the clinic day the client showed; a slot of another day is a 400. For
    # walk-ins the visit's day: an open day within the horizon, today before closing.
    visit_date = serializers.DateField(required=False)
    # The amount the patient was shown. If the final price would be higher (the day's
    # last discount went to someone else meanwhile), nothing is charged and the booking
    # fails with failure_reason "price_changed".
    expected_total = money_field(required=False, min_value=Decimal("0.00"))
    # "online": the clinic's online gateway (shared/API.md, "Paying online"); the booking
    # then carries the ONLINE_TOKEN and waits for the order to be paid.
    payment_method = serializers.ChoiceField(
        choices=[CARD_TOKEN_METHOD, ONLINE_METHOD], default=CARD_TOKEN_METHOD
    )

    def validate_date_of_birth(self, value: date) -> date:
        return _validate_birth_date(value)

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        return choose_payment_token(data, token_sent="payment_token" in self.initial_data)

    def validate_service_ids(self, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise serializers.ValidationError("Each service may be chosen only once.")
        return value


def choose_payment_token(data: dict[str, Any], *, token_sent: bool) -> dict[str, Any]:
    """`payment_method` becomes the booking's payment token (and leaves the data)."""
    method = data.pop("payment_method", CARD_TOKEN_METHOD)
    if method == ONLINE_METHOD:
        if token_sent:
            raise serializers.ValidationError(
                {"payment_token": ["Only with payment_method card_token."]}
            )
        if not online_payment_available():
            raise serializers.ValidationError(
                {"payment_method": ["This clinic does not take payments online."]}
            )
        data["payment_token"] = ONLINE_TOKEN
    elif data.get("payment_token") == ONLINE_TOKEN:
        raise serializers.ValidationError(
            {"payment_token": [f"Unknown payment token {ONLINE_TOKEN!r}."]}
        )
    return data


class OnlinePaymentOutputSerializer(serializers.Serializer):
    """What an app needs to open the gateway's checkout (shared/API.md, "Paying online")."""

    gateway = serializers.CharField()
    order_id = serializers.CharField()
    key_id = serializers.CharField()
    amount = money_field()
    amount_paise = serializers.IntegerField()
    currency = serializers.CharField()
    expires_at = ClinicDateTimeField()


def online_payment_of(booking: Booking) -> dict[str, Any] | None:
    """The online order of a booking paid online, else None (no read for other bookings)."""
    if booking.payment_token != ONLINE_TOKEN:
        return None
    found = online_order_of(booking_id=booking.pk)
    return None if found is None else OnlinePaymentOutputSerializer(found).data


class BookedServiceOutputSerializer(serializers.Serializer):
    """A service as it was booked (the booking's own snapshot of name and price)."""

    id = serializers.IntegerField(source="service_id")
    name = serializers.CharField()
    price = money_field()


class ReceiptOutputSerializer(serializers.Serializer):
    """A receipt or refund note of the booking (issue 24, portal/receipts.py)."""

    number = serializers.CharField()
    kind = serializers.CharField()
    issued_at = ClinicDateTimeField()
    amount = money_field()
    url = serializers.CharField()


POLICY_PATH = "/api/config/cancellation"


class AppliedPolicyOutputSerializer(serializers.Serializer):
    """The cancellation policy version a booking was sold under, and where to read it."""

    version = serializers.IntegerField()
    url = serializers.CharField()


class BookingOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    correlation_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=BookingStatus.choices)
    patient_name = serializers.CharField()
    gender = serializers.ChoiceField(choices=Gender.choices)
    date_of_birth = serializers.DateField()
    services = BookedServiceOutputSerializer(source="items", many=True)
    currency = serializers.CharField()
    base_price = money_field(allow_null=True)
    discount_eligible = serializers.BooleanField(allow_null=True)
    discount_applied = serializers.BooleanField(allow_null=True)
    quota_exhausted = serializers.BooleanField(allow_null=True)
    discount_percent = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    discount_amount = money_field(allow_null=True)
    final_price = money_field(allow_null=True)
    confirmation_code = serializers.CharField(allow_null=True)
    failure_reason = serializers.CharField(allow_null=True)
    created_at = ClinicDateTimeField()
    visit_date = serializers.DateField()
    appointment = serializers.SerializerMethodField()
    receipts = serializers.SerializerMethodField()  # issue 24: portal/receipts.py

    @extend_schema_field(ReceiptOutputSerializer(many=True))
    def get_receipts(self, booking: Booking) -> list[dict[str, Any]]:
        return ReceiptOutputSerializer(receipts_of(booking), many=True).data  # type: ignore[return-value]  # many=True: a list

    @extend_schema_field(AppointmentOutputSerializer(allow_null=True))
    def get_appointment(self, booking: Booking) -> dict[str, Any] | None:
        found = appointment_of(booking)
        return None if found is None else AppointmentOutputSerializer(found).data

    cancellation_policy = serializers.SerializerMethodField()

    @extend_schema_field(AppliedPolicyOutputSerializer(allow_null=True))
    def get_cancellation_policy(self, booking: Booking) -> dict[str, Any] | None:
        # Set when the booking is priced: the terms its cancellation and moves follow.
        version = booking.cancellation_policy_version
        if version is None:
            return None
        return {"version": version, "url": f"{POLICY_PATH}?version={version}"}

    payment = serializers.SerializerMethodField()

    @extend_schema_field(OnlinePaymentOutputSerializer(allow_null=True))
    def get_payment(self, booking: Booking) -> dict[str, Any] | None:
        return online_payment_of(booking)


class SagaEventOutputSerializer(serializers.Serializer):
    sequence = serializers.IntegerField()
    type = serializers.CharField(source="event_type")
    at = ClinicDateTimeField(source="created_at")
    payload = serializers.DictField()


class BookingStatusOutputSerializer(BookingOutputSerializer):
    events = serializers.SerializerMethodField()

    @extend_schema_field(SagaEventOutputSerializer(many=True))
    def get_events(self, booking: Booking) -> list[dict[str, Any]]:
        events = saga_events(booking.correlation_id)
        # many=True makes a ListSerializer, whose .data is a list; the stubs keep the class.
        return SagaEventOutputSerializer(events, many=True).data  # type: ignore[return-value]


# --- Cancelling ----------------------------------------------------------------


class CancellationPolicyTierOutputSerializer(serializers.Serializer):
    min_hours_before = serializers.IntegerField()
    refund_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    fee = money_field()


class CancellationPolicyOutputSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    tiers = CancellationPolicyTierOutputSerializer(many=True)
    reschedule_until_hours_before = serializers.IntegerField()
    max_reschedules = serializers.IntegerField()


class CancellationQuoteOutputSerializer(serializers.Serializer):
    allowed = serializers.BooleanField()
    refund_amount = money_field()
    fee = money_field()
    reason = serializers.CharField()


class CancelInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class RescheduleInputSerializer(serializers.Serializer):
    slot_id = serializers.IntegerField(min_value=1, max_value=POSTGRES_MAX_INT)


class RefundOutputSerializer(serializers.Serializer):
    amount = money_field()
    status = serializers.ChoiceField(choices=["refunded", "pending", "none"])


class CancelledBookingOutputSerializer(BookingOutputSerializer):
    # The refund is the view's to work out (portal.flows.refund_of): given in the context.
    refund = serializers.SerializerMethodField()

    @extend_schema_field(RefundOutputSerializer)
    def get_refund(self, booking: Booking) -> dict[str, Any]:
        return RefundOutputSerializer(self.context["refund"]).data
