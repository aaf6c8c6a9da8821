"""Starting a booking, and ending one that failed."""

from collections.abc import Callable, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Lower
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from bookings import events
from bookings.log_context import saga_log_context
from bookings.models import (
    ONE_BOOKING_PER_REQUEST_KEY,
    AuditLog,
    Booking,
    BookingItem,
    BookingStatus,
    Gender,
    Language,
    MedicalService,
    PatientProfile,
)
from bookings.selectors import active_services
from bookings.validators import (
    validate_date_of_birth,
    validate_indian_mobile,
    validate_username,
)

MAX_SERVICES_PER_BOOKING = 10


def clinic_today() -> date:
    """Today's date in the clinic's zone (Asia/Kolkata), never UTC's."""
    return timezone.localdate()


def change_setting(
    *,
    row: QuerySet,
    field: str,
    value: Any,
    actor: str,
    action: str,
    context: dict[str, Any] | None = None,
    check: Callable[[Any], None] | None = None,
) -> Any:
    """How staff change one setting: lock its row, check, compare, save, audit.

    `row` selects exactly one row; `check(locked_row)` may refuse the change with a
    ValidationError while the row is locked; `context` is written into both sides
    of the audit entry (e.g. which day). An unchanged value writes nothing.
    """
    with transaction.atomic():
        locked = row.select_for_update().get()
        if check is not None:
            check(locked)
        before = getattr(locked, field)
        if before == value:
            return locked
        setattr(locked, field, value)
        locked.save(update_fields=[field, "updated_at"])
        AuditLog.record(
            actor=actor,
            action=action,
            obj=locked,
            before={**(context or {}), field: _as_json(before)},
            after={**(context or {}), field: _as_json(value)},
        )
    return locked


