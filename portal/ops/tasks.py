"""The worker's periodic jobs (django-q2 Schedule rows, registered by portal/schedules.py).

Task functions that span apps live here, at the edge; an app's own tasks live in it
(notifications/tasks.py).
"""

from django.utils import timezone

from portal import throttles
from portal.api.idempotency import purge_expired_keys
from portal.models import WorkerHeartbeat
from portal.ops.billing_sweep import issue_missing_documents
from portal.ops.recovery import resume_stuck_cancellations, resume_stuck_sagas

HEARTBEAT = "worker"


def resume_sagas() -> str:
    """Every minute: stuck bookings, then stuck cancellations and pending refunds, then
    the receipts and refund notes a crash left unissued (as `manage.py resume_sagas`)."""
    sagas = resume_stuck_sagas().as_line()
    resumed, refunded = resume_stuck_cancellations()
    documents = issue_missing_documents()
    return (
        f"{sagas} cancellations_resumed={resumed} refunds_made={refunded} "
        f"documents_handed_to_billing={documents}"
    )


def purge_idempotency_keys() -> int:
    return purge_expired_keys(now=timezone.now())


def purge_throttle_windows() -> int:
    return throttles.purge_throttle_windows(now=timezone.now())


def heartbeat() -> None:
    WorkerHeartbeat.objects.update_or_create(name=HEARTBEAT, defaults={"beat_at": timezone.now()})


def worker_is_late(*, late_after_seconds: int) -> bool:
    beat = WorkerHeartbeat.objects.filter(name=HEARTBEAT).values_list("beat_at", flat=True).first()
    return beat is None or (timezone.now() - beat).total_seconds() > late_after_seconds
