"""What a notification says (templates in the patient's language), and handing it over."""

from typing import Protocol, cast

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.utils import DNS_NAME
from django.template.loader import select_template
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.module_loading import import_string

from bookings import events
from bookings.calendar import visit_calendar
from bookings.models import Booking, SagaEvent
from bookings.refund_words import refund_in_words
from notifications import sms
from notifications.models import Channel, Kind, Notification

FALLBACK_LANGUAGE = "en"


def _render(name: str, language: str, context: dict) -> str:
    # A Hindi template may not exist yet: English stands in for it.
    names = [f"notifications/{language}/{name}", f"notifications/{FALLBACK_LANGUAGE}/{name}"]
    return select_template(names).render(context).strip()


def compose(notification: Notification, booking: Booking):
    """An EmailMultiAlternatives or an sms.Sms; None when the patient has no address for it.

    Written in the patient's language: its templates, and Django's month and day names."""
    profile = getattr(booking.user, "patient_profile", None)
    with translation.override(getattr(profile, "language", "") or FALLBACK_LANGUAGE):
        return _compose(notification, booking)


# The messages that tell the visit itself: with whom, and its .ics attached.
WITH_THE_VISIT = (Kind.CONFIRMATION, Kind.RESCHEDULED)
# The messages that link the booking's documents: the receipt, and the refund note.
WITH_DOCUMENTS = (Kind.CONFIRMATION, Kind.CANCELLATION, Kind.REFUND)
# ReceiptIssued's occurrence: 1 the payment's receipt, 2 the refund's note (billing's).
RECEIPT_OCCURRENCE, REFUND_NOTE_OCCURRENCE = 1, 2
DOCUMENT_LINKS = {RECEIPT_OCCURRENCE: "receipt_url", REFUND_NOTE_OCCURRENCE: "refund_note_url"}


