"""The last step: a confirmation code, the booking confirmed, an e-mail to the patient."""

import logging
import secrets
from uuid import UUID

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from bookings import events
from bookings.models import AuditLog, Booking, BookingStatus

logger = logging.getLogger("saga")

# No 0/O, 1/I/L: a code read out over the phone at reception must not be misheard.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8


def generate_confirmation_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def confirm_booking(*, correlation_id: UUID) -> None:
    for _attempt in range(5):
        try:
            _confirm(correlation_id, code=generate_confirmation_code())
            return
        except IntegrityError as error:
            if "confirmation_code" not in str(error):
                raise
            continue  # two bookings drew the same code: draw again
    raise RuntimeError("could not draw a unique confirmation code")


def _confirm(correlation_id: UUID, *, code: str) -> None:
    with events.saga_step("confirmations", correlation_id):
        booking = Booking.objects.only("pk").get(correlation_id=correlation_id)
        # One conditional UPDATE on the current state (DESIGN.md, terminal states are
        # exclusive): a compensation marks the booking `compensating` by the mirror
        # UPDATE, so whichever of the two commits second changes no row.
        confirmable = Booking.objects.filter(
            pk=booking.pk, status=BookingStatus.PENDING, compensating=False
        )
        if not confirmable.update(
            status=BookingStatus.CONFIRMED, confirmation_code=code, updated_at=timezone.now()
        ):
            return  # failed, or being compensated: it must not be confirmed now
        AuditLog.record(
            actor="system:confirmations",
            action="booking.confirmed",
            obj=booking,
            correlation_id=correlation_id,
            before={"status": BookingStatus.PENDING},
            after={"status": BookingStatus.CONFIRMED, "confirmation_code": code},
        )
        events.emit(events.BookingConfirmed, correlation_id=correlation_id, confirmation_code=code)
        booking_id = booking.pk

        # After commit, and robust: a mail server that is down must not undo a paid
        # booking. A named function, not a functools.partial: Django logs a failing
        # robust callback by its __qualname__, which a partial lacks (the logging
        # itself would then raise and the failure be lost).
        def send_confirmation_email_after_commit() -> None:
            send_confirmation_email(booking_id=booking_id)

        transaction.on_commit(send_confirmation_email_after_commit, robust=True)


def send_confirmation_email(*, booking_id: UUID) -> None:
    booking = Booking.objects.select_related("user").get(pk=booking_id)
    if not booking.user.email:
        return  # nobody to write to: the items are not even loaded
    context = {"booking": booking, "items": list(booking.items.order_by("id"))}
    try:
        send_mail(
            subject=f"Booking confirmed: {booking.confirmation_code}",
            message=render_to_string("confirmations/email.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[booking.user.email],
        )
    except Exception:
        logger.exception("confirmation e-mail failed correlation_id=%s", booking.correlation_id)
