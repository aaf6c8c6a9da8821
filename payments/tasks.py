"""The worker's payment jobs (django-q2 schedules, registered by portal/schedules.py)."""

from datetime import timedelta

from django.utils import timezone

from payments import webhooks
from payments.online import reconcile_waiting_payments
from payments.services import reconcile_pending_refunds

# A stored webhook is acted on after its request's commit; one still unprocessed this
# long after arriving lost that action (a crash, a gateway outage): the worker acts.
WEBHOOK_GRACE = timedelta(seconds=30)


def reconcile_online_payments() -> str:
    """Every minute: orders at or past expiry asked at the gateway (captures recorded,
    unpaid ones expired), unanswered reversals retried, refunds the gateway accepted
    asked about (processed or failed: a lost webhook), stranded webhooks acted on."""
    now = timezone.now()
    outcomes = reconcile_waiting_payments(now=now)
    refunds = reconcile_pending_refunds()
    acted = webhooks.process_pending(received_before=now - WEBHOOK_GRACE)
    shown = " ".join(f"{k}={v}" for k, v in sorted(outcomes.items()))
    asked = " ".join(f"refund_{k}={v}" for k, v in sorted(refunds.items()))
    return f"{shown} {asked} webhooks_acted={acted}".strip()
