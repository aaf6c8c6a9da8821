from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        from bookings import events
        from payments import receivers

        events.DiscountQuotaReserved.signal.connect(
            receivers.on_discount_quota_reserved, dispatch_uid="payments.on_discount_quota_reserved"
        )
        events.CompensationTriggered.signal.connect(
            receivers.on_compensation_triggered, dispatch_uid="payments.on_compensation_triggered"
        )
