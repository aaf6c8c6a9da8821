"""Idempotency-Key on the API's POSTs: one answer per user and key, kept at least a day.

The in-flight row is inserted first and its unique constraint decides which of
several simultaneous duplicates does the work; the others are told 409 (retry) and,
once the first is done, get its stored answer, never one rebuilt from today's data.
The booking itself carries a request key derived from the client's key (Booking's own
unique constraint): it links the key to its booking, so a retry after a request that
died (a 503 from a lost connection) gets that booking's answer once its saga ended.

Whether the request that claimed a key is still alive is the database's to say: on
PostgreSQL a request holds a session-level advisory lock on its key from before its
claim until its answer is kept. A process that dies (SIGKILL, gunicorn's timeout) or
loses its connection loses its session, and PostgreSQL drops the lock with it, so a
retry that can take the lock knows at once that the claim was abandoned. The in-flight
timeout is only the fallback: where there are no such locks (SQLite under `make run`),
or for a session that outlives its process (a half-open connection the server has not
noticed yet).
"""

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import DatabaseError, Error, IntegrityError, connection, transaction
from django.utils import timezone

from bookings.models import Booking, BookingStatus
from portal.models import IdempotencyKey, IdempotencyState

logger = logging.getLogger("portal.api.idempotency")


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


class KeyReusedForAnotherRequest(Exception):
    """The same key came with a different body: a client bug, never replayed."""


class KeyStillInFlight(Exception):
    """The first request with this key is still being processed: retry later."""


def fingerprint_of(body: Any) -> str:
    """A stable hash of a request's body as sent (key order and spacing do not matter).

    The raw body, not the validated one: a replay is recognised before the body is
    checked against today's data (a service withdrawn since must not turn the stored
    201 into a 400), and validation may fill in defaults that change over time.
    """
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def booking_request_key(key: str) -> str:
    """The Booking.request_key for an API key: fixed length, apart from other clients' keys.

    This is also the key's link to its booking: a retry finds the booking a request
    made under the same key even if that request died before it could answer.
    """
    return hashlib.sha256(f"api:{key}".encode()).hexdigest()


def cancellation_request_key(user: User, key: str) -> str:
    """Booking.cancellation_request_key for an API key: the caller's own (staff and the
    patient may both act on one booking), fixed length."""
    return hashlib.sha256(f"api-cancel:{user.pk}:{key}".encode()).hexdigest()


def _saga_running(booking: Booking) -> bool:
    return booking.status == BookingStatus.PENDING


def answer_once(
    *,
    user: User,
    key: str,
    fingerprint: str,
    produce: Callable[[], tuple[Answer, Booking]],
    booking_made: Callable[[], Booking | None] | None = None,
    answer_for: Callable[[Booking], Answer] | None = None,
    still_running: Callable[[Booking], bool] = _saga_running,
) -> Answer:
    """Run `produce` once per (user, key); later calls get its stored answer.

    `produce` validates the body and books; it runs only when no answer is stored, so a
    replay never depends on today's data. `booking_made()` finds the booking made under
    this key (None if none), `answer_for(booking)` builds the answer from it; without
    them (a request that makes no booking) a key in flight waits until its request is gone.

    Raises KeyReusedForAnotherRequest (another body) or KeyStillInFlight. When
    `produce` raises before a booking exists (bad input: nothing was booked), the key is
    released so the client may send a corrected request under the same key. A request
    that died after its booking was written leaves the key in flight: a retry gets that
    booking's answer as soon as its saga has ended (confirmed or failed), and 409 while it
    is still running (`still_running(booking)`; a cancellation: still confirmed). A
    claim with no booking whose request is gone (its session lock is free; without
    such locks, in flight past IDEMPOTENCY_IN_FLIGHT_TIMEOUT_SECONDS) is taken over.
    """
    lock = claim_lock_id(user=user, key=key) if connection.vendor == "postgresql" else None
    held = lock is not None and _try_lock(lock)
    try:
        if lock is not None and not held:
            # A live session holds the key (or one its process outlived: the timeout
            # decides). Never insert the claim here: its holder may be about to.
            claim = None
        else:
            claim = _claim(user=user, key=key, fingerprint=fingerprint)
        if claim is None:
            existing = _answer_or_abandoned_claim(
                user=user,
                key=key,
                fingerprint=fingerprint,
                booking_made=booking_made,
                answer_for=answer_for,
                still_running=still_running,
                holder_gone=held,
            )
            if isinstance(existing, Answer):
                return existing
            claim = existing
        try:
            answer, booking = produce()
        except BaseException:
            _release_unless_booked(claim, booking_made)
            raise
        return _store(claim, answer, booking)
    finally:
        if lock is not None and held:
            _unlock(lock)


