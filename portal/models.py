"""The edge's own records: idempotency keys, the worker's heartbeat, throttle counts."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from bookings.models import Booking


class IdempotencyState(models.TextChoices):
    IN_FLIGHT = "in_flight", "In flight"
    DONE = "done", "Done"


ONE_ANSWER_PER_IDEMPOTENCY_KEY = "idempotency_key_once_per_user"


class IdempotencyKey(models.Model):
    """An API client's `Idempotency-Key`: who owns it, for which request, and its answer.

    The row is inserted before the work starts: the unique constraint, not a prior
    read, decides which of two simultaneous duplicates does the work.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="idempotency_keys"
    )
    key = models.CharField(max_length=255)
    # sha256 of the request's validated body: the same key with another body is refused.
    fingerprint = models.CharField(max_length=64)
    state = models.CharField(
        max_length=10, choices=IdempotencyState.choices, default=IdempotencyState.IN_FLIGHT
    )
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    booking = models.ForeignKey(
        Booking, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # When its current owner took it: an in-flight claim older than the timeout was
    # abandoned (its process died) and a retry may take it over.
    claimed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        # Created by the bookings app before the edge had an app of its own.
        db_table = "bookings_idempotencykey"
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name=ONE_ANSWER_PER_IDEMPOTENCY_KEY),
            models.CheckConstraint(
                condition=Q(state__in=IdempotencyState.values), name="idempotency_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(state="in_flight")
                | Q(response_status__isnull=False, response_body__isnull=False),
                name="idempotency_done_has_answer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.key} ({self.state})"


class WorkerHeartbeat(models.Model):
    """One row per name, touched by the worker's every-minute task: /healthz reads it."""

    name = models.CharField(max_length=50, primary_key=True)
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at:%Y-%m-%d %H:%M:%S}"


class ThrottleWindow(models.Model):
    """Requests one client made in one fixed window of one throttle (portal/throttles.py):
    counted by one upsert, so every app process shares the count and none is lost."""

    key = models.CharField(max_length=200, primary_key=True)  # scope, client, window number
    hits = models.PositiveIntegerField()
    expires_at = models.DateTimeField(db_index=True)  # purged daily after this

    def __str__(self) -> str:
        return f"{self.key}: {self.hits}"
