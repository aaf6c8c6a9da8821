"""Idempotency-Key on POST /api/booking: one answer per user and key, kept at least a day.

The in-flight row is inserted first and its unique constraint decides which of
several simultaneous duplicates does the work; the others are told 409 (retry) and,
once the first is done, get its stored answer. The booking itself also carries a
request key derived from the client's key (Booking's own unique constraint), a
second guard should a key be released after its booking was written.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from bookings.models import Booking
from portal.models import IdempotencyKey, IdempotencyState


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


class KeyReusedForAnotherRequest(Exception):
    """The same key came with a different body: a client bug, never replayed."""


class KeyStillInFlight(Exception):
    """The first request with this key is still being processed: retry later."""


def fingerprint_of(data: dict[str, Any]) -> str:
    """A stable hash of a request's validated body (key order and spacing do not matter)."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def booking_request_key(key: str) -> str:
    """The Booking.request_key for an API key: fixed length, apart from other clients' keys."""
    return hashlib.sha256(f"api:{key}".encode()).hexdigest()


def answer_once(
    *,
    user: AbstractBaseUser,
    key: str,
    fingerprint: str,
    produce: Callable[[], tuple[Answer, Booking]],
) -> Answer:
    """Run `produce` once per (user, key); later calls get its stored answer.

    Raises KeyReusedForAnotherRequest (another body) or KeyStillInFlight. When
    `produce` raises (bad input: nothing was booked), the key is released so the
    client may send a corrected request under the same key. A claim left in flight
    past IDEMPOTENCY_IN_FLIGHT_TIMEOUT_SECONDS (its process died) is taken over.
    """
    try:
        with transaction.atomic():
            claim = IdempotencyKey.objects.create(user=user, key=key, fingerprint=fingerprint)
    except IntegrityError:
        existing = _answer_or_abandoned_claim(user=user, key=key, fingerprint=fingerprint)
        if isinstance(existing, Answer):
            return existing
        claim = existing
    try:
        answer, booking = produce()
    except BaseException:
        IdempotencyKey.objects.filter(pk=claim.pk).delete()
        raise
    IdempotencyKey.objects.filter(pk=claim.pk).update(
        state=IdempotencyState.DONE,
        response_status=answer.status,
        response_body=answer.body,
        booking=booking,
    )
    return answer


def _answer_or_abandoned_claim(
    *, user: AbstractBaseUser, key: str, fingerprint: str
) -> Answer | IdempotencyKey:
    record = IdempotencyKey.objects.filter(user=user, key=key).first()
    if record is None:  # released or purged since our insert failed: the client retries
        raise KeyStillInFlight
    if record.fingerprint != fingerprint:
        raise KeyReusedForAnotherRequest
    if record.state == IdempotencyState.DONE:
        return Answer(status=record.response_status, body=record.response_body)
    now = timezone.now()
    timeout = timedelta(seconds=settings.IDEMPOTENCY_IN_FLIGHT_TIMEOUT_SECONDS)
    if record.claimed_at > now - timeout:
        raise KeyStillInFlight
    # Abandoned by a process that died mid-request. One retry takes it over (the
    # conditional UPDATE decides which); the booking's own request key then hands back
    # the booking that process may already have written, never a second one.
    taken = IdempotencyKey.objects.filter(
        pk=record.pk, state=IdempotencyState.IN_FLIGHT, claimed_at=record.claimed_at
    ).update(claimed_at=now)
    if not taken:
        raise KeyStillInFlight
    return record


def purge_expired_keys(*, now: datetime) -> int:
    """Delete keys older than IDEMPOTENCY_KEY_TTL_HOURS; returns how many went."""
    cutoff = now - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
