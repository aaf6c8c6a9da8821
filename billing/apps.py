from django.apps import AppConfig
from django.db.models.signals import post_migrate

# The settings row the migration creates: a demo clinic, not registered for GST (plain
# receipts) until the manager enters the clinic's own name, address and GSTIN.
DEMO_CLINIC = {
    "legal_name": "Demo Clinic",
    "address": "12 MG Road, Bengaluru 560001, Karnataka",
    "state": "29",
    "gstin": "",
    "receipt_prefix": "CLN",
}


def ensure_settings_row(**_) -> None:
    """After every migrate (and a test database's flush, which runs post_migrate too),
    the settings row exists: issuing a document only reads it."""
    from billing.models import BillingSettings

    BillingSettings.objects.get_or_create(pk=BillingSettings.SINGLETON_ID, defaults=DEMO_CLINIC)


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing: receipts and refund notes"

    def ready(self) -> None:
        # Explicit import: a broken receivers module must crash start-up, not be skipped.
        from billing import receivers
        from bookings import events

        events.connect(events.PaymentCompleted, receivers.on_payment_completed)
        events.connect(events.PaymentRefunded, receivers.on_payment_refunded)
        post_migrate.connect(ensure_settings_row, sender=self, dispatch_uid="billing.settings_row")
