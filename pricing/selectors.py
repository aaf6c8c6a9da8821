"""Reads of pricing's rows that the edges need."""

from pricing.cancellation import Policy, Tier
from pricing.models import CancellationPolicy


def cancellation_policy(version: int | None = None) -> Policy:
    """A version of the policy (the current one without `version`)."""
    versions = CancellationPolicy.objects.prefetch_related("tiers")
    row = versions.filter(pk=version).first() if version is not None else versions.first()
    if row is None:  # a database migrated without the seed: no refunds promised
        return Policy(version=0, tiers=(), reschedule_until_hours_before=0, max_reschedules=0)
    return Policy(
        version=row.pk,
        tiers=tuple(
            Tier(t.min_hours_before, t.refund_percent, t.fee)
            for t in sorted(row.tiers.all(), key=lambda t: -t.min_hours_before)
        ),
        reschedule_until_hours_before=row.reschedule_until_hours_before,
        max_reschedules=row.max_reschedules,
    )
