from django.apps import AppConfig


class ConfirmationsConfig(AppConfig):
    name = "confirmations"
    verbose_name = "Confirmations"

    def ready(self) -> None:
        from bookings import events
        from confirmations import checks, receivers  # noqa: F401 - checks register themselves

        events.PaymentCompleted.signal.connect(
            receivers.on_payment_completed, dispatch_uid="confirmations.on_payment_completed"
        )