def _claim(*, user: User, key: str, fingerprint: str) -> IdempotencyKey | None:
    """The new in-flight row, or None when the key has one already."""
    try:
        with transaction.atomic():
            return IdempotencyKey.objects.create(user=user, key=key, fingerprint=fingerprint)
    except IntegrityError:
        return None


def claim_lock_id(*, user: User, key: str) -> int:
    """The PostgreSQL advisory lock id of (user, key): a signed 64-bit int."""
    digest = hashlib.sha256(f"idempotency:{user.pk}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _try_lock(lock: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [lock])
        return cursor.fetchone()[0]


def _unlock(lock: int) -> None:
    """Give the lock back: a persistent connection outlives its request. A connection
    lost meanwhile took the lock with its session, so there is nothing to give back;
    one that refused the unlock is closed, so its session cannot keep the key."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [lock])
    except Error:
        logger.warning("idempotency lock not given back: closing the connection", exc_info=True)
        try:
            connection.close()
        except Error:
            pass


def _answer_or_abandoned_claim(
    *,
    user: User,
    key: str,
    fingerprint: str,
    booking_made: Callable[[], Booking | None] | None,
    answer_for: Callable[[Booking], Answer] | None,
    still_running: Callable[[Booking], bool],
    holder_gone: bool,
) -> Answer | IdempotencyKey:
    """The stored answer, the answer of the booking the claim made, or the claim taken
    over when its request is gone (`holder_gone`: we hold its session lock; else past
    the timeout); raises KeyStillInFlight otherwise."""
    record = IdempotencyKey.objects.filter(user=user, key=key).first()
    if record is None:  # released or purged meanwhile, or not yet written: the client retries
        raise KeyStillInFlight
    if record.fingerprint != fingerprint:
        raise KeyReusedForAnotherRequest
    if record.state == IdempotencyState.DONE:
        return _stored(record)
    booking = booking_made() if booking_made is not None else None
    if booking is not None and answer_for is not None:
        # The first request wrote its booking; it may have died since (a 503). Its
        # answer is the booking as its saga ended: build and keep it, once it has ended.
        if still_running(booking):
            raise KeyStillInFlight
        return _store(record, answer_for(booking), booking)
    now = timezone.now()
    timeout = timedelta(seconds=settings.IDEMPOTENCY_IN_FLIGHT_TIMEOUT_SECONDS)
    if not holder_gone and record.claimed_at > now - timeout:
        raise KeyStillInFlight
    # Abandoned by a process that died mid-request, before it wrote a booking. One retry
    # takes it over (the conditional UPDATE decides which); the booking's own request key
    # still guards against a second booking should that process have been slow, not dead
    # (possible only past the timeout, without the lock).
    taken = IdempotencyKey.objects.filter(
        pk=record.pk, state=IdempotencyState.IN_FLIGHT, claimed_at=record.claimed_at
    ).update(claimed_at=now)
    if not taken:
        raise KeyStillInFlight
    return record


def _store(record: IdempotencyKey, answer: Answer, booking: Booking) -> Answer:
    """Keep `answer` for the key, unless one is kept already: then that one is the answer."""
    stored = IdempotencyKey.objects.filter(pk=record.pk, state=IdempotencyState.IN_FLIGHT).update(
        state=IdempotencyState.DONE,
        response_status=answer.status,
        response_body=answer.body,
        booking=booking,
    )
    if stored:
        return answer
    kept = IdempotencyKey.objects.filter(pk=record.pk, state=IdempotencyState.DONE).first()
    return _stored(kept) if kept is not None else answer


def _stored(record: IdempotencyKey) -> Answer:
    # A done key holds its answer (the CHECK idempotency_done_has_answer).
    assert record.response_status is not None and record.response_body is not None
    return Answer(status=record.response_status, body=record.response_body)


def _release_unless_booked(
    claim: IdempotencyKey, booking_made: Callable[[], Booking | None] | None
) -> None:
    """After `produce` raised: free the key if nothing was booked, else keep it in flight
    (a retry then gets the booking's answer). Never hides the original error."""
    try:
        if booking_made is None or booking_made() is None:
            IdempotencyKey.objects.filter(pk=claim.pk, state=IdempotencyState.IN_FLIGHT).delete()
    except DatabaseError:
        logger.warning("idempotency key left in flight key_id=%s", claim.pk, exc_info=True)


def purge_expired_keys(*, now: datetime) -> int:
    """Delete keys older than IDEMPOTENCY_KEY_TTL_HOURS; returns how many went."""
    cutoff = now - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
