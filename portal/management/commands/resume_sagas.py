"""Resume sagas a crash left pending; compensate those past the hard deadline.

Run it every minute from cron or a systemd timer (README, "Recovery"); several
hosts may run it at once: each stuck booking is claimed by one of them.
"""

from django.core.management.base import BaseCommand, CommandError

from portal.ops.billing_sweep import issue_missing_documents
from portal.ops.recovery import resume_stuck_cancellations, resume_stuck_sagas


class Command(BaseCommand):
    help = (
        "Resume pending sagas with no progress for SAGA_TIMEOUT_SECONDS by sending their "
        "last event again; compensate those older than SAGA_HARD_DEADLINE_SECONDS; finish "
        "stuck cancellations and retry pending refunds."
    )

    def handle(self, *args, **options) -> None:
        # Each saga is claimed on its own, right before it is worked on (no batches: a
        # batch's later claims would age while the earlier sagas are worked on).
        summary = resume_stuck_sagas()
        for error in summary.errors:
            self.stderr.write(f"error: {error}")
        self.stdout.write(f"resume_sagas: {summary.as_line()}")
        resumed, refunded = resume_stuck_cancellations()
        self.stdout.write(f"resume_sagas: cancellations_resumed={resumed} refunds_made={refunded}")
        # Issue 24: receipts and refund notes a crash left unissued.
        self.stdout.write(f"resume_sagas: documents_handed_to_billing={issue_missing_documents()}")
        if summary.errors:
            raise CommandError(f"{len(summary.errors)} saga(s) could not be resumed")