def _compose(notification: Notification, booking: Booking):
    user = booking.user
    profile = getattr(user, "patient_profile", None)
    phone = getattr(profile, "phone", None)
    # Both channels' rows are written for every booking: no address, nothing to send.
    if not (phone if notification.channel == Channel.SMS else user.email):
        return None
    language = getattr(profile, "language", "") or FALLBACK_LANGUAGE
    start = timezone.localtime(booking.appointment_start) if booking.appointment_start else None
    kind = notification.kind
    context = {
        "booking": booking,
        "items": list(booking.items.order_by("id")),
        "name": (profile.full_name if profile else "") or user.get_full_name() or user.username,
        "start": start,
        "clinic_address": settings.CLINIC_ADDRESS,
        # The booking's page (the waiting page while a payment is due).
        "link": settings.SITE_URL.rstrip("/") + reverse("booking_detail", args=[booking.pk]),
        # Read only for the messages that name who the visit is with (and carry the .ics).
        "practitioner": practitioner_of(booking) if start and kind in WITH_THE_VISIT else None,
        "booking_url": site_url(reverse("booking_detail", args=[booking.pk])),
        **(document_links(booking) if kind in WITH_DOCUMENTS else {}),
        **({"refund_words": refund_of(booking)} if kind == Kind.CANCELLATION else {}),
    }
    if notification.channel == Channel.SMS:
        return sms.Sms(to=str(phone), body=_render(f"{kind}_sms.txt", language, context))
    message = EmailMultiAlternatives(
        subject=_render(f"{kind}_subject.txt", language, context),
        body=_render(f"{kind}.txt", language, context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
        headers={"Message-ID": message_id_of(notification, booking)},
    )
    message.attach_alternative(_render(f"{kind}.html", language, context), "text/html")
    if kind in WITH_THE_VISIT and start:
        message.attach(
            "appointment.ics",
            ics_for(booking, context["practitioner"], stamp=notification.created_at),
            "text/calendar",
        )
    return message


def site_url(path: str) -> str:
    """An absolute link for a message (the worker has no request to take the host from)."""
    return f"{settings.SITE_URL}{path}"


def document_links(booking: Booking) -> dict[str, str]:
    """Links to the booking's receipt and refund note, as far as billing has issued them:
    read from its ReceiptIssued events (the log is shared; billing's rows are its own).
    The page behind a link asks the patient to sign in and shows only their own."""
    issued = SagaEvent.objects.filter(
        correlation_id=booking.correlation_id, event_type=events.ReceiptIssued.name
    )
    return {
        DOCUMENT_LINKS[row.occurrence]: site_url(
            reverse(
                "booking_document",
                args=[booking.pk, events.payload_of(row, events.ReceiptIssued).number],
            )
        )
        for row in issued
        if row.occurrence in DOCUMENT_LINKS
    }


def refund_of(booking: Booking) -> str:
    """The cancellation's refund in words (the patient's page says the same)."""
    payment = getattr(booking, "payment", None)
    refund = payment.refunds.first() if payment is not None else None
    return refund_in_words(
        amount=refund.amount if refund else None,
        method=payment.method if payment else "",
        settled=refund is not None and refund.status == "refunded",
    )


def message_id_of(notification: Notification, booking: Booking) -> str:
    """The same Message-ID on every try of one row: the message's reference at a
    provider that finds or drops messages by it (unique across databases: the saga's id)."""
    return f"<notification-{notification.pk}.{booking.correlation_id}@{DNS_NAME}>"


def practitioner_of(booking: Booking):
    """Who the visit is with now: the practitioner of the place the booking holds (after
    a move, the new one); None for a walk-in or a place given back."""
    held = (
        booking.slot_bookings.filter(released_at__isnull=True)
        .select_related("slot__practitioner")
        .first()
    )
    return held.slot.practitioner if held else None


def ics_for(booking: Booking, practitioner, *, stamp=None) -> str:
    """The visit's .ics, the same event as the booking page's (bookings.calendar);
    `practitioner` as practitioner_of found it for the message (one read, not two);
    `stamp` the message's own time (every try of it the same bytes)."""
    return visit_calendar(
        booking,
        practitioner=practitioner.name if practitioner else "",
        specialty=practitioner.specialty if practitioner else "",
        stamp=stamp,
    ).decode()


def idempotency_key_of(notification: Notification) -> str:
    return f"notification-{notification.pk}"


def deliver(notification: Notification, message) -> str:
    """Hand the message to its provider; return the provider's id for it."""
    key = idempotency_key_of(notification)
    if notification.channel == Channel.SMS:
        return sms.get_backend().send(message, idempotency_key=key)
    message.idempotency_key = key  # for a backend that sends one (notifications.email)
    message.send()
    status = getattr(message, "anymail_status", None)  # set by django-anymail's backends
    if status is not None and status.message_id:
        return str(status.message_id)
    return message.extra_headers["Message-ID"]


def backend_takes_idempotency_key(channel: str) -> bool:
    if channel == Channel.SMS:
        return sms.get_backend().takes_idempotency_key
    backend = import_string(settings.EMAIL_BACKEND)
    return getattr(backend, "takes_idempotency_key", False) or (
        settings.EMAIL_BACKEND_TAKES_IDEMPOTENCY_KEY
    )


def backend_looks_up_sends(channel: str) -> bool:
    """Whether the channel's provider can say if it got a message (a status API)."""
    if channel == Channel.SMS:
        return sms.get_backend().looks_up_sends
    return getattr(import_string(settings.EMAIL_BACKEND), "looks_up_sends", False)


class _LooksUpSends(Protocol):
    """An e-mail backend with a status API (backend_looks_up_sends)."""

    def look_up(self, *, message_id: str) -> str | None: ...


def look_up(notification: Notification, booking: Booking) -> str | None:
    """Ask the provider about a row whose send was interrupted: its id for the message if
    it got it, None if it never did. Raises when it cannot tell (down, an error)."""
    if notification.channel == Channel.SMS:
        return sms.get_backend().look_up(idempotency_key=idempotency_key_of(notification))
    backend = cast(_LooksUpSends, get_connection())  # only asked when it looks_up_sends
    return backend.look_up(message_id=message_id_of(notification, booking))
