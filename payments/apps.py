from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        # Explicit import: a broken receivers module must crash start-up, not be skipped.
        from bookings import events
        from payments import checks, receivers  # noqa: F401 (checks register themselves)

        events.connect(events.DiscountQuotaReserved, receivers.on_discount_quota_reserved)
        events.connect(events.CompensationTriggered, receivers.on_compensation_triggered)
        events.connect(events.CancellationRequested, receivers.on_cancellation_requested)
