"""The outbox: every message to a patient is a row first, sent later by the worker."""

from django.db import models
from django.db.models import Q

from bookings.models import Booking


class Kind(models.TextChoices):
    CONFIRMATION = "confirmation", "Confirmation"
    REMINDER_24H = "reminder_24h", "Reminder 24 h before"
    REMINDER_2H = "reminder_2h", "Reminder 2 h before"
    CANCELLATION = "cancellation", "Cancellation notice"
    RESCHEDULED = "rescheduled", "Appointment moved"
    # A refund made after the cancellation notice went (the gateway answered late): its note.
    REFUND = "refund", "Refund made"
    PAYMENT_DUE = "payment_due", "Finish your payment"


class Channel(models.TextChoices):
    EMAIL = "email", "E-mail"
    SMS = "sms", "SMS"


class Status(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"  # claimed by a worker, provider call under way
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"  # gave up: staff decide (resend from the admin)
    SUPERSEDED = "superseded", "Superseded"  # no longer wanted (cancelled, moved, no address)


ONE_NOTIFICATION_PER_BOOKING_KIND_CHANNEL = "notification_once_per_booking_kind_channel"


class Notification(models.Model):
    # Indexed by the unique (booking, kind, channel, occurrence): no index of its own.
    booking = models.ForeignKey(
        Booking, on_delete=models.PROTECT, related_name="notifications", db_index=False
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    due_at = models.DateTimeField()
    # Which appointment time the row is for: 0 as booked, n after the n-th reschedule
    # (the booking's `reschedules`). Each move writes its own reminders; older ones
    # are superseded, and the sender refuses a reminder of an older time.
    occurrence = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    provider_message_id = models.CharField(max_length=255, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)  # when it was marked "sending"
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_at"]
        permissions = [("resend_notification", "Can resend a failed notification")]
        indexes = [models.Index(fields=["status", "due_at"], name="notification_due")]
        constraints = [
            # The receiver, the sweep and a replay all insert the same rows: one wins.
            models.UniqueConstraint(
                fields=["booking", "kind", "channel", "occurrence"],
                name=ONE_NOTIFICATION_PER_BOOKING_KIND_CHANNEL,
            ),
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="notification_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status=Status.SENT) | Q(sent_at__isnull=False),
                name="notification_sent_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.get_channel_display()} · {self.status}"


class SenderLease(models.Model):
    """Who is watching the outbox now (sender.watch): one watch at a time on all hosts,
    taken by a conditional UPDATE, released at its end, expiring if its worker died."""

    name = models.CharField(max_length=40, primary_key=True)
    held_until = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} until {self.held_until:%H:%M:%S}"
