"""Razorpay's webhooks: read the envelope, store each event once (the inbox), act on it.

The edge checks the signature over the raw body and calls `read_envelope` and
`store`; the stored row is acted on after the request's commit and, should that fail or
the process die, by the worker (`process_pending`). Razorpay retries for 24 hours and
promises no order: a repeat finds its row and does nothing, and every action is one that
may come in any order (a capture is recorded once whoever brings it first).
"""

import logging
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from payments.models import WebhookEvent
from payments.online import record_capture
from payments.services import record_gateway_refund

logger = logging.getLogger("payments")

CAPTURE_EVENTS = ("payment.captured", "order.paid")
# refund.created is not acted on: the refund was recorded before we asked for it, and
# processed or failed is what changes it (in whichever order they come).
REFUND_EVENTS = ("refund.processed", "refund.failed")
# The front desk's payment links: paid once, its payment captured (also sent as
# payment.captured with the link's own order, which is not one of ours: ignored).
LINK_PAID = "payment_link.paid"
HANDLED = (*CAPTURE_EVENTS, "payment.failed", *REFUND_EVENTS, LINK_PAID)
MAX_EVENT_ID = 64


class UnreadableEnvelope(ValueError):
    """A signed body that is not the webhook envelope we know (a 400, nothing stored)."""


def read_envelope(envelope: Any) -> str:
    """The event's name, once the parts we act on are there and of the right types."""
    if not isinstance(envelope, dict):
        raise UnreadableEnvelope("not an object")
    event = envelope.get("event")
    payload = envelope.get("payload")
    if not isinstance(event, str) or not isinstance(payload, dict):
        raise UnreadableEnvelope("no event or payload")
    if event in CAPTURE_EVENTS or event == "payment.failed":
        entity = _entity(payload, "payment")
        _require(entity, id=str, order_id=str, amount=int, currency=str, status=str)
    elif event in REFUND_EVENTS:
        _require(_entity(payload, "refund"), id=str, payment_id=str, status=str)
    elif event == LINK_PAID:
        _require(_entity(payload, "payment_link"), id=str, status=str)
        _require(_entity(payload, "payment"), id=str, amount=int, currency=str, status=str)
    return event


def _entity(payload: dict, name: str) -> dict:
    entity = (
        (payload.get(name) or {}).get("entity") if isinstance(payload.get(name), dict) else None
    )
    if not isinstance(entity, dict):
        raise UnreadableEnvelope(f"no {name} entity")
    return entity


def _require(entity: dict, **types: type) -> None:
    for key, kind in types.items():
        value = entity.get(key)
        if not isinstance(value, kind) or isinstance(value, bool) or value in ("", None):
            raise UnreadableEnvelope(f"{key} missing or not a {kind.__name__}")


def store(*, event_id: str, event_type: str, envelope: dict) -> bool:
    """Store the event once by its id; True when this call stored it (it is then acted
    on once this transaction commits). A repeat (Razorpay's retries) stores nothing."""
    try:
        with transaction.atomic():
            WebhookEvent.objects.create(event_id=event_id, event_type=event_type, payload=envelope)

            def act_after_commit() -> None:
                try:
                    process(event_id=event_id)
                except Exception:  # the row stays unprocessed: the worker tries again
                    logger.exception("webhook not processed yet event_id=%s", event_id)

            transaction.on_commit(act_after_commit)
    except IntegrityError:  # the unique event id: stored before
        return False
    return True


def process(*, event_id: str) -> None:
    row = WebhookEvent.objects.filter(event_id=event_id, processed_at__isnull=True).first()
    if row is None:
        return
    _act(row.event_type, row.payload)
    WebhookEvent.objects.filter(pk=row.pk, processed_at__isnull=True).update(
        processed_at=timezone.now()
    )


def _act(event: str, envelope: dict) -> None:
    payload = envelope["payload"]
    if event in CAPTURE_EVENTS:
        entity = payload["payment"]["entity"]
        if entity["status"] not in ("captured", "refunded"):
            return
        record_capture(
            order_id=entity["order_id"],
            gateway_payment_id=entity["id"],
            amount=(Decimal(entity["amount"]) / 100).quantize(Decimal("0.01")),
            currency=entity["currency"],
            instrument=str(entity.get("method") or ""),
        )
    elif event == LINK_PAID:
        link, paid = payload["payment_link"]["entity"], payload["payment"]["entity"]
        if paid["status"] not in ("captured", "refunded"):
            return
        record_capture(
            payment_link_id=link["id"],
            gateway_payment_id=paid["id"],
            amount=(Decimal(paid["amount"]) / 100).quantize(Decimal("0.01")),
            currency=paid["currency"],
            instrument=str(paid.get("method") or ""),
        )
    elif event in REFUND_EVENTS:
        refund = payload["refund"]["entity"]
        key = (refund.get("notes") or {}).get("idempotency_key")
        if not isinstance(key, str):
            return  # not a refund we asked for (one made on the dashboard): staff's own
        record_gateway_refund(
            idempotency_key=key,
            refund_id=refund["id"],
            # The event says what happened; the entity's status is its snapshot then.
            status="processed" if event == "refund.processed" else "failed",
        )
    # payment.failed: the patient may try the same order again until it expires.


def process_pending(*, received_before: datetime) -> int:
    """The worker: act on stored events whose after-commit action did not finish."""
    pending = WebhookEvent.objects.filter(
        processed_at__isnull=True, received_at__lt=received_before
    ).values_list("event_id", flat=True)
    done = 0
    for event_id in pending:
        try:
            process(event_id=event_id)
            done += 1
        except Exception:
            logger.exception("webhook still not processed event_id=%s", event_id)
            WebhookEvent.objects.filter(event_id=event_id).update(attempts=F("attempts") + 1)
    return done
