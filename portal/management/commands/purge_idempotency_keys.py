from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from portal.api.idempotency import purge_expired_keys


class Command(BaseCommand):
    help = "Delete API Idempotency-Key records older than IDEMPOTENCY_KEY_TTL_HOURS (24)."

    def handle(self, *args, **options) -> None:
        deleted = purge_expired_keys(now=timezone.now())
        hours = settings.IDEMPOTENCY_KEY_TTL_HOURS
        self.stdout.write(f"Purged {deleted} idempotency keys older than {hours} hours.")
