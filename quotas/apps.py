from django.apps import AppConfig


class QuotasConfig(AppConfig):
    name = "quotas"
    verbose_name = "Discounts per day"

    def ready(self) -> None:
        # Explicit import: a broken receivers module must crash start-up, not be skipped.
        from bookings import events
        from quotas import receivers

        events.connect(events.PricingCalculated, receivers.on_pricing_calculated)
        events.connect(events.CompensationTriggered, receivers.on_compensation_triggered)
        events.connect(events.CancellationRequested, receivers.on_cancellation_requested)
