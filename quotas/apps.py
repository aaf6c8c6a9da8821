from django.apps import AppConfig


class QuotasConfig(AppConfig):
    name = "quotas"
    verbose_name = "Discount quotas (rule R2)"

    def ready(self) -> None:
        from bookings import events
        from quotas import receivers

        events.PricingCalculated.signal.connect(
            receivers.on_pricing_calculated, dispatch_uid="quotas.on_pricing_calculated"
        )
        events.CompensationTriggered.signal.connect(
            receivers.on_compensation_triggered, dispatch_uid="quotas.on_compensation_triggered"
        )
