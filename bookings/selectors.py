"""Reads of the kernel's rows that several apps need."""

import re
from datetime import date
from uuid import UUID

import phonenumbers
from django.conf import settings
from django.db.models import F, Q, QuerySet

from bookings.models import Booking, BookingStatus, MedicalService, PatientProfile, SagaEvent


def active_services(ids: list[int]) -> dict[int, MedicalService]:
    """The active services among `ids`, by id (an inactive or unknown id is missing)."""
    return {s.pk: s for s in MedicalService.objects.filter(pk__in=ids, active=True)}


def patient_language(user_id: int) -> str:
    """The language of a patient's e-mails, SMS and calendar file: their profile's, else
    the site's (a staff account without a profile). One statement."""
    language = (
        PatientProfile.objects.filter(user_id=user_id).values_list("language", flat=True).first()
    )
    return language or settings.LANGUAGE_CODE


def saga_events(correlation_id: UUID) -> QuerySet[SagaEvent]:
    """A saga's events in the order they happened."""
    return SagaEvent.objects.filter(correlation_id=correlation_id).order_by("sequence")


def walk_ins_on(day: date, *, query: str = "") -> QuerySet[Booking]:
    """The front desk: the day's walk-in visits (no appointment) that were booked for real
    (confirmed, checked in or no-show), by when they were booked; `query` narrows them by
    phone, patient name or confirmation code (as the search finds bookings)."""
    walk_ins = Booking.objects.filter(
        visit_date=day,
        appointment_start__isnull=True,
        status__in=(BookingStatus.CONFIRMED, BookingStatus.COMPLETED, BookingStatus.NO_SHOW),
    )
    query = query.strip()
    if query:
        walk_ins = walk_ins.filter(_patient_match(query) | Q(confirmation_code__iexact=query))
    return (
        walk_ins.select_related("user__patient_profile")
        .prefetch_related("items")
        .order_by("created_at")
    )


def bookings_by_patient(query: str, *, from_day: date, limit: int = 50) -> QuerySet[Booking]:
    """The front desk's search: bookings visiting on `from_day` or later whose account's
    phone (E.164) or whose patient (or account holder) name matches `query`.

    A query that reads as an Indian mobile number matches the phone exactly (typed as
    "98123 45678", "+91 98123-45678"…); a shorter run of digits matches part of it;
    anything else matches names, case-insensitively.
    """
    query = query.strip()
    if not query:
        return Booking.objects.none()
    return (
        Booking.objects.filter(_patient_match(query), visit_date__gte=from_day)
        .exclude(status=BookingStatus.FAILED)
        .select_related("user__patient_profile")
        .order_by("visit_date", F("appointment_start").asc(nulls_first=True), "created_at")[:limit]
    )


def _patient_match(query: str) -> Q:
    """Bookings whose account's phone or whose patient (or account holder) name matches."""
    digits = re.sub(r"[\s\-()]", "", query)
    match = Q(patient_name__icontains=query) | Q(user__patient_profile__full_name__icontains=query)
    if re.fullmatch(r"\+?\d{4,15}", digits):
        try:
            number = phonenumbers.parse(digits, "IN")
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        except phonenumbers.NumberParseException:
            e164 = None
        if e164 and phonenumbers.is_valid_number(number):
            match = Q(user__patient_profile__phone=e164)
        else:
            match = Q(user__patient_profile__phone__contains=digits.lstrip("+"))
    return match