def _as_json(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


# The unique index on lower(auth_user.email), blanks left out (migration 0018).
EMAIL_UNIQUE_INDEX = "auth_user_email_ci_unique"


def email_taken_message() -> str:
    return _("An account with this e-mail address already exists; log in or reset its password.")


def email_taken(email: str, *, except_user_id: int | None = None) -> bool:
    """Another account has this e-mail address, in any case (the index's own expression,
    so the lookup uses it)."""
    if not email:
        return False
    others = (
        get_user_model().objects.alias(email_ci=Lower("email")).filter(email_ci=Lower(Value(email)))
    )
    if except_user_id is not None:
        others = others.exclude(pk=except_user_id)
    return others.exists()


def _refused_as_taken(error: IntegrityError) -> ValidationError:
    """A unique violation raced past the checks: which field it was, for a clear 400."""
    if EMAIL_UNIQUE_INDEX in str(error):
        return ValidationError({"email": email_taken_message()})
    return ValidationError({"username": "This username is taken; choose another."})


def register_patient(
    *,
    username: str,
    password: str,
    email: str,
    full_name: str,
    gender: str,
    date_of_birth: date,
    phone: str = "",
    language: str = Language.ENGLISH,
) -> User:
    """Create a patient's account and profile. Django's password validators apply."""
    try:
        validate_username(username)
    except ValidationError as error:
        raise ValidationError({"username": error.messages}) from None
    user_model = get_user_model()
    if user_model.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": "This username is taken; choose another."})
    if email_taken(email):
        raise ValidationError({"email": email_taken_message()})
    candidate = user_model(username=username, email=email)
    password_validation.validate_password(password, user=candidate)
    first, _, last = full_name.strip().partition(" ")
    try:
        with transaction.atomic():
            user = user_model.objects.create_user(
                username=username,
                email=email,
                password=password,
                first_name=first[:150],
                last_name=last[:150],
            )
            PatientProfile.objects.create(
                user=user,
                full_name=full_name.strip(),
                gender=gender,
                date_of_birth=date_of_birth,
                phone=phone or "",
                language=language or Language.ENGLISH,
            )
    except IntegrityError as error:  # the same username or e-mail at the same moment
        raise _refused_as_taken(error) from None
    return user


def desk_patient_account(
    *, phone: str, full_name: str, gender: str, date_of_birth: date
) -> tuple[User, bool]:
    """The account a front-desk booking belongs to: the patient's, found by phone (E.164).

    A registered patient with this phone gets the booking in their own list (and its
    SMS); otherwise an account without a password is made for the phone (username
    `desk-<digits>`, unique, so two desks booking the same new patient at once make it
    once). Several accounts with one phone: the oldest. Returns (user, created).
    """
    validate_indian_mobile(phone)
    number = str(phone)
    profile = (
        PatientProfile.objects.filter(phone=number).select_related("user").order_by("pk").first()
    )
    if profile is not None:
        return profile.user, False
    user_model = get_user_model()
    username = "desk-" + number.lstrip("+")
    first, _, last = full_name.strip().partition(" ")
    try:
        with transaction.atomic():
            user = user_model.objects.create_user(
                username=username, password=None, first_name=first[:150], last_name=last[:150]
            )
            PatientProfile.objects.create(
                user=user,
                full_name=full_name.strip()[:120],
                gender=gender,
                date_of_birth=date_of_birth,
                phone=number,
            )
    except IntegrityError:  # another desk made it at the same moment
        return user_model.objects.get(username=username), False
    return user, True


def initiate_booking(
    *,
    user: User,
    patient_name: str,
    gender: str,
    date_of_birth: date,
    service_ids: Sequence[int],
    payment_token: str,
    request_key: str | None = None,
    expected_total: Decimal | None = None,
    active: dict[int, MedicalService] | None = None,
    visit_date: date | None = None,
) -> Booking:
    """Create the booking with a snapshot of its services and start the saga.

    `visit_date` is a walk-in's clinic day when not today (the caller checked the
    clinic is open then); an appointment's is set by scheduling when it takes the slot.

    `expected_total` is the amount the patient was shown, kept with the booking:
    payments charges nothing if the final price turns out higher. `active` is the
    caller's `selectors.active_services(service_ids)`, when it has them already.

    The saga runs to its end before this returns (its steps follow each other on
    commit), so the booking handed back is confirmed or failed; reload it to see.
    With a `request_key`, the same user sending it again gets the first booking back
    (possibly still pending if the first request is in flight), never a second one.
    """
    ids = list(dict.fromkeys(service_ids))
    if len(ids) != len(service_ids):
        raise ValidationError({"service_ids": "Each service may be chosen only once."})
    if not 1 <= len(ids) <= MAX_SERVICES_PER_BOOKING:
        raise ValidationError(
            {"service_ids": f"Choose between 1 and {MAX_SERVICES_PER_BOOKING} services."}
        )
    if gender not in Gender.values:
        raise ValidationError({"gender": f"Must be one of: {', '.join(Gender.values)}."})
    patient_name = patient_name.strip()
    if not 1 <= len(patient_name) <= 120:
        raise ValidationError({"patient_name": "Give the patient's name (1–120 characters)."})
    if expected_total is not None and expected_total < 0:
        raise ValidationError({"expected_total": "The expected total cannot be negative."})
    try:
        validate_date_of_birth(date_of_birth, today=clinic_today())
    except ValidationError as error:
        raise ValidationError({"date_of_birth": error.messages}) from None
    services = active_services(ids) if active is None else active
    missing = [i for i in ids if i not in services]
    if missing:
        raise ValidationError(
            {"service_ids": f"No active service with id {', '.join(map(str, missing))}."}
        )

    try:
        return _create_and_start(
            user=user,
            patient_name=patient_name,
            gender=gender,
            date_of_birth=date_of_birth,
            services=[services[i] for i in ids],
            payment_token=payment_token,
            request_key=request_key,
            expected_total=expected_total,
            visit_date=visit_date,
        )
    except IntegrityError as error:
        duplicate = ONE_BOOKING_PER_REQUEST_KEY in str(error) or (
            "bookings_booking.request_key" in str(error)  # SQLite names columns instead
        )
        if request_key is None or not duplicate:
            raise
        return Booking.objects.get(user=user, request_key=request_key)


def _create_and_start(
    *,
    user: User,
    patient_name: str,
    gender: str,
    date_of_birth: date,
    services: list[MedicalService],
    payment_token: str,
    request_key: str | None,
    expected_total: Decimal | None,
    visit_date: date | None,
) -> Booking:
    # The saga runs when this transaction commits, inside the log context: every
    # step's log line then names the booking (by id only).
    today = clinic_today()
    with saga_log_context(step="bookings.request") as log_fields, transaction.atomic():
        booking = Booking.objects.create(
            user=user,
            patient_name=patient_name,
            gender=gender,
            date_of_birth=date_of_birth,
            payment_token=payment_token,
            request_key=request_key,
            expected_total=expected_total,
            clinic_day=today,
            visit_date=visit_date or today,
        )
        log_fields.update(booking_id=str(booking.pk), correlation_id=str(booking.correlation_id))
        # The name in both languages as it is now (a Hindi page shows the Hindi one, as
        # booked); written with English active, as EnglishInOriginalColumns.save would.
        with translation.override(settings.MODELTRANSLATION_DEFAULT_LANGUAGE):
            items = BookingItem.objects.bulk_create(
                [
                    BookingItem(
                        booking=booking,
                        service=s,
                        name_en=s.name_en,
                        name_hi=s.name_hi,
                        price=s.price,
                        sac_code=s.sac_code,
                        gst_rate=s.gst_rate,
                    )
                    for s in services
                ]
            )
        # The booking handed back knows its items: its answer needs no read of them.
        # (Django's prefetch cache, on every model instance; the stubs leave it out.)
        booking._prefetched_objects_cache = {"items": items}  # type: ignore[attr-defined]
        # No AuditLog row: BookingRequested is the record of the request (DESIGN.md, Logs).
        events.emit(
            events.BookingRequested(
                booking_id=booking.pk,
                clinic_day=today,
                gender=gender,
                date_of_birth=date_of_birth,
                prices=tuple(s.price for s in services),
            ),
            correlation_id=booking.correlation_id,
        )
    return booking


def fail_booking(*, correlation_id: UUID, reason: str) -> None:
    """Mark a still-pending booking failed (bookings alone does this) and say so."""
    with events.saga_step("bookings.fail", correlation_id):
        # Only a booking whose compensation started (see events.mark_compensating): a
        # confirmed one never is, so it can never be failed.
        # (An online payment that expired is compensated while still awaiting_payment.)
        changed = Booking.objects.filter(
            correlation_id=correlation_id,
            status__in=(BookingStatus.PENDING, BookingStatus.AWAITING_PAYMENT),
            compensating=True,
        ).update(
            status=BookingStatus.FAILED, failure_reason=reason[:200], updated_at=timezone.now()
        )
        if not changed:
            return  # already confirmed or failed: nothing of ours to undo
        events.emit(events.BookingFailed(reason=reason), correlation_id=correlation_id)


def record_visit(
    *,
    booking_id: UUID,
    outcome: str,
    actor: str,
    today: date,
    now: datetime,
    walk_ins_over_by: date,
) -> bool:
    """The front desk: a confirmed booking's patient came (`completed`) or did not
    (`no_show`). One conditional UPDATE on the current status; audited. False when the
    booking is not confirmed (already marked, failed) or its visit is not due.

    A no-show only once the visit's time has begun: an appointment's start, or for a
    walk-in (who may come any time the clinic is open) the end of its day's opening
    hours: `walk_ins_over_by` is the last clinic day whose walk-in hours are over
    (scheduling knows the hours; the caller asks it)."""
    if outcome not in (BookingStatus.COMPLETED, BookingStatus.NO_SHOW):
        raise ValueError(outcome)
    if outcome == BookingStatus.COMPLETED:
        due = Q(visit_date=today)
    else:
        due = Q(appointment_start__lte=now) | Q(
            appointment_start__isnull=True, visit_date__lte=walk_ins_over_by
        )
    with transaction.atomic():
        changed = Booking.objects.filter(due, pk=booking_id, status=BookingStatus.CONFIRMED).update(
            status=outcome, updated_at=timezone.now()
        )
        if not changed:
            return False
        booking = Booking.objects.only("pk", "correlation_id").get(pk=booking_id)
        AuditLog.record(
            actor=actor,
            action="booking.checked_in"
            if outcome == BookingStatus.COMPLETED
            else "booking.no_show",
            obj=booking,
            correlation_id=booking.correlation_id,
            before={"status": BookingStatus.CONFIRMED},
            after={"status": outcome},
        )
    return True


def finish_visit(*, booking_id: UUID, actor: str, today: date, now: datetime) -> bool:
    """The practitioner saw the patient: today's confirmed or checked-in booking is
    completed (a patient who went straight in arrived too) and its visit finished, once.
    One conditional UPDATE; audited. False when it is not today's, not confirmed or
    checked in, or already finished."""
    with transaction.atomic():
        changed = Booking.objects.filter(
            pk=booking_id,
            visit_date=today,
            status__in=(BookingStatus.CONFIRMED, BookingStatus.COMPLETED),
            visit_finished_at__isnull=True,
        ).update(
            status=BookingStatus.COMPLETED,
            visit_finished_at=now,
            visit_finished_by=actor,
            updated_at=timezone.now(),
        )
        if not changed:
            return False
        booking = Booking.objects.only("pk", "correlation_id").get(pk=booking_id)
        AuditLog.record(
            actor=actor,
            action="booking.visit_finished",
            obj=booking,
            correlation_id=booking.correlation_id,
            after={"status": BookingStatus.COMPLETED, "visit_finished_at": now.isoformat()},
        )
    return True


def undo_no_show(*, booking_id: UUID, actor: str, today: date) -> bool:
    """Take back a no-show marked today (clinic time): the booking is confirmed again.
    A conditional UPDATE on the status and on when it changed; audited. False when the
    booking is not a no-show, or was marked on an earlier day (that stays, as the
    record of the day)."""
    marked_since = timezone.make_aware(datetime.combine(today, time.min))
    with transaction.atomic():
        changed = Booking.objects.filter(
            pk=booking_id, status=BookingStatus.NO_SHOW, updated_at__gte=marked_since
        ).update(status=BookingStatus.CONFIRMED, updated_at=timezone.now())
        if not changed:
            return False
        booking = Booking.objects.only("pk", "correlation_id").get(pk=booking_id)
        AuditLog.record(
            actor=actor,
            action="booking.no_show_undone",
            obj=booking,
            correlation_id=booking.correlation_id,
            before={"status": BookingStatus.NO_SHOW},
            after={"status": BookingStatus.CONFIRMED},
        )
    return True


class NotCancellable(Exception):
    """The booking is not (or no longer) one that can be cancelled."""


def request_cancellation(
    *,
    booking: Booking,
    actor: str,
    reason: str,
    by_staff: bool,
    refund_amount: Decimal,
    fee: Decimal,
    request_key: str = "",
) -> None:
    """Start cancelling a confirmed booking, with the refund its policy gives.

    `request_key` (optional) is kept with the cancellation, set by the same UPDATE: the
    request that made it can be recognised afterwards (an API retry after a crash).

    One conditional UPDATE decides: of any number of cancellations (or a cancellation
    and another change) racing for one booking, only the first wins; the others get
    NotCancellable and change nothing.
    """
    now = timezone.now()
    with events.saga_step("bookings.cancel_request", booking.correlation_id):
        won = Booking.objects.filter(
            pk=booking.pk, status=BookingStatus.CONFIRMED, cancellation_requested_at__isnull=True
        ).update(
            cancellation_requested_at=now, cancellation_request_key=request_key, updated_at=now
        )
        if not won:
            raise NotCancellable(_("This booking is not confirmed, or is already being cancelled."))
        after = {
            "reason": reason,
            "by_staff": by_staff,
            "refund_amount": str(refund_amount),
            "fee": str(fee),
        }
        AuditLog.record(
            actor=actor,
            action="booking.cancellation_requested",
            obj=booking,
            correlation_id=booking.correlation_id,
            before={"status": BookingStatus.CONFIRMED},
            after=after,
        )
        events.emit(
            events.CancellationRequested(
                actor=actor,
                reason=reason,
                by_staff=by_staff,
                refund_amount=refund_amount,
                fee=fee,
                requested_on=clinic_today(),
            ),
            correlation_id=booking.correlation_id,
        )


def mark_cancelled(*, correlation_id: UUID, reason: str, refund_amount: Decimal) -> None:
    """The cancellation's last step (bookings alone marks it): confirmed → cancelled."""
    with events.saga_step("bookings.cancel", correlation_id):
        if not Booking.objects.filter(
            correlation_id=correlation_id,
            status=BookingStatus.CONFIRMED,
            cancellation_requested_at__isnull=False,
        ).update(status=BookingStatus.CANCELLED, updated_at=timezone.now()):
            return
        events.emit(
            events.BookingCancelled(reason=reason, refund_amount=refund_amount),
            correlation_id=correlation_id,
        )


def update_profile(*, user: User, changes: dict[str, Any]) -> PatientProfile:
    """PATCH /api/me: any of full_name, email, phone, language (validated by the caller)."""
    if "email" in changes and email_taken(changes["email"], except_user_id=user.pk):
        raise ValidationError({"email": email_taken_message()})
    try:
        with transaction.atomic():
            profile = _update_profile_rows(user=user, changes=changes)
    except IntegrityError as error:  # the address taken by a sign-up at the same moment
        raise _refused_as_taken(error) from None
    return profile


def _update_profile_rows(*, user: User, changes: dict[str, Any]) -> PatientProfile:
    profile = PatientProfile.objects.select_for_update().get(user=user)
    if "email" in changes:
        user.email = changes["email"]
        user.save(update_fields=["email"])
    for field in ("full_name", "phone", "language"):
        if field in changes:
            setattr(profile, field, changes[field] or "")
    profile.save()
    return profile
